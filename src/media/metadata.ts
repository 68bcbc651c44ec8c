import type * as exifrModule from 'exifr';
import { parseDateTime, parseIptcDate, type DateTaken } from './date-taken.js';
import { hasGpsDirectory, tiffOf } from './exif-block.js';

/**
 * What an image says about itself, read with exifr from the metadata blocks sharp found in
 * the header (EXIF, XMP, IPTC), so every format sharp can open (JPEG, PNG, WebP, AVIF,
 * HEIC, TIFF) goes through the same code and nothing is decoded.
 *
 * exifr gets Buffers only: given a string it would treat it as a path or a URL.
 */

// exifr ships a UMD bundle (Node's ESM sees only a default export) and an ESM build (what
// bundlers and vitest load, where `sidecar` is a named export only): take it from either.
// Loaded by the first image whose metadata is read, not at start.
type ExifrModule = typeof exifrModule & { default?: typeof exifrModule };
let sidecar: typeof exifrModule.sidecar | undefined;
async function exifrSidecar(): Promise<typeof exifrModule.sidecar> {
  if (!sidecar) {
    const loaded = (await import('exifr')) as ExifrModule;
    sidecar = loaded.sidecar ?? loaded.default!.sidecar;
  }
  return sidecar;
}

export interface MetadataBlocks {
  exif?: Buffer;
  xmp?: Buffer;
  iptc?: Buffer;
}

export interface ImageMetadata {
  title: string | null;
  description: string | null;
  dateTaken: DateTaken | null;
  /** XMP GPano:ProjectionType = equirectangular (a 360° photo). */
  isPanorama: boolean;
  /** EXIF tags by name, JSON-safe (no MakerNote, no binary blobs); null when there is no EXIF. */
  exif: Record<string, unknown> | null;
  /** A location is recorded, in EXIF or in XMP. */
  hasGps: boolean;
}

export const NO_METADATA: ImageMetadata = { title: null, description: null, dateTaken: null, isPanorama: false, exif: null, hasGps: false };

/** Descriptions cameras write on their own; they say nothing about the picture. */
const CAMERA_BOILERPLATE = /^(|OLYMPUS DIGITAL CAMERA|SONY DSC|DCIM|KODAK.*|MINOLTA DIGITAL CAMERA|SAMSUNG|LG Electronics|Default|Image|Picture|DIGITAL CAMERA|camera|untitled)$/i;
const XMP_GPS = /GPS(Latitude|Longitude|Altitude|Coordinates)|exif:GPS/;
const MAX_TEXT = 5000;

const EXIF_OPTIONS = {
  tiff: true, ifd0: true, exif: true, gps: true, interop: false, ifd1: false,
  makerNote: false, userComment: false, xmp: false, iptc: false, icc: false, jfif: false, ihdr: false,
  translateKeys: true, translateValues: false, reviveValues: false, sanitize: true, mergeOutput: true,
} as const;

async function parseBlock(block: Buffer | null | undefined, type: 'tiff' | 'xmp' | 'iptc'): Promise<Record<string, any> | null> {
  if (!block || block.length === 0) return null;
  const read = await exifrSidecar();
  try {
    const options = type === 'tiff' ? EXIF_OPTIONS : { [type]: true };
    return ((await read(block, options as never, type)) as Record<string, any> | undefined) ?? null;
  } catch {
    return null; // damaged metadata never fails an upload; the picture is what counts
  }
}

function decodeXmlEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

function clean(text: unknown): string | null {
  if (typeof text !== 'string') return null;
  // eslint-disable-next-line no-control-regex
  const value = text.replace(/\0+$/g, '').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '').trim();
  return value ? value.slice(0, MAX_TEXT) : null;
}

/** XMP language alternatives come as a string, `{lang, value}` or a list of them; x-default wins. */
function xmpText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (Array.isArray(value)) {
    const preferred = value.find((v) => (v as { lang?: string })?.lang === 'x-default') ?? value[0];
    return xmpText(preferred);
  }
  if (typeof value === 'object') return xmpText((value as { value?: unknown }).value);
  return clean(decodeXmlEntities(String(value)));
}

