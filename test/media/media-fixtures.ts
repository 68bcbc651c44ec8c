import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { resolveMediaBinaries } from '../../src/media/binaries.js';

/**
 * Real media for the media tests, made on the spot: videos by ffmpeg (the system's, else the
 * npm-shipped one, exactly as Shoebox picks it), images by sharp or byte by byte where a
 * file must be broken or lie about itself. Only HEIC comes from committed fixtures
 * (test/fixtures/media, rebuilt by make-heic-fixtures.mjs): nothing on npm encodes HEVC.
 */

const run = promisify(execFile);
export const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'media');
export const readFixture = (name: string) => readFile(path.join(FIXTURES, name));

export function ffmpegPath(): string {
  const { ffmpeg } = resolveMediaBinaries({});
  if (!ffmpeg) throw new Error('no ffmpeg: neither on PATH nor shipped by @ffmpeg-installer/ffmpeg');
  return ffmpeg;
}

export type VideoKind = 'mp4' | 'mov' | 'webm' | 'rotated-mp4' | 'live-webm' | 'audio-only-mp4' | 'tagged-mov';

/** A tiny real video (160x90, 10 fps): 2.5 s (mp4 with audio), 2 s (mov, webm), 6 s for the index-less webm. */
export async function makeVideo(kind: VideoKind, dir: string): Promise<Buffer> {
  const ffmpeg = ffmpegPath();
  const picture = (seconds: number) => ['-f', 'lavfi', '-i', `testsrc=size=160x90:rate=10:duration=${seconds}`];
  const x264 = ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'ultrafast'];
  const target = path.join(dir, `${kind}-${Math.random().toString(36).slice(2)}.${kind.endsWith('webm') ? 'webm' : kind.endsWith('mov') ? 'mov' : 'mp4'}`);
  const args: Record<VideoKind, string[]> = {
    mp4: [...picture(2.5), '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2.5', ...x264, '-c:a', 'aac', '-shortest', target],
    mov: [...picture(2), ...x264, '-f', 'mov', target],
    // What a phone or screen recorder writes into the container.
    'tagged-mov': [
      ...picture(2), ...x264, '-metadata', 'title=Harbour timelapse', '-metadata', 'comment=Boats leaving at dawn',
      '-metadata', 'creation_time=2020-05-06T07:08:09.000000Z', '-f', 'mov', target,
    ],
    webm: [...picture(2), '-c:v', 'libvpx', '-b:v', '200k', target],
    // A phone held upright: pixels stored 160x90 with a 90° rotation flag (set while remuxing,
    // the way ffmpeg writes the display matrix).
    'rotated-mp4': [...picture(2), ...x264, `${target}.plain.mp4`],
    // Written to a pipe, as a browser's MediaRecorder writes: no duration, no index.
    'live-webm': [...picture(6), '-c:v', 'libvpx', '-b:v', '200k', '-f', 'webm', 'pipe:1'],
    'audio-only-mp4': ['-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:a', 'aac', target],
  };
  const { stdout } = await run(ffmpeg, ['-nostdin', '-v', 'error', '-y', ...args[kind]], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
  if (kind === 'rotated-mp4') {
    await run(ffmpeg, ['-nostdin', '-v', 'error', '-y', '-i', `${target}.plain.mp4`, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', target]);
  }
  return kind === 'live-webm' ? stdout : readFile(target);
}

// ---- images whose pixels say which way is up ----

export type Rgb = [number, number, number];
export const QUADRANTS: Record<'topLeft' | 'topRight' | 'bottomLeft' | 'bottomRight', Rgb> = {
  topLeft: [230, 20, 20], // red
  topRight: [20, 200, 20], // green
  bottomLeft: [20, 20, 230], // blue
  bottomRight: [240, 240, 240], // white
};

function uprightColour(x: number, y: number, width: number, height: number): Rgb {
  const top = y < height / 2;
  const left = x < width / 2;
  return top ? (left ? QUADRANTS.topLeft : QUADRANTS.topRight) : left ? QUADRANTS.bottomLeft : QUADRANTS.bottomRight;
}

/**
 * A JPEG that shows a `width`×`height` picture of four coloured quadrants once its EXIF
 * `orientation` is applied. The stored pixels are laid out by the EXIF definition of each
 * value (where row 0 and column 0 of the stored image belong), computed here pixel by pixel
 * rather than with the image library under test.
 */
export async function makeOrientedJpeg(orientation: number, width = 640, height = 400): Promise<Buffer> {
  const swapped = orientation >= 5;
  const storedWidth = swapped ? height : width;
  const storedHeight = swapped ? width : height;
  const pixels = Buffer.alloc(storedWidth * storedHeight * 3);
  for (let r = 0; r < storedHeight; r++) {
    for (let c = 0; c < storedWidth; c++) {
      const [x, y] = ({
        1: [c, r], 2: [width - 1 - c, r], 3: [width - 1 - c, height - 1 - r], 4: [c, height - 1 - r],
        5: [r, c], 6: [width - 1 - r, c], 7: [width - 1 - r, height - 1 - c], 8: [r, height - 1 - c],
      } as Record<number, [number, number]>)[orientation];
      pixels.set(uprightColour(x, y, width, height), (r * storedWidth + c) * 3);
    }
  }
  return sharp(pixels, { raw: { width: storedWidth, height: storedHeight, channels: 3 } })
    .jpeg({ quality: 95 })
    .withMetadata({ orientation })
    .toBuffer();
}

/** The colour near each corner (10% in), to compare with QUADRANTS. */
export async function cornerColours(image: Buffer): Promise<Record<keyof typeof QUADRANTS, Rgb>> {
  const { data, info } = await sharp(image).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (fx: number, fy: number): Rgb => {
    const x = Math.floor(info.width * fx);
    const y = Math.floor(info.height * fy);
    const o = (y * info.width + x) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
  return { topLeft: at(0.1, 0.1), topRight: at(0.9, 0.1), bottomLeft: at(0.1, 0.9), bottomRight: at(0.9, 0.9) };
}

export function closeTo(actual: Rgb, expected: Rgb, tolerance = 40): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]) <= tolerance);
}

