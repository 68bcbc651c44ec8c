import {
  exifPayloadOf, orientationOf, orientationOnlyTiff, tiffOf, withOrientation, withoutGps,
} from './exif-block.js';
import {
  APP0, APP2, APP14, COM, exifSegment, insertAfterJfif, isExif, isIptc, isXmp, readJpegHeader,
  writeJpegWithSegments, xmpSegment, type JpegSegment,
} from './jpeg-segments.js';
import { xmpHasGps, type MetadataBlocks } from './metadata.js';

/**
 * SHOEBOX_STRIP_METADATA for JPEG, done losslessly: metadata segments are dropped or edited
 * and the compressed image data is copied byte for byte, so stripping never costs quality.
 *
 * - `none`: the file is kept as uploaded (byte-identical, md5 = the client's).
 * - `gps`: the GPS directory leaves the EXIF (zeroed, the rest of the EXIF stays) and an XMP
 *   packet that records a location is dropped whole.
 * - `all`: EXIF, XMP, IPTC, comments and every other APPn go; JFIF (APP0), ICC profiles and
 *   MPF (APP2) and Adobe colour info (APP14) stay, being needed to show the picture right.
 *   A photo that relies on EXIF orientation keeps a minimal EXIF holding only that tag.
 */
export type StripMode = 'none' | 'gps' | 'all';

function orientationSegment(orientation: number): JpegSegment {
  return { marker: 0xe1, payload: exifPayloadOf(orientationOnlyTiff(orientation)) };
}

function orientationIn(segments: JpegSegment[]): number {
  const exif = segments.find(isExif);
  const tiff = exif ? tiffOf(exif.payload) : null;
  return (tiff && orientationOf(tiff)) ?? 1;
}

/** The segments the site allows; `changed` is false when nothing had to go. */
export function filterJpegSegments(segments: JpegSegment[], mode: StripMode): { segments: JpegSegment[]; changed: boolean } {
  if (mode === 'none') return { segments, changed: false };
  if (mode === 'all') {
    const orientation = orientationIn(segments);
    const kept = segments.filter((s) => (s.marker < 0xe0 || s.marker > 0xef || [APP0, APP2, APP14].includes(s.marker)) && s.marker !== COM);
    if (kept.length === segments.length) return { segments, changed: false };
    return { segments: orientation !== 1 ? insertAfterJfif(kept, [orientationSegment(orientation)]) : kept, changed: true };
  }
  const dropXmp = segments.some((s) => isXmp(s) && xmpHasGps(s.payload));
  let changed = false;
  const out: JpegSegment[] = [];
  for (const segment of segments) {
    if (dropXmp && isXmp(segment)) {
      changed = true;
      continue;
    }
    const tiff = isExif(segment) ? tiffOf(segment.payload) : null;
    if (tiff) {
      const clean = withoutGps(tiff);
      if (clean && clean.equals(tiff)) {
        out.push(segment);
        continue;
      }
      changed = true;
      if (clean) out.push({ marker: segment.marker, payload: exifPayloadOf(clean) });
      else {
        // Too damaged to edit: the whole EXIF goes, but the picture keeps its orientation.
        const orientation = orientationOf(tiff) ?? 1;
        if (orientation !== 1) out.push(orientationSegment(orientation));
      }
      continue;
    }
    out.push(segment);
  }
  return { segments: out, changed };
}

/**
 * Writes `target` as `source` minus what `mode` removes. Returns false (and writes nothing)
 * when the file already complies or is not a JPEG whose segments can be walked.
 */
export async function stripJpegFile(source: string, target: string, mode: StripMode): Promise<boolean> {
  if (mode === 'none') return false;
  const header = await readJpegHeader(source);
  if (!header) return false;
  const { segments, changed } = filterJpegSegments(header.segments, mode);
  if (!changed) return false;
  await writeJpegWithSegments(source, header.bodyOffset, segments, target);
  return true;
}

/**
 * Metadata segments for a JPEG that sharp wrote from upright pixels (a resize, a HEIC
 * conversion): the source's EXIF (Orientation now 1), XMP and IPTC, as far as `mode` allows.
 */
export function carriedSegments(blocks: MetadataBlocks, mode: StripMode): JpegSegment[] {
  if (mode === 'all') return [];
  const added: JpegSegment[] = [];
  const tiff = tiffOf(blocks.exif);
  if (tiff) {
    const allowed = mode === 'gps' ? withoutGps(tiff) : tiff;
    const segment = allowed ? exifSegment(exifPayloadOf(withOrientation(allowed, 1))) : null;
    if (segment) added.push(segment);
  }
  if (blocks.xmp && !(mode === 'gps' && xmpHasGps(blocks.xmp))) {
    const segment = xmpSegment(blocks.xmp);
    if (segment) added.push(segment);
  }
  if (mode === 'none' && blocks.iptc && blocks.iptc.length <= 0xfffd && blocks.iptc.subarray(0, 13).toString('latin1') === 'Photoshop 3.0') {
    added.push({ marker: 0xed, payload: blocks.iptc });
  }
  return added;
}

/** Adds metadata segments to a JPEG (written to `target`); false when there was nothing to add. */
export async function addJpegSegments(source: string, target: string, added: JpegSegment[]): Promise<boolean> {
  if (added.length === 0) return false;
  const header = await readJpegHeader(source);
  if (!header) return false;
  const kept = header.segments.filter((s) => !isExif(s) && !isXmp(s) && !isIptc(s));
  await writeJpegWithSegments(source, header.bodyOffset, insertAfterJfif(kept, added), target);
  return true;
}