/** Windows XPTitle/XPComment: UCS-2 little-endian bytes. */
function xpText(value: unknown): string | null {
  if (typeof value === 'string') return clean(value);
  if (!(value instanceof Uint8Array) && !Array.isArray(value)) return null;
  return clean(Buffer.from(value as Uint8Array).toString('utf16le'));
}

function meaningfulDescription(value: string | null): string | null {
  return value && !CAMERA_BOILERPLATE.test(value) ? value : null;
}

function firstOf<T>(...candidates: (T | null | undefined)[]): T | null {
  return candidates.find((c) => c !== null && c !== undefined) ?? null;
}

/**
 * EXIF as Chevereto sends it in `original_exifdata`: tag names and raw values; dates as the
 * camera wrote them; no MakerNote and no binary blobs (short ASCII ones, like ExifVersion,
 * become text).
 */
function jsonSafeExif(tags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (key === 'MakerNote' || key === 'latitude' || key === 'longitude' || key.startsWith('XP')) continue;
    if (value instanceof Uint8Array) {
      if (value.length <= 64 && value.every((b) => b >= 0x20 && b < 0x7f)) out[key] = Buffer.from(value).toString('latin1');
      continue;
    }
    if (typeof value === 'string') {
      const text = clean(value);
      if (text !== null) out[key] = text.slice(0, 1000);
    } else if (typeof value === 'number') {
      if (Number.isFinite(value)) out[key] = value;
    } else if (Array.isArray(value)) {
      if (value.length <= 64 && value.every((v) => typeof v === 'number' && Number.isFinite(v))) out[key] = value;
    }
  }
  return out;
}

export async function readImageMetadata(blocks: MetadataBlocks): Promise<ImageMetadata> {
  const tiff = tiffOf(blocks.exif);
  const [exif, xmp, iptc] = await Promise.all([parseBlock(tiff, 'tiff'), parseBlock(blocks.xmp, 'xmp'), parseBlock(blocks.iptc, 'iptc')]);
  const dc = xmp?.dc ?? {};
  const photoshop = xmp?.photoshop ?? {};
  const xmpExif = xmp?.exif ?? {};
  const xmpBasic = xmp?.xmp ?? {};

  const title = firstOf(
    xmpText(dc.title),
    clean(iptc?.ObjectName),
    xmpText(photoshop.Headline),
    clean(iptc?.Headline),
    xpText(exif?.XPTitle),
  );
  const description = firstOf(
    meaningfulDescription(xmpText(dc.description)),
    meaningfulDescription(clean(iptc?.Caption)),
    meaningfulDescription(clean(exif?.ImageDescription)),
    meaningfulDescription(xpText(exif?.XPComment)),
    meaningfulDescription(xpText(exif?.XPSubject)),
  );
  const dateTaken = firstOf(
    parseDateTime(exif?.DateTimeOriginal, exif?.OffsetTimeOriginal),
    parseDateTime(exif?.CreateDate ?? exif?.DateTimeDigitized, exif?.OffsetTimeDigitized),
    parseDateTime(xmpText(xmpExif.DateTimeOriginal)),
    parseDateTime(xmpText(photoshop.DateCreated)),
    parseIptcDate(iptc?.DateCreated, iptc?.TimeCreated),
    parseDateTime(xmpText(xmpBasic.CreateDate)),
  );
  const projection = xmpText(xmp?.GPano?.ProjectionType);
  const locationInXmp = blocks.xmp ? xmpHasGps(blocks.xmp) : false;
  return {
    title,
    description,
    dateTaken,
    isPanorama: projection?.toLowerCase() === 'equirectangular',
    exif: exif ? jsonSafeExif(exif) : null,
    hasGps: (tiff !== null && hasGpsDirectory(tiff)) || locationInXmp,
  };
}

/** True when an XMP packet records a location. */
export function xmpHasGps(xmp: Buffer): boolean {
  return XMP_GPS.test(xmp.toString('latin1'));
}

/** The EXIF with its location removed, for sites that strip GPS. */
export function exifWithoutGps(exif: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(exif).filter(([key]) => !key.startsWith('GPS')));
}
