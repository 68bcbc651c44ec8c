import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import type { MediaBinaries } from './binaries.js';
import { renderThumbFromFrame, type RenderedFile } from './image.js';
import { perceptualHashOfFile } from './perceptual-hash.js';
import { extractVideoFrame, probeVideo, type VideoProbe } from './video.js';

/**
 * What an uploaded video becomes: the file as uploaded, a frame (`.fr.jpeg`) taken at a
 * quarter of its length (Chevereto's floor(duration / 4)), and a thumb cut from that frame.
 * Every ffprobe/ffmpeg call runs under SHOEBOX_MEDIA_TIMEOUT.
 */

export type VideoPreparationSettings = Pick<Settings, 'mediaTimeoutMs' | 'maxVideoSeconds' | 'maxPixels' | 'thumbWidth' | 'thumbHeight'>;

export interface PreparedVideo {
  probe: VideoProbe;
  frame: RenderedFile;
  thumb: RenderedFile;
  /** Perceptual hash of the frame (null if it could not be computed). */
  phash: string | null;
}

export async function prepareVideo(file: string, workDir: string, binaries: MediaBinaries, settings: VideoPreparationSettings): Promise<PreparedVideo> {
  const limits = { timeoutMs: settings.mediaTimeoutMs, maxSeconds: settings.maxVideoSeconds, maxPixels: settings.maxPixels };
  const probe = await probeVideo(file, binaries, limits);
  const framePath = path.join(workDir, 'out.fr.jpeg');
  await extractVideoFrame(file, Math.floor(probe.exactDuration / 4), framePath, binaries, limits, probe.streamIndex);
  const frame: RenderedFile = { path: framePath, size: (await stat(framePath)).size, width: probe.width, height: probe.height };
  const thumb = await renderThumbFromFrame(framePath, path.join(workDir, 'out.th.jpeg'), { width: settings.thumbWidth, height: settings.thumbHeight });
  const phash = await perceptualHashOfFile(framePath).catch(() => null);
  return { probe, frame, thumb, phash };
}
