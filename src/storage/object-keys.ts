/**
 * Object keys of an upload and its derivatives, Chevereto's `datefolder` layout:
 * `images/YYYY/MM/DD/<name>.<ext>`, `<name>.th.<ext>`, `<name>.md.<ext>`, `<name>.fr.jpeg`.
 */
export interface FileIdentity {
  folder: string;
  name: string;
  extension: string;
  /** Extension of the thumb and medium (jpeg for video). */
  derivative_extension: string;
}

export type FileRole = 'image' | 'thumb' | 'medium' | 'frame';

export const ROLE_SUFFIX: Record<FileRole, string> = { image: '', thumb: '.th', medium: '.md', frame: '.fr' };

export function dateFolder(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getUTCFullYear()}/${pad(date.getUTCMonth() + 1)}/${pad(date.getUTCDate())}`;
}

export function fileNameOf(file: FileIdentity, role: FileRole): string {
  if (role === 'image') return `${file.name}.${file.extension}`;
  if (role === 'frame') return `${file.name}.fr.jpeg`;
  return `${file.name}${ROLE_SUFFIX[role]}.${file.derivative_extension}`;
}

export function objectKey(file: FileIdentity, role: FileRole): string {
  return `images/${file.folder}/${fileNameOf(file, role)}`;
}


/** Parses a request path under `images/` back into folder, base name and role; null when it is not one of ours. */
export function parseObjectPath(rest: string): { folder: string; name: string; role: FileRole; extension: string } | null {
  const m = /^(\d{4}\/\d{2}\/\d{2})\/([^/]+?)(\.th|\.md|\.fr)?\.([a-z0-9]{2,5})$/.exec(rest);
  if (!m) return null;
  const role: FileRole = m[3] === '.th' ? 'thumb' : m[3] === '.md' ? 'medium' : m[3] === '.fr' ? 'frame' : 'image';
  return { folder: m[1], name: m[2], role, extension: m[4] };
}

/** Kept here for older imports; the image's files are `image-files.ts`. */
export { objectKeysOf } from './image-files.js';
