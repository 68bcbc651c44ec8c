import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { dateTakenToUtc, parseDateTime, parseIptcDate } from '../../src/media/date-taken.js';
import { readImageMetadata } from '../../src/media/metadata.js';
import { makeCameraJpeg, readFixture, withIptc, XMP_PACKET } from './media-fixtures.js';

async function metadataOf(file: Buffer) {
  const { exif, xmp, iptc } = await sharp(file).metadata();
  return readImageMetadata({ exif, xmp, iptc });
}

describe('reading what a photo says about itself', () => {
  it('takes title and description from XMP first, with XML entities decoded', async () => {
    const meta = await metadataOf(await makeCameraJpeg({
      description: 'EXIF words',
      xmp: XMP_PACKET({ title: 'Sunset &amp; sails', description: 'Taken from the pier &lt;3' }),
    }));
    expect(meta.title).toBe('Sunset & sails');
    expect(meta.description).toBe('Taken from the pier <3');
  });

  it('falls back to IPTC, then to EXIF ImageDescription, ignoring what cameras write on their own', async () => {
    const iptc = await metadataOf(withIptc(await makeCameraJpeg({ description: 'EXIF words' }), { objectName: 'Harbour', caption: 'Boats at rest' }));
    expect(iptc.title).toBe('Harbour');
    expect(iptc.description).toBe('Boats at rest');
    const exifOnly = await metadataOf(await makeCameraJpeg({ description: 'Boats at rest, EXIF' }));
    expect(exifOnly.title).toBeNull();
    expect(exifOnly.description).toBe('Boats at rest, EXIF');
    const boilerplate = await metadataOf(await makeCameraJpeg({ description: 'OLYMPUS DIGITAL CAMERA' }));
    expect(boilerplate.description).toBeNull();
  });

  it('reports the date taken with its offset, the location and a JSON-safe EXIF', async () => {
    const meta = await metadataOf(await makeCameraJpeg());
    expect(meta.dateTaken).toEqual({ wall: '2019-03-04 05:06:07', offsetMinutes: 120 });
    expect(meta.hasGps).toBe(true);
    expect(meta.exif).toMatchObject({ Make: 'ShoeboxCam', Model: 'Test 1', DateTimeOriginal: '2019:03:04 05:06:07', GPSLatitude: [48, 51, 29.64] });
    expect(JSON.parse(JSON.stringify(meta.exif))).toEqual(meta.exif);
    expect(meta.exif).not.toHaveProperty('MakerNote');
    expect(Object.values(meta.exif!).some((v) => v instanceof Uint8Array)).toBe(false);
  });

  it('marks equirectangular panoramas (GPano) as 360', async () => {
    expect((await metadataOf(await makeCameraJpeg({ xmp: XMP_PACKET({ panorama: true }) }))).isPanorama).toBe(true);
    expect((await metadataOf(await makeCameraJpeg())).isPanorama).toBe(false);
  });

  it('reads the EXIF a HEIC carries', async () => {
    const meta = await metadataOf(await readFixture('phone.heic'));
    expect(meta.description).toBe('Harbour at dawn');
    expect(meta.dateTaken).toEqual({ wall: '2021-06-15 10:20:30', offsetMinutes: null });
    expect(meta.exif).toMatchObject({ Make: 'ShoeboxTest' });
  });

  it('finds nothing in a file without metadata, and never fails on damaged metadata', async () => {
    const bare = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
    expect(await metadataOf(bare)).toEqual({ title: null, description: null, dateTaken: null, isPanorama: false, exif: null, hasGps: false });
    const junk = await readImageMetadata({ exif: Buffer.from('Exif\0\0II*\0\xff\xff\xff\x7f', 'latin1'), xmp: Buffer.from('<x:xmpmeta'), iptc: Buffer.from('garbage') });
    expect(junk.title).toBeNull();
    expect(junk.exif).toBeNull();
  });
});

describe('date taken', () => {
  it('parses EXIF, ISO/XMP and IPTC forms and refuses placeholders', () => {
    expect(parseDateTime('2019:03:04 05:06:07')).toEqual({ wall: '2019-03-04 05:06:07', offsetMinutes: null });
    expect(parseDateTime('2019:03:04 05:06:07', '-05:30')).toEqual({ wall: '2019-03-04 05:06:07', offsetMinutes: -330 });
    expect(parseDateTime('2021-06-15T10:20:30.000000Z')).toEqual({ wall: '2021-06-15 10:20:30', offsetMinutes: 0 });
    expect(parseDateTime('2021-06-15T10:20:30+0200')).toEqual({ wall: '2021-06-15 10:20:30', offsetMinutes: 120 });
    expect(parseIptcDate('20190304', '050607+0200')).toEqual({ wall: '2019-03-04 05:06:07', offsetMinutes: 120 });
    expect(parseDateTime('0000:00:00 00:00:00')).toBeNull();
    expect(parseDateTime('2019:02:30 10:00:00')).toBeNull();
    expect(parseDateTime('yesterday')).toBeNull();
  });

  it('turns it into UTC with the offset, else in the site time zone (daylight saving included)', () => {
    expect(dateTakenToUtc({ wall: '2019-03-04 05:06:07', offsetMinutes: 120 }, 'UTC').toISOString()).toBe('2019-03-04T03:06:07.000Z');
    expect(dateTakenToUtc({ wall: '2019-01-10 12:00:00', offsetMinutes: null }, 'Europe/Paris').toISOString()).toBe('2019-01-10T11:00:00.000Z');
    expect(dateTakenToUtc({ wall: '2019-07-10 12:00:00', offsetMinutes: null }, 'Europe/Paris').toISOString()).toBe('2019-07-10T10:00:00.000Z');
    expect(dateTakenToUtc({ wall: '2019-07-10 12:00:00', offsetMinutes: null }, 'America/New_York').toISOString()).toBe('2019-07-10T16:00:00.000Z');
  });
});
