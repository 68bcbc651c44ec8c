/**
 * Small, careful edits of an EXIF (TIFF-structured) block: find its start, drop the GPS
 * directory, set the orientation, or build one that holds only an orientation.
 *
 * Every edit keeps the block's length and every other offset intact, so nothing else in it
 * can break: an entry is removed by shifting the rest of its directory up and zero-filling
 * the freed bytes, and removed values are overwritten with zeros (the location must not
 * survive as orphaned bytes). A block too damaged to edit safely yields null, and callers
 * drop it whole rather than keep what they could not clean.
 */

const TAG_ORIENTATION = 0x0112;
const TAG_GPS_IFD = 0x8825;
/** Bytes per value of each TIFF field type (1 BYTE … 13 IFD). */
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4 };
const EXIF_PREFIX = Buffer.from('Exif\0\0', 'latin1');

/** The TIFF block of an EXIF payload: raw (HEIF, PNG eXIf) or behind the JPEG `Exif\0\0` prefix. */
export function tiffOf(payload: Buffer | undefined | null): Buffer | null {
  if (!payload) return null;
  const start = payload.subarray(0, 6).equals(EXIF_PREFIX) ? 6 : 0;
  const tiff = payload.subarray(start);
  if (tiff.length < 8) return null;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return null;
  return tiff;
}

class TiffView {
  readonly little: boolean;
  constructor(readonly buf: Buffer) {
    this.little = buf.toString('latin1', 0, 2) === 'II';
  }
  inside(offset: number, length: number): boolean {
    return Number.isInteger(offset) && offset >= 0 && length >= 0 && offset + length <= this.buf.length;
  }
  u16(offset: number): number {
    return this.little ? this.buf.readUInt16LE(offset) : this.buf.readUInt16BE(offset);
  }
  u32(offset: number): number {
    return this.little ? this.buf.readUInt32LE(offset) : this.buf.readUInt32BE(offset);
  }
  setU16(offset: number, value: number): void {
    if (this.little) this.buf.writeUInt16LE(value, offset);
    else this.buf.writeUInt16BE(value, offset);
  }
  /** Offset of IFD0, or null when the header is not a TIFF header. */
  ifd0(): number | null {
    if (this.u16(2) !== 42) return null;
    const offset = this.u32(4);
    return this.inside(offset, 2) && this.inside(offset, 2 + 12 * this.u16(offset) + 4) ? offset : null;
  }
  /** Entry offsets of a directory. */
  entries(ifd: number): number[] {
    return Array.from({ length: this.u16(ifd) }, (_, i) => ifd + 2 + i * 12);
  }
}

function findEntry(view: TiffView, ifd: number, tag: number): number | null {
  return view.entries(ifd).find((entry) => view.u16(entry) === tag) ?? null;
}

/** True when IFD0 points at a GPS directory. */
export function hasGpsDirectory(tiff: Buffer): boolean {
  const view = new TiffView(tiff);
  const ifd0 = view.ifd0();
  return ifd0 !== null && findEntry(view, ifd0, TAG_GPS_IFD) !== null;
}

/**
 * A copy without the GPS directory: its entries and out-of-line values are zeroed and the
 * pointer to it is removed from IFD0. Null when the block is too damaged to edit.
 */
export function withoutGps(source: Buffer): Buffer | null {
  const tiff = Buffer.from(source);
  const view = new TiffView(tiff);
  const ifd0 = view.ifd0();
  if (ifd0 === null) return null;
  const pointer = findEntry(view, ifd0, TAG_GPS_IFD);
  if (pointer === null) return tiff;

  const gps = view.u32(pointer + 8);
  if (!view.inside(gps, 2)) return null;
  const count = view.u16(gps);
  const gpsLength = 2 + count * 12 + 4;
  if (!view.inside(gps, gpsLength)) return null;
  for (const entry of view.entries(gps)) {
    const size = (TYPE_SIZES[view.u16(entry + 2)] ?? 1) * view.u32(entry + 4);
    if (size > 4) {
      const valueOffset = view.u32(entry + 8);
      if (!view.inside(valueOffset, size)) return null;
      tiff.fill(0, valueOffset, valueOffset + size);
    }
  }
  tiff.fill(0, gps, gps + gpsLength);

  // Shift the entries after the pointer (and the next-IFD offset) up by one entry.
  const ifdCount = view.u16(ifd0);
  const end = ifd0 + 2 + ifdCount * 12 + 4;
  tiff.copy(tiff, pointer, pointer + 12, end);
  tiff.fill(0, end - 12, end);
  view.setU16(ifd0, ifdCount - 1);
  return tiff;
}

/** EXIF Orientation (1-8) from IFD0, or null. */
export function orientationOf(tiff: Buffer): number | null {
  const view = new TiffView(tiff);
  const ifd0 = view.ifd0();
  if (ifd0 === null) return null;
  const entry = findEntry(view, ifd0, TAG_ORIENTATION);
  if (entry === null || view.u16(entry + 2) !== 3) return null;
  const value = view.u16(entry + 8);
  return value >= 1 && value <= 8 ? value : null;
}

/** A copy with Orientation set (when the tag exists; pixels already upright want 1). */
export function withOrientation(source: Buffer, orientation: number): Buffer {
  const tiff = Buffer.from(source);
  const view = new TiffView(tiff);
  const ifd0 = view.ifd0();
  const entry = ifd0 === null ? null : findEntry(view, ifd0, TAG_ORIENTATION);
  if (entry !== null && view.u16(entry + 2) === 3 && view.u32(entry + 4) === 1) view.setU16(entry + 8, orientation);
  return tiff;
}

/** The smallest TIFF block there is: IFD0 with one Orientation entry. */
export function orientationOnlyTiff(orientation: number): Buffer {
  const tiff = Buffer.alloc(8 + 2 + 12 + 4);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(8, 4);
  tiff.writeUInt16LE(1, 8);
  tiff.writeUInt16LE(TAG_ORIENTATION, 10);
  tiff.writeUInt16LE(3, 12);
  tiff.writeUInt32LE(1, 14);
  tiff.writeUInt16LE(orientation, 18);
  tiff.writeUInt32LE(0, 22);
  return tiff;
}

/** The APP1 payload of a TIFF block. */
export function exifPayloadOf(tiff: Buffer): Buffer {
  return Buffer.concat([EXIF_PREFIX, tiff]);
}
