import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as exifr from 'exifr';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasGpsDirectory, orientationOf, orientationOnlyTiff, tiffOf, withOrientation, withoutGps } from '../../src/media/exif-block.js';
import { stripJpegFile } from '../../src/media/strip-metadata.js';
import { imageDataOffset, makeCameraJpeg, withIptc, XMP_PACKET } from './media-fixtures.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'shoebox-strip-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function exifTiffOf(jpeg: Buffer): Promise<Buffer> {
  const tiff = tiffOf((await sharp(jpeg).metadata()).exif);
  if (!tiff) throw new Error('no EXIF');
  return tiff;
}

async function strip(jpeg: Buffer, mode: 'none' | 'gps' | 'all'): Promise<Buffer | null> {
  const source = path.join(dir, `in-${Math.random()}.jpg`);
  const target = path.join(dir, `out-${Math.random()}.jpg`);
  await writeFile(source, jpeg);
  return (await stripJpegFile(source, target, mode)) ? readFile(target) : null;
}

describe('EXIF block edits', () => {
  it('removes the GPS directory, zeroes the location bytes and keeps every other tag', async () => {
    const tiff = await exifTiffOf(await makeCameraJpeg());
    expect(hasGpsDirectory(tiff)).toBe(true);
    const clean = withoutGps(tiff)!;
    expect(clean.length).toBe(tiff.length);
    expect(hasGpsDirectory(clean)).toBe(false);
    const tags = (await exifr.sidecar(clean, { gps: true, reviveValues: false } as never, 'tiff')) as Record<string, unknown>;
    expect(tags.Make).toBe('ShoeboxCam');
    expect(tags.DateTimeOriginal).toBe('2019:03:04 05:06:07');
    expect(Object.keys(tags).filter((k) => k.startsWith('GPS') || k === 'latitude')).toEqual([]);
    // The latitude's rationals (48/1 51/1 2964/100) are gone from the bytes, not just unlinked.
    const rational = (n: number, d: number) => {
      const b = Buffer.alloc(8);
      b.writeUInt32LE(n, 0);
      b.writeUInt32LE(d, 4);
      return b;
    };
    expect(tiff.includes(rational(2964, 100))).toBe(true);
    expect(clean.includes(rational(2964, 100))).toBe(false);
  });

  it('gives up (null) on a block too damaged to edit, rather than keep what it could not clean', async () => {
    const tiff = Buffer.from(await exifTiffOf(await makeCameraJpeg()));
    // Point the GPS IFD past the end of the block.
    const ifd0 = tiff.readUInt32LE(4);
    for (let e = 0; e < tiff.readUInt16LE(ifd0); e++) {
      const entry = ifd0 + 2 + e * 12;
      if (tiff.readUInt16LE(entry) === 0x8825) tiff.writeUInt32LE(tiff.length + 100, entry + 8);
    }
    expect(withoutGps(tiff)).toBeNull();
  });

  it('reads and sets the orientation, and builds an orientation-only block', async () => {
    const jpeg = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const tiff = await exifTiffOf(jpeg);
    expect(orientationOf(tiff)).toBe(6);
    expect(orientationOf(withOrientation(tiff, 1))).toBe(1);
    expect(orientationOf(orientationOnlyTiff(8))).toBe(8);
    const parsed = (await exifr.sidecar(orientationOnlyTiff(3), { translateValues: false } as never, 'tiff')) as Record<string, unknown>;
    expect(parsed).toEqual({ Orientation: 3 });
  });
});

describe('lossless JPEG metadata stripping', () => {
  it('gps: drops the location only; the compressed picture is copied byte for byte', async () => {
    const original = await makeCameraJpeg({ xmp: XMP_PACKET({ title: 'Pier' }) });
    const stripped = (await strip(original, 'gps'))!;
    expect(stripped).not.toBeNull();
    const tags = await exifr.parse(stripped, { gps: true, xmp: true });
    expect(tags.latitude).toBeUndefined();
    expect(tags.GPSLatitude).toBeUndefined();
    expect(tags.Make).toBe('ShoeboxCam');
    expect(tags.title).toEqual({ lang: 'x-default', value: 'Pier' }); // XMP without a location stays
    expect(stripped.subarray(imageDataOffset(stripped)).equals(original.subarray(imageDataOffset(original)))).toBe(true);
  });

  it('gps: an XMP packet that records a location goes too', async () => {
    const original = await makeCameraJpeg({ gps: false, xmp: XMP_PACKET({ title: 'Somewhere', gps: true }) });
    const stripped = (await strip(original, 'gps'))!;
    expect(stripped).not.toBeNull();
    expect((await sharp(stripped).metadata()).xmp).toBeUndefined();
    expect((await exifr.parse(stripped)).Make).toBe('ShoeboxCam');
  });

  it('gps: a file without a location is left alone', async () => {
    expect(await strip(await makeCameraJpeg({ gps: false }), 'gps')).toBeNull();
  });

  it('all: EXIF, XMP and IPTC go, the orientation a photo needs stays, the picture is untouched', async () => {
    const camera = await sharp(await makeCameraJpeg({ xmp: XMP_PACKET({ title: 'x' }) })).withMetadata({ orientation: 6 }).keepExif().keepXmp().jpeg().toBuffer();
    const original = withIptc(camera, { objectName: 'Name', caption: 'Caption' });
    const stripped = (await strip(original, 'all'))!;
    const meta = await sharp(stripped).metadata();
    expect(meta.xmp).toBeUndefined();
    expect(meta.iptc).toBeUndefined();
    expect(meta.orientation).toBe(6);
    expect(await exifr.sidecar(tiffOf(meta.exif)!, { translateValues: false } as never, 'tiff')).toEqual({ Orientation: 6 });
    expect(stripped.subarray(imageDataOffset(stripped)).equals(original.subarray(imageDataOffset(original)))).toBe(true);
  });

  it('all: a JPEG with nothing to strip is left alone; none never touches a file', async () => {
    const bare = await sharp({ create: { width: 20, height: 20, channels: 3, background: '#123' } }).jpeg().toBuffer();
    expect(await strip(bare, 'all')).toBeNull();
    expect(await strip(await makeCameraJpeg(), 'none')).toBeNull();
  });

  it('leaves a file that is not a walkable JPEG alone instead of guessing', async () => {
    expect(await strip(Buffer.from('not a jpeg at all'), 'all')).toBeNull();
    const truncatedHeader = (await makeCameraJpeg()).subarray(0, 40);
    expect(await strip(truncatedHeader, 'gps')).toBeNull();
  });
});
