/**
 * The type of a logo or favicon from its first bytes. SVG is not accepted: it can carry
 * script, and these files are served from the site's own origin.
 */
export function sniffImageHeader(data: Buffer): string | null {
  const starts = (bytes: number[], offset = 0) => bytes.every((b, i) => data[offset + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (starts([0x00, 0x00, 0x01, 0x00])) return 'image/x-icon';
  return null;
}
