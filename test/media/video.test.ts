import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveMediaBinaries, type MediaBinaries } from '../../src/media/binaries.js';
import { prepareVideo, type VideoPreparationSettings } from '../../src/media/prepare-video.js';
import { runProcess } from '../../src/media/run-process.js';
import { probeVideo } from '../../src/media/video.js';
import { makeVideo, type VideoKind } from './media-fixtures.js';

const SETTINGS: VideoPreparationSettings = { mediaTimeoutMs: 60_000, maxVideoSeconds: 3600, maxPixels: 100_000_000, thumbWidth: 320, thumbHeight: 320 };

let dir: string;
const files = new Map<VideoKind, string>();
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shoebox-video-'));
  for (const kind of ['mp4', 'mov', 'webm', 'rotated-mp4', 'live-webm', 'audio-only-mp4', 'tagged-mov'] as VideoKind[]) {
    const file = path.join(dir, `${kind}.bin`);
    await writeFile(file, await makeVideo(kind, dir));
    files.set(kind, file);
  }
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function prepare(kind: VideoKind, binaries: MediaBinaries = resolveMediaBinaries({}), settings: Partial<VideoPreparationSettings> = {}) {
  const workDir = await mkdtemp(path.join(dir, 'job-'));
  return prepareVideo(files.get(kind)!, workDir, binaries, { ...SETTINGS, ...settings });
}

async function sizeOf(file: string) {
  const meta = await sharp(await readFile(file)).metadata();
  return [meta.format, meta.width, meta.height];
}

describe('video probe, frame and thumb', () => {
  it.each([
    ['mp4', 2],
    ['mov', 2],
    ['webm', 2],
  ] as const)('%s: size, whole seconds, a JPEG frame and a thumb cut from it', async (kind, seconds) => {
    const { probe, frame, thumb } = await prepare(kind);
    expect([probe.width, probe.height, probe.duration]).toEqual([160, 90, seconds]);
    expect(await sizeOf(frame.path)).toEqual(['jpeg', 160, 90]);
    expect(await sizeOf(thumb.path)).toEqual(['jpeg', 160, 90]);
  });

  it('a video with a rotation flag reports, and frames, its upright size', async () => {
    const { probe, frame, thumb } = await prepare('rotated-mp4');
    expect([probe.width, probe.height]).toEqual([90, 160]);
    expect(await sizeOf(frame.path)).toEqual(['jpeg', 90, 160]);
    expect(await sizeOf(thumb.path)).toEqual(['jpeg', 90, 160]);
  });

  it('finds the length of a WEBM written without an index (as MediaRecorder writes)', async () => {
    const { probe } = await prepare('live-webm');
    // 60 frames at 10 fps: the last one starts at 5.9 s.
    expect(probe.exactDuration).toBeCloseTo(5.9, 1);
    expect(probe.duration).toBe(5);
  });

  it('reads title, description and creation time from the container tags', async () => {
    const { probe } = await prepare('tagged-mov');
    expect(probe.title).toBe('Harbour timelapse');
    expect(probe.description).toBe('Boats leaving at dawn');
    expect(probe.createdAt).toEqual({ wall: '2020-05-06 07:08:09', offsetMinutes: 0 });
    const plain = await prepare('mp4');
    expect([plain.probe.title, plain.probe.description]).toEqual([null, null]);
  });

  it('refuses a file with no video stream (audio-only MP4) with 610', async () => {
    await expect(prepare('audio-only-mp4')).rejects.toMatchObject({ code: 610, httpStatus: 400 });
  });

  it('refuses videos over the duration and pixel limits', async () => {
    await expect(prepare('mp4', undefined, { maxVideoSeconds: 1 })).rejects.toMatchObject({ httpStatus: 413, message: 'Video too long - max 1 seconds' });
    await expect(prepare('mp4', undefined, { maxPixels: 160 * 90 - 1 })).rejects.toMatchObject({ httpStatus: 413 });
  });

  it('answers 613 (not a crash) when the site has no ffprobe at all', async () => {
    await expect(prepare('mp4', { ffmpeg: undefined, ffprobe: undefined })).rejects.toMatchObject({ code: 613, httpStatus: 415 });
  });

  it('refuses a file that is not a video, whatever its name', async () => {
    const fake = path.join(dir, 'fake.mp4');
    await writeFile(fake, Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(200, 7)]));
    await expect(probeVideo(fake, resolveMediaBinaries({}), { timeoutMs: 60_000, maxSeconds: 0 })).rejects.toMatchObject({ code: 610 });
  });
});

describe('the npm-shipped ffmpeg/ffprobe (video right after npm install)', () => {
  const shipped = resolveMediaBinaries({}, true);

  it('resolves to the binaries inside @ffmpeg-installer / @ffprobe-installer', () => {
    expect(shipped.ffmpeg).toMatch(/node_modules\/@ffmpeg-installer\/.+\/ffmpeg$/);
    expect(shipped.ffprobe).toMatch(/node_modules\/@ffprobe-installer\/.+\/ffprobe$/);
  });

  it.each(['mp4', 'webm', 'rotated-mp4'] as const)('probes %s and takes its frame', async (kind) => {
    const { probe, frame } = await prepare(kind, shipped);
    const expected = kind === 'rotated-mp4' ? [90, 160] : [160, 90];
    expect([probe.width, probe.height]).toEqual(expected);
    expect(await sizeOf(frame.path)).toEqual(['jpeg', ...expected]);
  });

  it('still refuses an audio-only file', async () => {
    await expect(prepare('audio-only-mp4', shipped)).rejects.toMatchObject({ code: 610 });
  });

  it('a configured path wins over PATH and the shipped build', () => {
    expect(resolveMediaBinaries({ ffmpegPath: '/opt/ffmpeg/bin/ffmpeg', ffprobePath: '/opt/ffmpeg/bin/ffprobe' }))
      .toEqual({ ffmpeg: '/opt/ffmpeg/bin/ffmpeg', ffprobe: '/opt/ffmpeg/bin/ffprobe' });
  });
});

describe('every external call has a time limit', () => {
  it('kills a process that outlives its limit and says so', async () => {
    await expect(runProcess('sleep', ['30'], 200)).rejects.toThrow(/timed out after 200 ms/);
  });
});