// ---- metadata ----

export const XMP_PACKET = (fields: { title?: string; description?: string; panorama?: boolean; gps?: boolean }) =>
  `<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">` +
  `<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:GPano="http://ns.google.com/photos/1.0/panorama/"` +
  `${fields.panorama ? ' GPano:ProjectionType="equirectangular"' : ''}${fields.gps ? ' exif:GPSLatitude="48,51.494N" exif:GPSLongitude="2,21.132E"' : ''}>` +
  (fields.title ? `<dc:title><rdf:Alt><rdf:li xml:lang="x-default">${fields.title}</rdf:li></rdf:Alt></dc:title>` : '') +
  (fields.description ? `<dc:description><rdf:Alt><rdf:li xml:lang="x-default">${fields.description}</rdf:li></rdf:Alt></dc:description>` : '') +
  `</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>`;

export const PARIS = { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2964/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 792/100' };

/** A camera JPEG: EXIF with make, date taken (+02:00) and, unless told otherwise, GPS. */
export async function makeCameraJpeg(options: { gps?: boolean; xmp?: string; description?: string; width?: number; height?: number } = {}): Promise<Buffer> {
  let pipeline = sharp({ create: { width: options.width ?? 300, height: options.height ?? 200, channels: 3, background: '#000', noise: { type: 'gaussian', mean: 120, sigma: 30 } } })
    .jpeg({ quality: 85 })
    .withExif({
      IFD0: { Make: 'ShoeboxCam', Model: 'Test 1', ...(options.description ? { ImageDescription: options.description } : {}) },
      IFD2: { DateTimeOriginal: '2019:03:04 05:06:07', OffsetTimeOriginal: '+02:00' },
      ...(options.gps === false ? {} : { IFD3: PARIS }),
    });
  if (options.xmp) pipeline = pipeline.withXmp(options.xmp);
  return pipeline.toBuffer();
}

/** Adds an IPTC (Photoshop APP13) segment with the given datasets right after SOI. */
export function withIptc(jpeg: Buffer, datasets: { objectName?: string; caption?: string }): Buffer {
  const record = (tag: number, text: string) => {
    const data = Buffer.from(text, 'utf8');
    const head = Buffer.from([0x1c, 2, tag, 0, 0]);
    head.writeUInt16BE(data.length, 3);
    return Buffer.concat([head, data]);
  };
  const records = Buffer.concat([
    ...(datasets.objectName ? [record(5, datasets.objectName)] : []),
    ...(datasets.caption ? [record(120, datasets.caption)] : []),
  ]);
  const size = Buffer.alloc(4);
  size.writeUInt32BE(records.length);
  let resource = Buffer.concat([Buffer.from('8BIM', 'latin1'), Buffer.from([4, 4, 0, 0]), size, records]);
  if (resource.length % 2) resource = Buffer.concat([resource, Buffer.from([0])]);
  const payload = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), resource]);
  const head = Buffer.from([0xff, 0xed, 0, 0]);
  head.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), head, payload, jpeg.subarray(2)]);
}

/** Offset of the first SOS marker: the compressed picture starts here. */
export function imageDataOffset(jpeg: Buffer): number {
  let o = 2;
  while (o + 4 <= jpeg.length) {
    if (jpeg[o] !== 0xff) throw new Error('not a JPEG segment');
    if (jpeg[o + 1] === 0xda) return o;
    o += 2 + jpeg.readUInt16BE(o + 2);
  }
  throw new Error('no SOS');
}

// ---- broken and hostile files ----

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/**
 * A valid-looking PNG whose header claims `width`×`height` pixels, with a tiny IDAT: what a
 * pixel bomb looks like. The pixels are never allocated, here or (if Shoebox is right) there.
 */
export function pngBombHeader(width = 40000, height = 40000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(1024))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}
