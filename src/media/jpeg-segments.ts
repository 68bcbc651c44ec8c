import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/**
 * The marker segments of a JPEG before its image data (APPn, COM, tables, frame header),
 * read and rewritten without decoding a pixel: metadata can be removed or added losslessly
 * and the compressed image data is streamed across untouched.
 */

export interface JpegSegment {
  marker: number;
  /** The bytes after the two length bytes. */
  payload: Buffer;
}

export interface JpegHeader {
  segments: JpegSegment[];
  /** Offset of the SOS marker: everything from here on is copied as it is. */
  bodyOffset: number;
}

export const APP0 = 0xe0;
export const APP1 = 0xe1;
export const APP2 = 0xe2;
export const APP13 = 0xed;
export const APP14 = 0xee;
export const COM = 0xfe;
const SOS = 0xda;
const MAX_PAYLOAD = 0xffff - 2;
/** Header bytes read at most; real files carry well under 1 MB of metadata. */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

const EXIF_ID = Buffer.from('Exif\0\0', 'latin1');
const XMP_ID = Buffer.from('http://ns.adobe.com/xap/1.0/\0', 'latin1');
const XMP_EXTENSION_ID = Buffer.from('http://ns.adobe.com/xmp/extension/\0', 'latin1');
const PHOTOSHOP_ID = Buffer.from('Photoshop 3.0\0', 'latin1');

const startsWith = (segment: JpegSegment, id: Buffer) => segment.payload.subarray(0, id.length).equals(id);
export const isExif = (s: JpegSegment) => s.marker === APP1 && startsWith(s, EXIF_ID);
export const isXmp = (s: JpegSegment) => s.marker === APP1 && (startsWith(s, XMP_ID) || startsWith(s, XMP_EXTENSION_ID));
export const isIptc = (s: JpegSegment) => s.marker === APP13 && startsWith(s, PHOTOSHOP_ID);

export function xmpSegment(xmp: Buffer): JpegSegment | null {
  const payload = Buffer.concat([XMP_ID, xmp]);
  return payload.length <= MAX_PAYLOAD ? { marker: APP1, payload } : null;
}

export function exifSegment(exifPayload: Buffer): JpegSegment | null {
  return exifPayload.length <= MAX_PAYLOAD ? { marker: APP1, payload: exifPayload } : null;
}

/** Reads the segments up to the image data; null when the file is not a JPEG we can walk. */
export async function readJpegHeader(file: string): Promise<JpegHeader | null> {
  const handle = await open(file, 'r');
  try {
    const read = async (position: number, length: number): Promise<Buffer | null> => {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, position);
      return bytesRead === length ? buffer : null;
    };
    const soi = await read(0, 2);
    if (!soi || soi[0] !== 0xff || soi[1] !== 0xd8) return null;
    const segments: JpegSegment[] = [];
    let position = 2;
    while (position < MAX_HEADER_BYTES) {
      const head = await read(position, 2);
      if (!head || head[0] !== 0xff) return null;
      if (head[1] === 0xff) {
        position += 1; // fill byte
        continue;
      }
      const marker = head[1];
      if (marker === SOS) return { segments, bodyOffset: position };
      if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) return null; // no standalone markers before SOS
      const lengthBytes = await read(position + 2, 2);
      if (!lengthBytes) return null;
      const length = lengthBytes.readUInt16BE(0);
      if (length < 2) return null;
      const payload = await read(position + 4, length - 2);
      if (!payload) return null;
      segments.push({ marker, payload });
      position += 2 + length;
    }
    return null;
  } finally {
    await handle.close();
  }
}

function encodeSegments(segments: JpegSegment[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  for (const segment of segments) {
    const head = Buffer.alloc(4);
    head[0] = 0xff;
    head[1] = segment.marker;
    head.writeUInt16BE(segment.payload.length + 2, 2);
    parts.push(head, segment.payload);
  }
  return Buffer.concat(parts);
}

/** Writes `target`: SOI, the given segments, then the source's bytes from `bodyOffset` on, streamed. */
export async function writeJpegWithSegments(source: string, bodyOffset: number, segments: JpegSegment[], target: string): Promise<void> {
  const out = createWriteStream(target);
  await new Promise<void>((resolve, reject) => {
    out.once('error', reject);
    out.write(encodeSegments(segments), (error) => (error ? reject(error) : resolve()));
  });
  await pipeline(createReadStream(source, { start: bodyOffset }), out);
}

/** Where new APP1 segments go: after a leading JFIF APP0, else first. */
export function insertAfterJfif(segments: JpegSegment[], added: JpegSegment[]): JpegSegment[] {
  const at = segments[0]?.marker === APP0 ? 1 : 0;
  return [...segments.slice(0, at), ...added, ...segments.slice(at)];
}
