import { randomBytes } from 'node:crypto';

/**
 * Names of stored files and default titles, from the client's original filename.
 * `Badgers _ animated music video _ MrWeebl.mp4` → name `Badgers-animated-music-video`
 * (words joined by dashes, at most 28 characters, cut at a word), title
 * `Badgers animated music video MrWeebl` (every word, at most 100 characters).
 */
const MAX_NAME_LENGTH = 28;
const MAX_TITLE_LENGTH = 100;
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function randomAlphanumeric(length: number): string {
  const bytes = randomBytes(length);
  return [...bytes].map((b) => ALPHANUMERIC[b % 62]).join('');
}

/** The client's filename without any directory part (browsers on Windows send `C:\fakepath\x.png`). */
export function cleanOriginalFilename(filename: string | null | undefined): string | null {
  if (!filename) return null;
  const base = filename.split(/[\\/]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '').trim();
  return base.length > 0 ? base.slice(0, 255) : null;
}

function stem(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot > 0 ? filename.slice(0, dot) : filename;
}

function asciiWords(text: string): string[] {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean);
}

/** The stored base name; random when the filename has no usable characters. */
export function storedNameFor(originalFilename: string | null): string {
  const words = originalFilename ? asciiWords(stem(originalFilename)) : [];
  let name = '';
  for (const word of words) {
    const next = name ? `${name}-${word}` : word;
    if (next.length > MAX_NAME_LENGTH) {
      if (!name) name = word.slice(0, MAX_NAME_LENGTH);
      break;
    }
    name = next;
  }
  return name || randomAlphanumeric(12);
}

/** A name for a second file that wants a taken name. */
export function withRandomSuffix(name: string): string {
  return `${name}-${randomAlphanumeric(5)}`;
}

export function titleFromFilename(originalFilename: string | null): string | null {
  if (!originalFilename) return null;
  const title = stem(originalFilename).replace(/[_\s-]+/g, ' ').trim();
  return title ? truncateTitle(title) : null;
}

export function truncateTitle(title: string): string {
  return [...title].slice(0, MAX_TITLE_LENGTH).join('').trim();
}
