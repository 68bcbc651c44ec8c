import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as exifr from 'exifr';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/media/formats.js';
import { prepareImage, type ImagePreparationSettings } from '../../src/media/prepare-image.js';
import { makeAnimated } from '../support/media.js';
import {
  closeTo, cornerColours, makeCameraJpeg, makeOrientedJpeg, pngBombHeader, QUADRANTS, readFixture,
} from './media-fixtures.js';

const SETTINGS: ImagePreparationSettings = {
  maxPixels: 100_000_000, maxAnimationFrames: 1000, heicOutput: 'jpeg', stripMetadata: 'none',
  mediaTimeoutMs: 60_000, thumbWidth: 320, thumbHeight: 320, mediumWidth: 500,
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'shoebox-prepare-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function prepare(bytes: Buffer, format: keyof typeof FORMATS, options: { width?: number; settings?: Partial<ImagePreparationSettings>; name?: string } = {}) {
  const workDir = await mkdtemp(path.join(root, 'job-'));
  const file = path.join(workDir, 'upload');
  await writeFile(file, bytes);
  const result = await prepareImage(
    { file, format: FORMATS[format], originalFilename: options.name ?? `photo.${format}`, workDir, width: options.width },
    { ...SETTINGS, ...options.settings },
  );
  return { ...result, workDir, upload: file };
}

function expectUpright(corners: Awaited<ReturnType<typeof cornerColours>>, label: string) {
  for (const key of Object.keys(QUADRANTS) as (keyof typeof QUADRANTS)[]) {
    expect(closeTo(corners[key], QUADRANTS[key]), `${label} ${key}: ${corners[key]}`).toBe(true);
  }
}

describe('EXIF orientation', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i: upright size, thumb and medium; the original kept byte for byte', async (orientation) => {
    const jpeg = await makeOrientedJpeg(orientation);
    const prepared = await prepare(jpeg, 'jpg');
    expect([prepared.width, prepared.height]).toEqual([640, 400]);
    expect(prepared.main.rewritten).toBe(false);
    expect((await readFile(prepared.main.path)).equals(jpeg)).toBe(true);
    expectUpright(await cornerColours(await readFile(prepared.thumb.path)), 'thumb');
    const medium = await readFile(prepared.medium!.path);
    expect((await sharp(medium).metadata()).width).toBe(500);
    expectUpright(await cornerColours(medium), 'medium');
  });

  it('a resized rotated photo is stored upright with Orientation 1', async () => {
    const prepared = await prepare(await makeOrientedJpeg(6), 'jpg', { width: 320 });
    const stored = await readFile(prepared.main.path);
    const meta = await sharp(stored).metadata();
    expect([meta.width, meta.height, meta.orientation ?? 1]).toEqual([320, 200, 1]);
    expect([prepared.width, prepared.height]).toEqual([320, 200]);
    expectUpright(await cornerColours(stored), 'stored');
  });
});

describe('hard limits, before decoding', () => {
  it('refuses a 40000x40000 PNG header as too large, without writing a single derivative', async () => {
    const bomb = pngBombHeader(40000, 40000);
    expect(bomb.length).toBeLessThan(2000);
    const workDir = await mkdtemp(path.join(root, 'bomb-'));
    await writeFile(path.join(workDir, 'upload'), bomb);
    await expect(
      prepareImage({ file: path.join(workDir, 'upload'), format: FORMATS.png, originalFilename: 'bomb.png', workDir }, SETTINGS),
    ).rejects.toMatchObject({ code: 400, httpStatus: 413, message: expect.stringMatching(/^Image too large - max 100,000,000 pixels/) });
    expect(await readdir(workDir)).toEqual(['upload']);
  });

  it('refuses a truncated JPEG as unreadable (610)', async () => {
    const whole = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
    await expect(prepare(whole.subarray(0, Math.floor(whole.length * 0.6)), 'jpg')).rejects.toMatchObject({ code: 610, httpStatus: 400 });
  });

  it('refuses animations over the frame limit', async () => {
    await expect(prepare(await makeAnimated('gif', 100, 50, 3), 'gif', { settings: { maxAnimationFrames: 2 } }))
      .rejects.toMatchObject({ httpStatus: 413, message: 'Too many animation frames - max 2' });
  });
});

