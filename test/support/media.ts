import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** Real images made by sharp, so every test file is a genuine encoding. */
export async function makeJpeg(width = 800, height = 600, color = '#3a7'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } }).jpeg({ quality: 80 }).toBuffer();
}

export async function makePng(width = 64, height = 48, color = '#c33'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: color } }).png().toBuffer();
}

/** An animated GIF or WebP with `frames` frames of different colours. */
export async function makeAnimated(format: 'gif' | 'webp', width = 600, height = 300, frames = 3): Promise<Buffer> {
  const colours = ['#f00', '#0f0', '#00f', '#ff0', '#0ff'];
  const frameBuffers = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width, height, channels: 4, background: colours[i % colours.length] } }).png().toBuffer(),
    ),
  );
  return sharp(frameBuffers, { join: { animated: true } })[format]({ loop: 0, delay: 100 } as never).toBuffer();
}

/** A 24-bit BMP, written by hand (sharp cannot encode BMP). */
export function makeBmp(width = 40, height = 30): Buffer {
  const rowSize = Math.ceil((width * 3) / 4) * 4;
  const pixelBytes = rowSize * height;
  const buf = Buffer.alloc(54 + pixelBytes);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(54 + pixelBytes, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(pixelBytes, 34);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const o = 54 + y * rowSize + x * 3;
    buf[o] = 200; buf[o + 1] = 100; buf[o + 2] = 50;
  }
  return buf;
}

/**
 * A real PNG that the pipeline accepts, made `bytes` long by a private ancillary chunk of random
 * bytes (decoders skip such chunks; the image stays 640×480). Returns its md5.
 */
export async function writeBigPng(bytes: number, file: string): Promise<string> {
  const png = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#468' } }).png().toBuffer();
  const signatureAndHeader = png.subarray(0, 33);
  const rest = png.subarray(33);
  const out = createWriteStream(file);
  const md5 = createHash('md5');
  const write = (chunk: Buffer) => {
    md5.update(chunk);
    return new Promise<void>((resolve, reject) => out.write(chunk, (error) => (error ? reject(error) : resolve())));
  };
  await write(signatureAndHeader);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes);
  const type = Buffer.from('shBx');
  await write(length);
  await write(type);
  let crc = crc32(type);
  const block = 8 * 1024 * 1024;
  for (let done = 0; done < bytes; done += block) {
    const random = randomBytes(Math.min(block, bytes - done));
    crc = crc32(random, crc);
    await write(random);
  }
  const crcBytes = Buffer.alloc(4);
  crcBytes.writeUInt32BE(crc >>> 0);
  await write(crcBytes);
  await write(rest);
  await new Promise<void>((resolve) => out.end(resolve));
  return md5.digest('hex');
}
