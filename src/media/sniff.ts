import { open } from 'node:fs/promises';
import { FORMATS, type MediaFormat } from './formats.js';

/** file-type's extension → our format name. Anything missing here is "not an image or video". */
const DETECTED_TO_FORMAT: Record<string, string> = {
  jpg: 'jpg', png: 'png', apng: 'png', gif: 'gif', webp: 'webp', avif: 'avif', bmp: 'bmp',
  heic: 'heic', heif: 'heic', tif: 'tiff', mp4: 'mp4', m4v: 'mp4', mov: 'mov', qt: 'mov', webm: 'webm',
};

export interface SniffResult {
  format: MediaFormat;
  /** True for APNG: sharp can read it only as a still, but it is animated. */
  animatedPng: boolean;
}

/** The real type of a file, from its magic bytes only (never the name or the client's Content-Type). */
export async function sniffFile(file: string): Promise<SniffResult | null> {
  // file-type is loaded by the first upload, not at start.
  const { fileTypeFromFile } = await import('file-type');
  const detected = await fileTypeFromFile(file);
  if (!detected) return null;
  const name = DETECTED_TO_FORMAT[detected.ext];
  if (!name) return null;
  const format = FORMATS[name];
  const animatedPng = detected.ext === 'apng' || (name === 'png' && (await hasApngControlChunk(file)));
  return { format, animatedPng };
}

/** An `acTL` chunk before the first `IDAT` marks an animated PNG. */
async function hasApngControlChunk(file: string): Promise<boolean> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    let offset = 8;
    while (offset + 8 <= bytesRead) {
      const length = buffer.readUInt32BE(offset);
      const type = buffer.toString('latin1', offset + 4, offset + 8);
      if (type === 'acTL') return true;
      if (type === 'IDAT') return false;
      offset += 12 + length;
    }
    return false;
  } finally {
    await handle.close();
  }
}
