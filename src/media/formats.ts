/**
 * The formats Shoebox knows, keyed by the name used in SHOEBOX_ACCEPTED_TYPES.
 * `storedAs` is what the file becomes on disk: most formats are kept as uploaded, BMP is
 * stored as PNG and HEIC as JPEG or AVIF (browsers can show neither BMP reliably nor HEIC).
 * TIFF (off by default; add `tiff` to SHOEBOX_ACCEPTED_TYPES) is stored as PNG, its first
 * page only: browsers can't show TIFF, and PNG keeps every pixel.
 */
export type MediaType = 'image' | 'video';

export interface MediaFormat {
  name: string;
  label: string;
  mime: string;
  type: MediaType;
  /** Extension and mime of the stored file; null when stored as uploaded. */
  storedAs: { extension: string; mime: string } | null;
}

export const FORMATS: Record<string, MediaFormat> = {
  jpg: { name: 'jpg', label: 'JPG JPEG', mime: 'image/jpeg', type: 'image', storedAs: null },
  png: { name: 'png', label: 'PNG', mime: 'image/png', type: 'image', storedAs: null },
  gif: { name: 'gif', label: 'GIF', mime: 'image/gif', type: 'image', storedAs: null },
  webp: { name: 'webp', label: 'WEBP', mime: 'image/webp', type: 'image', storedAs: null },
  avif: { name: 'avif', label: 'AVIF', mime: 'image/avif', type: 'image', storedAs: null },
  bmp: { name: 'bmp', label: 'BMP', mime: 'image/bmp', type: 'image', storedAs: { extension: 'png', mime: 'image/png' } },
  heic: { name: 'heic', label: 'HEIC', mime: 'image/heic', type: 'image', storedAs: { extension: 'jpeg', mime: 'image/jpeg' } },
  tiff: { name: 'tiff', label: 'TIFF', mime: 'image/tiff', type: 'image', storedAs: { extension: 'png', mime: 'image/png' } },
  mp4: { name: 'mp4', label: 'MP4', mime: 'video/mp4', type: 'video', storedAs: null },
  mov: { name: 'mov', label: 'MOV', mime: 'video/quicktime', type: 'video', storedAs: null },
  webm: { name: 'webm', label: 'WEBM', mime: 'video/webm', type: 'video', storedAs: null },
};

/** What HEIC/HEIF uploads become (SHOEBOX_HEIC_OUTPUT). */
export type HeicOutput = 'jpeg' | 'avif';

/** Extension of a stored file for a format: `jpg` is kept when the client named it so (as Chevereto does). */
export function storedExtensionOf(format: MediaFormat, originalFilename: string | null, heicOutput: HeicOutput = 'jpeg'): string {
  if (format.name === 'heic') return heicOutput;
  if (format.storedAs) return format.storedAs.extension;
  if (format.name === 'jpg') return /\.jpg$/i.test(originalFilename ?? '') ? 'jpg' : 'jpeg';
  return format.name;
}

export function storedMimeOf(format: MediaFormat, heicOutput: HeicOutput = 'jpeg'): string {
  if (format.name === 'heic') return heicOutput === 'avif' ? 'image/avif' : 'image/jpeg';
  return format.storedAs?.mime ?? format.mime;
}

const MIME_BY_EXTENSION: Record<string, string> = {
  jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp',
  avif: 'image/avif', mp4: 'video/mp4', mov: 'video/quicktime', webm: 'video/webm', bmp: 'image/bmp',
};

export function mimeOfExtension(extension: string): string {
  return MIME_BY_EXTENSION[extension.toLowerCase()] ?? 'application/octet-stream';
}

/** "JPG JPEG PNG BMP GIF WEBP", the label shown under the uploader's drop zone. */
export function acceptedLabel(accepted: string[]): string {
  return accepted.map((n) => FORMATS[n]?.label ?? n.toUpperCase()).join(' ');
}
