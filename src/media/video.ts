import { errors, ShoeboxError } from '../core/errors.js';
import type { MediaBinaries } from './binaries.js';
import { runProcess } from './run-process.js';

export interface VideoProbe {
  width: number;
  height: number;
  /** Seconds, whole (as the API reports it). */
  duration: number;
  /** Seconds with fractions, for picking a frame. */
  exactDuration: number;
}

export interface VideoLimits {
  timeoutMs: number;
  maxSeconds: number;
}

interface FfprobeOutput {
  streams?: { codec_type?: string; width?: number; height?: number; tags?: { rotate?: string }; side_data_list?: { rotation?: number }[] }[];
  format?: { duration?: string };
}

function requireBinary(binary: string | undefined, name: string): string {
  if (!binary) throw new ShoeboxError(613, 415, `Video is not available on this site (no ${name})`);
  return binary;
}

/** Width, height (rotation applied) and duration of the first video stream; refuses files with none. */
export async function probeVideo(file: string, binaries: MediaBinaries, limits: VideoLimits): Promise<VideoProbe> {
  const ffprobe = requireBinary(binaries.ffprobe, 'ffprobe');
  let result;
  try {
    result = await runProcess(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], limits.timeoutMs);
  } catch (error) {
    throw errors.unreadable((error as Error).message);
  }
  if (result.code !== 0) throw errors.unreadable(result.stderr.trim().split('\n')[0] || 'ffprobe failed');
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(result.stdout) as FfprobeOutput;
  } catch {
    throw errors.unreadable('ffprobe output unreadable');
  }
  const stream = parsed.streams?.find((s) => s.codec_type === 'video' && s.width && s.height);
  if (!stream) throw errors.unreadable('no video stream');
  const rotation = Math.abs(Number(stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? stream.tags?.rotate ?? 0)) % 180;
  const exactDuration = Number(parsed.format?.duration ?? 0) || 0;
  if (limits.maxSeconds > 0 && exactDuration > limits.maxSeconds) {
    throw new ShoeboxError(400, 413, `Video too long - max ${limits.maxSeconds} seconds`);
  }
  const [width, height] = rotation === 90 ? [stream.height!, stream.width!] : [stream.width!, stream.height!];
  return { width, height, duration: Math.floor(exactDuration), exactDuration };
}

/** A JPEG still at `atSeconds` (ffmpeg applies rotation itself). */
export async function extractVideoFrame(file: string, atSeconds: number, target: string, binaries: MediaBinaries, limits: VideoLimits): Promise<void> {
  const ffmpeg = requireBinary(binaries.ffmpeg, 'ffmpeg');
  const attempt = async (seconds: number) =>
    runProcess(ffmpeg, ['-v', 'error', '-y', '-ss', String(seconds), '-i', file, '-frames:v', '1', '-q:v', '3', '-f', 'image2', target], limits.timeoutMs);
  let result;
  try {
    result = await attempt(atSeconds);
    // Very short clips can have no frame at the chosen time; the first frame always exists.
    if (result.code !== 0 && atSeconds > 0) result = await attempt(0);
  } catch (error) {
    throw errors.unreadable((error as Error).message);
  }
  if (result.code !== 0) throw errors.unreadable(result.stderr.trim().split('\n')[0] || 'ffmpeg could not extract a frame');
}
