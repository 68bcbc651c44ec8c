import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as exifr from 'exifr';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeAnimated } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import {
  closeTo, cornerColours, imageDataOffset, makeCameraJpeg, makeOrientedJpeg, makeVideo, pngBombHeader, QUADRANTS,
  readFixture, XMP_PACKET, type VideoKind,
} from '../media/media-fixtures.js';

/** Phone photos, screen recordings and hostile files through the real API, over HTTP. */

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const download = async (url: string) => Buffer.from(await (await fetch(url)).arrayBuffer());

let server: TestServer;
let key: string;
let adminKey: string;
let videoDir: string;
const videos = new Map<VideoKind, Buffer>();

async function storedFiles(s: TestServer): Promise<string[]> {
  try {
    return (await readdir(path.join(s.dataDir, 'images'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
}
async function rowCount(s: TestServer): Promise<number> {
  return (await s.ctx.db.selectFrom('images').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n * 1;
}

/**
 * Closes a test server without waiting on a keep-alive socket: a connection whose last
 * response the client has fully read can still count as busy when close() looks, and would
 * then hold the close for Fastify's 72 s keepAliveTimeout.
 */
async function closeServer(s: TestServer): Promise<void> {
  s.app.server.closeAllConnections();
  await s.close();
}

/** Uploads something that must be refused, and checks nothing of it was kept. */
async function expectRefused(file: Buffer, name: string, status: number, code: number, fields: Record<string, string> = {}) {
  const [filesBefore, rowsBefore] = [await storedFiles(server), await rowCount(server)];
  const res = await uploadFile(server.url, file, name, fields, { 'X-API-Key': key });
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.status_code).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(await storedFiles(server)).toEqual(filesBefore);
  expect(await rowCount(server)).toBe(rowsBefore);
  return res;
}

beforeAll(async () => {
  server = await startTestServer();
  key = (await server.createUserWithKey('mia')).key;
  adminKey = (await server.createUserWithKey('boss', { admin: true })).key;
  videoDir = await mkdtemp(path.join(tmpdir(), 'shoebox-videos-'));
  for (const kind of ['mp4', 'mov', 'webm', 'rotated-mp4', 'audio-only-mp4'] as VideoKind[]) videos.set(kind, await makeVideo(kind, videoDir));
});
afterAll(async () => {
  if (server) await closeServer(server);
  await rm(videoDir, { recursive: true, force: true });
});

describe('video', () => {
  it.each([
    ['mp4', 'video/mp4', 'clip.mp4'],
    ['mov', 'video/quicktime', 'Screen Recording.mov'],
    ['webm', 'video/webm', 'capture.webm'],
  ] as const)('%s: the fields of the example response, a frame and a thumb from it', async (kind, mime, filename) => {
    const bytes = videos.get(kind)!;
    const res = await uploadFile(server.url, bytes, filename, {}, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const image = res.body.image;
    expect(image).toMatchObject({ type: 'video', mime, extension: kind, width: 160, height: 90, duration: 2, duration_time: '00:02', chain: 21, is_animated: 0 });
    expect(image.md5).toBe(md5(bytes));
    expect(image.size).toBe(bytes.length);
    expect(image.frame).toMatchObject({ filename: `${image.name}.fr.jpeg`, mime: 'image/jpeg', extension: 'jpeg' });
    expect(image.url_frame).toBe(image.frame.url);
    expect(image.thumb.filename).toBe(`${image.name}.th.jpeg`);
    expect((await download(image.url)).equals(bytes)).toBe(true);
    const frame = await download(image.url_frame);
    expect(frame.length).toBe(image.frame_size);
    expect(await sharp(frame).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 90 });
    expect(await sharp(await download(image.thumb.url)).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 90 });
  });

  it('a phone video with a rotation flag is reported, framed and thumbed upright', async () => {
    const res = await uploadFile(server.url, videos.get('rotated-mp4')!, 'portrait.mp4', {}, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect([res.body.image.width, res.body.image.height]).toEqual([90, 160]);
    expect(await sharp(await download(res.body.image.url_frame)).metadata()).toMatchObject({ width: 90, height: 160 });
  });

  it('takes title and description from the container tags; use_file_date dates an admin upload by the recording time', async () => {
    const bytes = await makeVideo('tagged-mov', videoDir);
    const res = await uploadFile(server.url, bytes, 'IMG_0042.MOV', { use_file_date: '1' }, { 'X-API-Key': adminKey });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.image).toMatchObject({ title: 'Harbour timelapse', description: 'Boats leaving at dawn', date_gmt: '2020-05-06 07:08:09' });
  });

  it('refuses an MP4 without a video stream with 610, keeping nothing', async () => {
    await expectRefused(videos.get('audio-only-mp4')!, 'song.mp4', 400, 610);
  });

  it('the viewer page plays it with the frame as poster, and the file answers Range requests', async () => {
    const bytes = videos.get('mp4')!;
    const { image } = (await uploadFile(server.url, bytes, 'seek me.mp4', {}, { 'X-API-Key': key })).body;
    expect(image.path_viewer).toBe(`/video/seek-me.${image.id_encoded}`);
    const page = await fetch(`${server.url}${image.path_viewer}`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const video = /<video\b[^>]*>/.exec(html)?.[0] ?? '';
    expect(video).toContain(`poster="${image.url_frame}"`);
    expect(html).toMatch(new RegExp(`<source src="${image.url.replace(/[.?]/g, '\\$&')}" type="video/mp4">`));

    const ranged = await fetch(image.url, { headers: { Range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
  });

  it('honours SHOEBOX_VIDEO_ROUTE (some sites call it clip) and SHOEBOX_MAX_VIDEO_DURATION', async () => {
    const clipSite = await startTestServer({ SHOEBOX_VIDEO_ROUTE: 'clip', SHOEBOX_MAX_VIDEO_DURATION: '2' });
    try {
      const { key: clipKey } = await clipSite.createUserWithKey('clipper');
      const ok = await uploadFile(clipSite.url, videos.get('webm')!, 'short.webm', {}, { 'X-API-Key': clipKey });
      expect(ok.body.image.url_viewer).toBe(`${clipSite.url}/clip/short.${ok.body.image.id_encoded}`);
      expect((await fetch(ok.body.image.url_viewer)).status).toBe(200);
      const long = await uploadFile(clipSite.url, videos.get('mp4')!, 'long.mp4', {}, { 'X-API-Key': clipKey });
      expect(long.status).toBe(413);
      expect(long.body.error.message).toBe('Video too long - max 2 seconds');
    } finally {
      await closeServer(clipSite);
    }
  });
});

describe('phone photos', () => {
  it('HEIC: stored as an upright JPEG, md5 of the stored file, source_md5 of the upload, EXIF reported', async () => {
    const heic = await readFixture('phone.heic');
    const res = await uploadFile(server.url, heic, 'IMG_0001.HEIC', {}, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const image = res.body.image;
    expect(image).toMatchObject({ extension: 'jpeg', mime: 'image/jpeg', type: 'image', width: 96, height: 64, source_md5: md5(heic) });
    const stored = await download(image.url);
    expect(image.md5).toBe(md5(stored));
    expect((await fileTypeFromBuffer(stored))?.mime).toBe('image/jpeg');
    expect(image.description).toBe('Harbour at dawn');
    expect(typeof image.original_exifdata).toBe('string');
    expect(JSON.parse(image.original_exifdata)).toMatchObject({ Make: 'ShoeboxTest', DateTimeOriginal: '2021:06:15 10:20:30' });
  });

  it('HEIC shot in portrait (irot + EXIF Orientation 6) comes out upright, turned once', async () => {
    const res = await uploadFile(server.url, await readFixture('portrait.heic'), 'IMG_0002.HEIC', {}, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect([res.body.image.width, res.body.image.height]).toEqual([64, 96]);
    const thumb = await cornerColours(await download(res.body.image.thumb.url));
    expect(closeTo(thumb.topLeft, [220, 30, 30], 50) && closeTo(thumb.bottomRight, [30, 30, 220], 50)).toBe(true);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('JPEG with EXIF orientation %i: upright size, thumb and medium, original byte-identical', async (orientation) => {
    const jpeg = await makeOrientedJpeg(orientation);
    const res = await uploadFile(server.url, jpeg, `orientation-${orientation}.jpg`, {}, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const image = res.body.image;
    expect([image.width, image.height]).toEqual([640, 400]);
    expect(image.md5).toBe(md5(jpeg));
    expect(image.source_md5).toBeNull();
    expect((await download(image.url)).equals(jpeg)).toBe(true);
    for (const url of [image.thumb.url, image.medium.url]) {
      const corners = await cornerColours(await download(url));
      for (const q of Object.keys(QUADRANTS) as (keyof typeof QUADRANTS)[]) expect(closeTo(corners[q], QUADRANTS[q]), `${url} ${q}`).toBe(true);
    }
  });

  it('takes title and description from XMP when the request has none; the request wins when it has them', async () => {
    const jpeg = await makeCameraJpeg({ gps: false, xmp: XMP_PACKET({ title: 'Sunset over the bay', description: 'From the pier' }) });
    const fromFile = await uploadFile(server.url, jpeg, 'DSC_0042.jpg', {}, { 'X-API-Key': key });
    expect([fromFile.body.image.title, fromFile.body.image.description]).toEqual(['Sunset over the bay', 'From the pier']);
    const fromRequest = await uploadFile(server.url, jpeg, 'DSC_0042.jpg', { title: 'Mine', description: 'My words' }, { 'X-API-Key': key });
    expect([fromRequest.body.image.title, fromRequest.body.image.description]).toEqual(['Mine', 'My words']);
  });

  it('flags equirectangular panoramas as is_360', async () => {
    const res = await uploadFile(server.url, await makeCameraJpeg({ xmp: XMP_PACKET({ panorama: true }) }), 'pano.jpg', {}, { 'X-API-Key': key });
    expect(res.body.image.is_360).toBe(1);
  });

  it('use_file_date=1 dates an admin upload by the date taken; other keys are ignored', async () => {
    const jpeg = await makeCameraJpeg();
    const admin = await uploadFile(server.url, jpeg, 'old.jpg', { use_file_date: '1' }, { 'X-API-Key': adminKey });
    expect(admin.status, JSON.stringify(admin.body)).toBe(200);
    expect(admin.body.image.date_gmt).toBe('2019-03-04 03:06:07'); // 05:06:07 at +02:00
    const user = await uploadFile(server.url, jpeg, 'old.jpg', { use_file_date: '1' }, { 'X-API-Key': key });
    expect(user.body.image.date_gmt.startsWith('2019')).toBe(false);
    const notAsked = await uploadFile(server.url, jpeg, 'old.jpg', {}, { 'X-API-Key': adminKey });
    expect(notAsked.body.image.date_gmt.startsWith('2019')).toBe(false);
  });
});

describe('GPS and SHOEBOX_STRIP_METADATA', () => {
  it('none (the default): the original is byte-identical, location and all', async () => {
    const jpeg = await makeCameraJpeg();
    const { image } = (await uploadFile(server.url, jpeg, 'where.jpg', {}, { 'X-API-Key': key })).body;
    const stored = await download(image.url);
    expect(stored.equals(jpeg)).toBe(true);
    expect([image.md5, image.source_md5]).toEqual([md5(jpeg), null]);
    expect((await exifr.parse(stored, { gps: true })).latitude).toBeCloseTo(48.858, 2);
    expect(JSON.parse(image.original_exifdata)).toMatchObject({ GPSLatitudeRef: 'N', Make: 'ShoeboxCam' });
  });

  it('gps: the stored file loses its location (losslessly), md5 is the stored file\'s, source_md5 the upload\'s', async () => {
    const site = await startTestServer({ SHOEBOX_STRIP_METADATA: 'gps' });
    try {
      const { key: siteKey } = await site.createUserWithKey('private');
      const jpeg = await makeCameraJpeg();
      const { image } = (await uploadFile(site.url, jpeg, 'where.jpg', {}, { 'X-API-Key': siteKey })).body;
      const stored = await download(image.url);
      const tags = await exifr.parse(stored, { gps: true });
      expect(tags.latitude).toBeUndefined();
      expect(tags.Make).toBe('ShoeboxCam');
      expect(stored.subarray(imageDataOffset(stored)).equals(jpeg.subarray(imageDataOffset(jpeg)))).toBe(true);
      expect([image.md5, image.source_md5]).toEqual([md5(stored), md5(jpeg)]);
      const exif = JSON.parse(image.original_exifdata);
      expect(exif.Make).toBe('ShoeboxCam');
      expect(Object.keys(exif).filter((k) => k.startsWith('GPS'))).toEqual([]);
    } finally {
      await closeServer(site);
    }
  });

  it('all: no EXIF, XMP or location left; original_exifdata is null', async () => {
    const site = await startTestServer({ SHOEBOX_STRIP_METADATA: 'all' });
    try {
      const { key: siteKey } = await site.createUserWithKey('private');
      const jpeg = await makeCameraJpeg({ xmp: XMP_PACKET({ title: 'Hidden place' }) });
      const { image } = (await uploadFile(site.url, jpeg, 'where.jpg', {}, { 'X-API-Key': siteKey })).body;
      const meta = await sharp(await download(image.url)).metadata();
      expect([meta.exif, meta.xmp]).toEqual([undefined, undefined]);
      expect(image.original_exifdata).toBeNull();
      expect(image.title).toBe('Hidden place'); // read before stripping
    } finally {
      await closeServer(site);
    }
  });
});

describe('animation', () => {
  it.each(['gif', 'webp'] as const)('%s: is_animated 1, animated original and medium', async (format) => {
    const bytes = await makeAnimated(format, 320, 160, 4);
    const res = await uploadFile(server.url, bytes, `loop.${format}`, {}, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.image.is_animated).toBe(1);
    expect(res.body.image.chain).toBe(7);
    expect((await download(res.body.image.url)).equals(bytes)).toBe(true);
    const medium = await sharp(await download(res.body.image.medium.url), { animated: true }).metadata();
    expect(medium.pages).toBe(4);
  });
});

describe('hostile and broken files', () => {
  it('refuses a 40000x40000 PNG header with the pixel error, keeping nothing', async () => {
    const res = await expectRefused(pngBombHeader(40000, 40000), 'bomb.png', 413, 400);
    expect(res.body.error.message).toBe('Image too large - max 100,000,000 pixels');
  });

  it('refuses a truncated JPEG with 610, keeping nothing', async () => {
    const whole = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).jpeg().toBuffer();
    await expectRefused(whole.subarray(0, Math.floor(whole.length / 2)), 'cut.jpg', 400, 610);
  });

  it('refuses TIFF unless the site accepts it (613)', async () => {
    const tiff = await sharp({ create: { width: 30, height: 20, channels: 3, background: '#abc' } }).tiff().toBuffer();
    await expectRefused(tiff, 'scan.tiff', 415, 613);
  });
});

describe('width', () => {
  const stills = {
    jpg: () => sharp({ create: { width: 400, height: 300, channels: 3, background: '#579' } }).jpeg().toBuffer(),
    png: () => sharp({ create: { width: 400, height: 300, channels: 4, background: '#579' } }).png().toBuffer(),
    webp: () => sharp({ create: { width: 400, height: 300, channels: 3, background: '#579' } }).webp().toBuffer(),
    gif: () => sharp({ create: { width: 400, height: 300, channels: 3, background: '#579' } }).gif().toBuffer(),
  };
  it.each(Object.keys(stills) as (keyof typeof stills)[])('%s: resized to a smaller width; a larger one is refused with 610', async (format) => {
    const bytes = await stills[format]();
    const ok = await uploadFile(server.url, bytes, `wide.${format}`, { width: '200' }, { 'X-API-Key': key });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect([ok.body.image.width, ok.body.image.height]).toEqual([200, 150]);
    expect((await sharp(await download(ok.body.image.url)).metadata()).width).toBe(200);
    expect(ok.body.image.source_md5).toBe(md5(bytes));
    const refused = await expectRefused(bytes, `wide.${format}`, 400, 610, { width: '401' });
    expect(refused.body.error.message).toBe('Target width is greater than the original image width');
  });
});
