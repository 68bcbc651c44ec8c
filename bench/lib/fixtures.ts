import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { runCommand } from './processes.js';

/**
 * A photo-like JPEG: smooth shapes (upscaled coarse noise) plus fine grain, so it compresses
 * and decodes like a camera picture (a 12 MP one comes out at about 4–5 MB) rather than like
 * a flat colour, which libjpeg would decode unrealistically fast.
 */
export async function writePhotoJpeg(target: string, width: number, height: number, quality = 90): Promise<number> {
  const coarse = await sharp({ create: { width: Math.max(8, Math.round(width / 8)), height: Math.max(8, Math.round(height / 8)), channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
    .png()
    .toBuffer();
  const pixels = await sharp(coarse).resize(width, height, { kernel: 'cubic' }).raw().toBuffer();
  const grain = await sharp({ create: { width, height, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 0, sigma: 12 } } }).raw().toBuffer();
  for (let i = 0; i < pixels.length; i++) {
    const v = pixels[i] + grain[i];
    pixels[i] = v > 255 ? 255 : v;
  }
  const info = await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg({ quality }).toFile(target);
  return info.size;
}

/**
 * An H.264 MP4 of about `bytes`: a short clip of noise (which does not compress) encoded
 * once, then repeated by stream copy, so a gigabyte takes seconds to make instead of minutes.
 */
export async function writeBigVideo(target: string, bytes: number, scratch: string): Promise<number> {
  const clip = `${scratch}.clip.mp4`;
  await runCommand('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', 'color=c=gray:s=640x360:r=25,noise=alls=80:allf=t+u',
    '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p', clip,
  ]);
  const clipSize = (await stat(clip)).size;
  const loops = Math.ceil(bytes / clipSize);
  await runCommand('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-stream_loop', String(loops), '-i', clip, '-c', 'copy', '-fs', String(bytes), '-movflags', '+faststart', target,
  ]);
  return (await stat(target)).size;
}
