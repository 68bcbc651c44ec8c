import { stat } from 'node:fs/promises';
import { errors } from '../core/errors.js';
import type { MediaBinaries } from './binaries.js';
import { parseDateTime, type DateTaken } from './date-taken.js';
import { runProcess } from './run-process.js';

export interface VideoProbe {
  /** Upright: a phone video stored sideways with a rotation flag reports its displayed size. */
  width: number;
  height: number;
  /** Seconds, whole (as the API reports it). */
  duration: number;
  /** Seconds with fractions, for picking a frame. */
  exactDuration: number;
  /** From the container's tags, when the recorder wrote them. */
  title: string | null;
  description: string | null;
  createdAt: DateTaken | null;
  /** Index of the stream used, for ffmpeg's `-map 0:<index>`. */
  streamIndex: number;
}

export interface VideoLimits {
  /** Every ffprobe/ffmpeg call is killed after this long. */
  timeoutMs: number;
  /** Longest accepted video, seconds; 0 = no limit. */
  maxSeconds: number;
  /** Largest accepted frame size (width × height), as for images. */
  maxPixels?: number;
}

type Tags = Record<string, string | undefined>;

interface FfprobeStream {
  index?: number;
  codec_type?: string;
  width?: number;
  height?: number;
  duration?: string;
  disposition?: { attached_pic?: number };
  tags?: Tags;
  side_data_list?: { rotation?: number }[];
}

interface FfprobeOutput {
  streams?: FfprobeStream[];
  format?: { duration?: string; tags?: Tags };
}

function requireBinary(binary: string | undefined, name: string): string {
  if (!binary) throw errors.videoUnavailable(name);
  return binary;
}

function firstLine(text: string, fallback: string): string {
  return text.trim().split('\n')[0] || fallback;
}

/** Tag names differ in case between muxers (`title`, `TITLE`, `©nam` mapped to `title`). */
function tag(tags: Tags | undefined, ...names: string[]): string | null {
  if (!tags) return null;
  const lower = Object.fromEntries(Object.entries(tags).map(([k, v]) => [k.toLowerCase(), v]));
  for (const name of names) {
    // Control characters (NUL above all, which PostgreSQL text refuses) never reach the row.
    // eslint-disable-next-line no-control-regex
    const value = lower[name.toLowerCase()]?.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').trim();
    if (value) return value.slice(0, 5000);
  }
  return null;
}

/**
 * Containers written without an index (a browser's MediaRecorder, a live stream saved to
 * disk) carry no duration; ffmpeg then reads the packets, without decoding, to find the end.
 */
async function durationFromPackets(file: string, streamIndex: number, binaries: MediaBinaries, timeoutMs: number): Promise<number> {
  if (!binaries.ffmpeg) return 0;
  const result = await runProcess(binaries.ffmpeg, ['-nostdin', '-hide_banner', '-i', file, '-map', `0:${streamIndex}`, '-c', 'copy', '-f', 'null', '-'], timeoutMs);
  const times = [...result.stderr.matchAll(/time=(\d+):(\d{2}):(\d{2}(?:\.\d+)?)/g)];
  const last = times.at(-1);
  return last ? Number(last[1]) * 3600 + Number(last[2]) * 60 + Number(last[3]) : 0;
}

/**
 * Size (rotation applied), duration and tags of the first real video stream; refuses files
 * with none (an audio-only MP4, or one whose only picture is cover art) with the API's 610.
 */
export async function probeVideo(file: string, binaries: MediaBinaries, limits: VideoLimits): Promise<VideoProbe> {
  const ffprobe = requireBinary(binaries.ffprobe, 'ffprobe');
  let result;
  try {
    result = await runProcess(ffprobe, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', file], limits.timeoutMs);
  } catch (error) {
    throw errors.unreadable((error as Error).message);
  }
  if (result.code !== 0) throw errors.unreadable(firstLine(result.stderr, 'ffprobe failed'));
  let parsed: FfprobeOutput;
  try {
    parsed = JSON.parse(result.stdout) as FfprobeOutput;
  } catch {
    throw errors.unreadable('ffprobe output unreadable');
  }
  const stream = parsed.streams?.find((s) => s.codec_type === 'video' && s.width && s.height && !s.disposition?.attached_pic);
  if (!stream) throw errors.unreadable('no video stream');
  const rotation = Math.abs(Number(stream.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? stream.tags?.rotate ?? 0)) % 180;
  const [width, height] = rotation === 90 ? [stream.height!, stream.width!] : [stream.width!, stream.height!];
  if (limits.maxPixels && width * height > limits.maxPixels) throw errors.tooManyPixels(limits.maxPixels);
  const streamIndex = stream.index ?? 0;

  let exactDuration = Number(parsed.format?.duration ?? stream.duration ?? 0) || 0;
  if (exactDuration <= 0) {
    try {
      exactDuration = await durationFromPackets(file, streamIndex, binaries, limits.timeoutMs);
    } catch (error) {
      throw errors.unreadable((error as Error).message);
    }
  }
  if (limits.maxSeconds > 0 && exactDuration > limits.maxSeconds) {
    throw errors.videoTooLong(limits.maxSeconds);
  }
  const tags = parsed.format?.tags;
  return {
    width,
    height,
    duration: Math.floor(exactDuration),
    exactDuration,
    title: tag(tags, 'title'),
    description: tag(tags, 'description', 'comment', 'synopsis'),
    createdAt: parseDateTime(tag(tags, 'com.apple.quicktime.creationdate', 'creation_time')),
    streamIndex,
  };
}

async function nonEmpty(file: string): Promise<boolean> {
  return (await stat(file).catch(() => null))?.size ? true : false;
}

/** A JPEG still at `atSeconds`, upright (ffmpeg applies the rotation flag itself). */
export async function extractVideoFrame(
  file: string,
  atSeconds: number,
  target: string,
  binaries: MediaBinaries,
  limits: VideoLimits,
  streamIndex?: number,
): Promise<void> {
  const ffmpeg = requireBinary(binaries.ffmpeg, 'ffmpeg');
  const map = streamIndex === undefined ? '0:v:0' : `0:${streamIndex}`;
  const attempt = async (seconds: number) =>
    runProcess(ffmpeg, ['-nostdin', '-v', 'error', '-y', '-ss', String(seconds), '-i', file, '-map', map, '-an', '-sn', '-dn', '-frames:v', '1', '-q:v', '3', '-f', 'image2', target], limits.timeoutMs);
  let result;
  try {
    result = await attempt(atSeconds);
    // A clip can end before the chosen time (durations round, timestamps start late); the first frame always exists.
    if ((result.code !== 0 || !(await nonEmpty(target))) && atSeconds > 0) result = await attempt(0);
  } catch (error) {
    throw errors.unreadable((error as Error).message);
  }
  if (result.code !== 0) throw errors.unreadable(firstLine(result.stderr, 'ffmpeg could not extract a frame'));
  if (!(await nonEmpty(target))) throw errors.unreadable('no frame could be read from the video');
}
