import { sql, type Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database, ImageRow } from '../schema.js';
import { withCovers, type AlbumCard, type MediaType } from './listings.js';

/**
 * Explore's other tabs, counts shown beside listings and the tag list (issue 19). Each query
 * walks one index (0011_site_browse) and is bounded: counts stop at a cap, "popular" at a
 * fixed number of pages, the tag list at its size.
 */

function live(now: Date) {
  return sql<boolean>`(images.expires_at is null or images.expires_at > ${formatUtc(now)})`;
}

/** Most viewed public files (the (listed, views, id) index), a page at a time by offset: at most `maxPages` pages. */
export async function listPopular(db: Kysely<Database>, page: number, limit: number, type?: MediaType, now = new Date(), categoryId?: number): Promise<{ items: ImageRow[]; hasMore: boolean }> {
  let q = db.selectFrom('images').selectAll().where('listed', '=', 1).where(live(now));
  if (type) q = q.where('type', '=', type);
  if (categoryId !== undefined) q = q.where('category_id', '=', categoryId);
  const rows = await q.orderBy('listed', 'desc').orderBy('views', 'desc').orderBy('id', 'desc').limit(limit + 1).offset(page * limit).execute();
  return { items: rows.slice(0, limit), hasMore: rows.length > limit };
}

/** A random window of public files: newest first from a random id (wrapping round to the newest). */
export async function listRandom(db: Kysely<Database>, limit: number, type?: MediaType, now = new Date(), categoryId?: number): Promise<ImageRow[]> {
  const bounds = await db.selectFrom('images').select((eb) => [eb.fn.min('id').as('low'), eb.fn.max('id').as('high')]).executeTakeFirst();
  if (!bounds?.high) return [];
  const low = Number(bounds.low);
  const high = Number(bounds.high);
  const pivot = low + Math.floor(Math.random() * (high - low + 1));
  const windowFrom = async (from: number) => {
    let q = db.selectFrom('images').selectAll().where('listed', '=', 1).where('id', '<=', from).where(live(now));
    if (type) q = q.where('type', '=', type);
    if (categoryId !== undefined) q = q.where('category_id', '=', categoryId);
    return q.orderBy('id', 'desc').limit(limit).execute();
  };
  const rows = await windowFrom(pivot);
  if (rows.length < limit && pivot < high) {
    const seen = new Set(rows.map((r) => r.id));
    rows.push(...(await windowFrom(high)).filter((r) => !seen.has(r.id)).slice(0, limit - rows.length));
  }
  // Shuffled, so the page does not read as a date range.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [rows[i], rows[j]] = [rows[j], rows[i]];
  }
  return rows;
}

/** Public albums (listed), newest first, keyset by id. */
export async function listPublicAlbums(db: Kysely<Database>, before: number | null, limit: number): Promise<{ items: AlbumCard[]; olderCursor: number | null }> {
  let q = db.selectFrom('albums').selectAll().where('listed', '=', 1);
  if (before !== null) q = q.where('id', '<', before);
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const items = rows.slice(0, limit);
  return { items: await withCovers(db, items), olderCursor: rows.length > limit ? items[items.length - 1].id : null };
}

export type CountedListing =
  | { kind: 'explore'; type?: MediaType; categoryId?: number }
  | { kind: 'user'; userId: number; includeUnlisted: boolean }
  | { kind: 'album'; albumId: number }
  | { kind: 'tag'; tagId: number };

/** How many files a listing has, counted along its index up to `cap` (the page says "1,000+" past it). */
export async function countListing(db: Kysely<Database>, listing: CountedListing, cap: number, now = new Date()): Promise<number> {
  let inner;
  switch (listing.kind) {
    case 'explore': {
      let q = db.selectFrom('images').select('images.id').where('listed', '=', 1).where(live(now));
      if (listing.type) q = q.where('type', '=', listing.type);
      if (listing.categoryId !== undefined) q = q.where('category_id', '=', listing.categoryId);
      inner = q;
      break;
    }
    case 'user': {
      let q = db.selectFrom('images').select('images.id').where('user_id', '=', listing.userId).where(live(now));
      if (!listing.includeUnlisted) q = q.where('listed', '=', 1);
      inner = q;
      break;
    }
    case 'album':
      inner = db.selectFrom('images').select('images.id').where('album_id', '=', listing.albumId).where(live(now));
      break;
    case 'tag':
      inner = db.selectFrom('image_tags').innerJoin('images', 'images.id', 'image_tags.image_id').select('images.id')
        .where('image_tags.tag_id', '=', listing.tagId).where('images.listed', '=', 1).where(live(now));
      break;
  }
  const row = await db.selectFrom(inner.limit(cap + 1).as('counted')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface TagUse {
  name: string;
  uses: number;
}

/** The most used tags on public files (a tag only private files carry is not shown). Callers keep the answer a while. */
export async function mostUsedTags(db: Kysely<Database>, limit: number, now = new Date()): Promise<TagUse[]> {
  const rows = await db
    .selectFrom('image_tags')
    .innerJoin('tags', 'tags.id', 'image_tags.tag_id')
    .innerJoin('images', 'images.id', 'image_tags.image_id')
    .where('images.listed', '=', 1)
    .where(live(now))
    .select((eb) => ['tags.name', eb.fn.countAll<number>().as('uses')])
    .groupBy(['tags.id', 'tags.name'])
    .orderBy('uses', 'desc')
    .orderBy('tags.name')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ name: r.name, uses: Number(r.uses) }));
}