describe('animation', () => {
  it.each(['gif', 'webp'] as const)('%s: flagged animated, original untouched, medium animated even when small', async (format) => {
    const bytes = await makeAnimated(format, 300, 150, 3);
    const prepared = await prepare(bytes, format);
    expect(prepared.isAnimated).toBe(true);
    expect(prepared.main.rewritten).toBe(false);
    const medium = await sharp(await readFile(prepared.medium!.path), { animated: true }).metadata();
    expect(medium.pages).toBe(3);
    expect(medium.width).toBe(300);
    expect((await sharp(await readFile(prepared.thumb.path)).metadata()).pages ?? 1).toBe(1);
  });

  it.each(['gif', 'webp'] as const)('%s: a width resize keeps every frame', async (format) => {
    const prepared = await prepare(await makeAnimated(format, 600, 300, 3), format, { width: 200 });
    const stored = await sharp(await readFile(prepared.main.path), { animated: true }).metadata();
    expect([stored.width, stored.pageHeight, stored.pages]).toEqual([200, 100, 3]);
  });
});

describe('width', () => {
  const stills = {
    jpg: () => sharp({ create: { width: 400, height: 300, channels: 3, background: '#357' } }).jpeg().toBuffer(),
    png: () => sharp({ create: { width: 400, height: 300, channels: 4, background: '#357' } }).png().toBuffer(),
    webp: () => sharp({ create: { width: 400, height: 300, channels: 3, background: '#357' } }).webp().toBuffer(),
    gif: () => sharp({ create: { width: 400, height: 300, channels: 3, background: '#357' } }).gif().toBuffer(),
    avif: () => sharp({ create: { width: 400, height: 300, channels: 3, background: '#357' } }).avif().toBuffer(),
  };
  it.each(Object.keys(stills) as (keyof typeof stills)[])('%s: resizes to a smaller width and refuses a larger one with 610', async (format) => {
    const bytes = await stills[format]();
    const prepared = await prepare(bytes, format, { width: 100 });
    expect([prepared.width, prepared.height]).toEqual([100, 75]);
    expect((await sharp(await readFile(prepared.main.path)).metadata()).width).toBe(100);
    expect(prepared.main.rewritten).toBe(true);
    await expect(prepare(bytes, format, { width: 401 })).rejects.toMatchObject({
      code: 610, httpStatus: 400, message: 'Target width is greater than the original image width',
    });
    const same = await prepare(bytes, format, { width: 400 });
    expect(same.main.rewritten).toBe(false);
  });
});

describe('HEIC', () => {
  it('converts to an upright JPEG that keeps the EXIF (Orientation 1)', async () => {
    const prepared = await prepare(await readFixture('phone.heic'), 'heic', { name: 'IMG_0001.HEIC' });
    expect([prepared.storedExtension, prepared.mime, prepared.width, prepared.height]).toEqual(['jpeg', 'image/jpeg', 96, 64]);
    const stored = await readFile(prepared.main.path);
    expect((await fileTypeFromBuffer(stored))?.mime).toBe('image/jpeg');
    const corners = await cornerColours(stored);
    expect(closeTo(corners.topLeft, [220, 30, 30], 50) && closeTo(corners.topRight, [30, 30, 220], 50)).toBe(true);
    const tags = await exifr.parse(stored, { translateValues: false });
    expect(tags).toMatchObject({ Make: 'ShoeboxTest', Orientation: 1 });
    expect(prepared.metadata.description).toBe('Harbour at dawn');
  });

  it('a portrait iPhone-style HEIC (irot + EXIF Orientation 6) is turned once, not twice', async () => {
    const prepared = await prepare(await readFixture('portrait.heic'), 'heic');
    expect([prepared.width, prepared.height]).toEqual([64, 96]);
    for (const file of [prepared.main.path, prepared.thumb.path]) {
      const corners = await cornerColours(await readFile(file));
      expect(closeTo(corners.topLeft, [220, 30, 30], 50) && closeTo(corners.topRight, [220, 30, 30], 50), `${file} top red`).toBe(true);
      expect(closeTo(corners.bottomLeft, [30, 30, 220], 50), `${file} bottom blue`).toBe(true);
    }
    expect((await sharp(await readFile(prepared.main.path)).metadata()).orientation ?? 1).toBe(1);
  });

  it('decodes many HEICs at once (queued, none lost)', async () => {
    const bytes = await readFixture('portrait.heic');
    const results = await Promise.all(Array.from({ length: 8 }, () => prepare(bytes, 'heic')));
    expect(results.map((r) => `${r.width}x${r.height}`)).toEqual(Array(8).fill('64x96'));
  });

  it('converts to AVIF when the site says so', async () => {
    const prepared = await prepare(await readFixture('phone.heic'), 'heic', { settings: { heicOutput: 'avif' } });
    expect([prepared.storedExtension, prepared.mime]).toEqual(['avif', 'image/avif']);
    expect((await fileTypeFromBuffer(await readFile(prepared.main.path)))?.mime).toBe('image/avif');
  });

  it('checks the header against the pixel limit before decoding', async () => {
    await expect(prepare(await readFixture('phone.heic'), 'heic', { settings: { maxPixels: 1000 } }))
      .rejects.toMatchObject({ httpStatus: 413 });
  });

  it('refuses a truncated HEIC with 610', async () => {
    const bytes = await readFixture('phone.heic');
    const truncated = bytes.subarray(0, bytes.indexOf(Buffer.from('mdat')) + 40); // header intact, picture cut short
    await expect(prepare(truncated, 'heic')).rejects.toMatchObject({ code: 610 });
  });
});

