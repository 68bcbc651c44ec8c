import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FORMATS } from '../../src/media/formats.js';
import { prepareImage, type ImagePreparationSettings } from '../../src/media/prepare-image.js';

/**
 * The thumb and medium are cut from one shared, shrunk-on-load decode of the source
 * (src/media/image.ts decodeOnceForDerivatives), or, past its memory cap, each from the
 * source on its own. Either way they must look the same to a user: right sizes, right
 * colours, centre crop, alpha kept.
 */

const SETTINGS: ImagePreparationSettings = {
  maxPixels: 100_000_000, maxAnimationFrames: 1000, heicOutput: 'jpeg', stripMetadata: 'none',
  mediaTimeoutMs: 60_000, thumbWidth: 320, thumbHeight: 320, mediumWidth: 500,
};

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'shoebox-shared-decode-'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function prepare(bytes: Buffer, format: 'jpg' | 'png') {
  const workDir = await mkdtemp(path.join(root, 'job-'));
  const file = path.join(workDir, 'upload');
  await writeFile(file, bytes);
  return prepareImage({ file, format: FORMATS[format], originalFilename: `photo.${format}`, workDir }, SETTINGS);
}

async function pixelAt(file: string, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(await readFile(file)).raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * info.channels;
  return [...data.subarray(at, at + info.channels)];
}

const near = (a: number[], b: number[], tolerance = 12) => a.length >= b.length && b.every((v, i) => Math.abs(a[i] - v) <= tolerance);

/** Three vertical bands, red | green | blue: a centre crop must show green in its middle and no blue at its left edge. */
async function bands(width: number, height: number, format: 'jpg' | 'png'): Promise<Buffer> {
  const band = Math.round(width / 3);
  const base = sharp({ create: { width, height, channels: 3, background: '#ff0000' } }).composite([
    { input: { create: { width: band, height, channels: 3, background: '#00ff00' } }, left: band, top: 0 },
    { input: { create: { width: width - 2 * band, height, channels: 3, background: '#0000ff' } }, left: 2 * band, top: 0 },
  ]);
  return format === 'jpg' ? base.jpeg({ quality: 95 }).toBuffer() : base.png().toBuffer();
}

describe('derivatives from one shared decode', () => {
  it('a 12 MP photo: 320×320 centre-cropped thumb and 500 px medium with the right colours', async () => {
    const prepared = await prepare(await bands(4000, 3000, 'jpg'), 'jpg');
    expect([prepared.thumb.width, prepared.thumb.height]).toEqual([320, 320]);
    expect([prepared.medium!.width, prepared.medium!.height]).toEqual([500, 375]);
    // The thumb is the middle 3000×3000 square: green in the centre, red at the left edge, blue at the right.
    expect(near(await pixelAt(prepared.thumb.path, 160, 160), [0, 255, 0])).toBe(true);
    expect(near(await pixelAt(prepared.thumb.path, 2, 160), [255, 0, 0])).toBe(true);
    expect(near(await pixelAt(prepared.thumb.path, 317, 160), [0, 0, 255])).toBe(true);
    expect(near(await pixelAt(prepared.medium!.path, 20, 100), [255, 0, 0])).toBe(true);
    expect(near(await pixelAt(prepared.medium!.path, 480, 100), [0, 0, 255])).toBe(true);
  });

  it('a 16-bit PNG keeps its colours (the shared copy is 8-bit, not misread)', async () => {
    const png16 = await sharp({ create: { width: 1200, height: 900, channels: 3, background: { r: 200, g: 40, b: 90 } } })
      .png()
      .toColourspace('rgb16')
      .toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const prepared = await prepare(png16, 'png');
    expect(near(await pixelAt(prepared.thumb.path, 100, 100), [200, 40, 90], 3)).toBe(true);
    expect(near(await pixelAt(prepared.medium!.path, 250, 180), [200, 40, 90], 3)).toBe(true);
  });

  it('a PNG with transparency keeps its alpha in the thumb and the medium', async () => {
    const png = await sharp({ create: { width: 1000, height: 800, channels: 4, background: { r: 10, g: 20, b: 200, alpha: 0.5 } } }).png().toBuffer();
    const prepared = await prepare(png, 'png');
    for (const file of [prepared.thumb.path, prepared.medium!.path]) {
      const [r, g, b, a] = await pixelAt(file, 50, 50);
      expect(near([r, g, b], [10, 20, 200], 3), `${file}: ${[r, g, b, a]}`).toBe(true);
      expect(Math.abs(a - 128)).toBeLessThanOrEqual(2);
    }
  });

  it.each([
    // 400×12000: the thumb needs a 320×9600 copy (3 MP), under the cap: shared decode.
    [400, 12000],
    // 300×20000: the thumb needs the full 6 MP, over the cap: each derivative decodes on its own.
    [300, 20000],
  ])('a %i×%i strip: thumb cut from its middle whichever path it takes', async (width, height) => {
    const strip = await sharp({ create: { width, height, channels: 3, background: '#ff0000' } })
      .composite([{ input: { create: { width, height: 320, channels: 3, background: '#00ff00' } }, left: 0, top: height / 2 - 160 }])
      .png()
      .toBuffer();
    const prepared = await prepare(strip, 'png');
    // Never upscaled: a strip narrower than the thumb box gives a thumb as narrow as itself.
    expect([prepared.thumb.width, prepared.thumb.height]).toEqual([Math.min(320, width), 320]);
    expect(prepared.medium).toBeNull();
    expect(near(await pixelAt(prepared.thumb.path, Math.floor(prepared.thumb.width / 2), 160), [0, 255, 0])).toBe(true);
  });
});
