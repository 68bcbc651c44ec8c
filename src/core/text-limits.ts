import { errors } from './errors.js';

/**
 * The one set of limits on text people give Shoebox, whichever way it comes in (the API, the
 * web uploader, resumable uploads, the site's forms, the command line): as Chevereto has them,
 * in characters (code points). Too long is a 400 that names the field, never a silent cut: the
 * API says it in its envelope (`Invalid <field>: at most N characters`), the site's pages in the
 * visitor's language (web/site.ts, from the error's `details`).
 */
export const TEXT_LIMITS = {
  title: 100,
  description: 5000,
  /** One tag. */
  tag: 50,
  /** Tags on one file. */
  tags: 30,
  albumName: 100,
  albumDescription: 5000,
} as const;

function characters(text: string, max: number): number {
  // UTF-16 length is an upper bound on code points: most text never needs counting.
  if (text.length <= max) return text.length;
  // Far over the limit (a 20 MB "description"): no need to count it all.
  if (text.length > max * 2) return text.length;
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/** Throws `Invalid <field>: at most N characters` when the text is longer than `max`. */
export function checkTextLength(field: string, text: string | null | undefined, max: number): void {
  if (text && characters(text, max) > max) throw errors.textTooLong(field, { unit: 'characters', max });
}

/** Comma-separated tags as sent: at most TEXT_LIMITS.tags of them, each at most TEXT_LIMITS.tag characters. */
export function checkTagsText(field: string, text: string | null | undefined): void {
  if (!text) return;
  if (text.length > (TEXT_LIMITS.tag + 1) * TEXT_LIMITS.tags * 2) throw errors.textTooLong(field, { unit: 'tagCharacters', max: TEXT_LIMITS.tag, tags: TEXT_LIMITS.tags });
  checkTagList(field, text.split(',').map((t) => t.trim().replace(/\s+/g, ' ')).filter(Boolean));
}

/** Tags already split: the same limits. */
export function checkTagList(field: string, tags: readonly string[]): void {
  const distinct = new Set(tags.map((t) => t.toLowerCase()));
  if (distinct.size > TEXT_LIMITS.tags) throw errors.textTooLong(field, { unit: 'tags', max: TEXT_LIMITS.tags });
  for (const tag of tags) {
    if (characters(tag, TEXT_LIMITS.tag) > TEXT_LIMITS.tag) throw errors.textTooLong(field, { unit: 'tagCharacters', max: TEXT_LIMITS.tag, tags: TEXT_LIMITS.tags });
  }
}