describe('TIFF', () => {
  it('is stored as PNG (first page), upright', async () => {
    const tiff = await sharp(await makeOrientedJpeg(1, 200, 120)).tiff().toBuffer();
    const prepared = await prepare(tiff, 'tiff');
    expect([prepared.storedExtension, prepared.mime, prepared.width, prepared.height]).toEqual(['png', 'image/png', 200, 120]);
    expect((await fileTypeFromBuffer(await readFile(prepared.main.path)))?.mime).toBe('image/png');
  });
});

describe('SHOEBOX_STRIP_METADATA beyond JPEG', () => {
  const pngWithExif = () => sharp({ create: { width: 60, height: 40, channels: 3, background: '#246' } })
    .withExif({ IFD0: { Make: 'PngCam' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2964/100' } })
    .png().toBuffer();

  it('none: a PNG with EXIF stays byte-identical', async () => {
    const png = await pngWithExif();
    const prepared = await prepare(png, 'png');
    expect(prepared.main.rewritten).toBe(false);
    expect(prepared.metadata.exif).toMatchObject({ Make: 'PngCam' });
  });

  it.each(['gps', 'all'] as const)('%s: a PNG carrying a location is re-encoded without it, pixels unchanged', async (mode) => {
    const png = await pngWithExif();
    const prepared = await prepare(png, 'png', { settings: { stripMetadata: mode } });
    expect(prepared.main.rewritten).toBe(true);
    const stored = await readFile(prepared.main.path);
    expect((await sharp(stored).metadata()).exif).toBeUndefined();
    const [a, b] = await Promise.all([sharp(png).raw().toBuffer(), sharp(stored).raw().toBuffer()]);
    expect(a.equals(b)).toBe(true);
    expect(prepared.metadata.exif === null || !Object.keys(prepared.metadata.exif).some((k) => k.startsWith('GPS'))).toBe(true);
  });

  it('gps: a resized JPEG keeps its EXIF but not the location', async () => {
    const prepared = await prepare(await makeCameraJpeg({ width: 600, height: 400 }), 'jpg', { width: 300, settings: { stripMetadata: 'gps' } });
    const tags = await exifr.parse(await readFile(prepared.main.path), { gps: true });
    expect(tags.Make).toBe('ShoeboxCam');
    expect(tags.latitude).toBeUndefined();
  });

  it('none: a resized JPEG keeps its EXIF, location included', async () => {
    const prepared = await prepare(await makeCameraJpeg({ width: 600, height: 400 }), 'jpg', { width: 300 });
    const tags = await exifr.parse(await readFile(prepared.main.path), { gps: true });
    expect(tags.Make).toBe('ShoeboxCam');
    expect(tags.latitude).toBeCloseTo(48.858, 2);
  });
});
