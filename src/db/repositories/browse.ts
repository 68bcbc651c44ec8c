import { sql, type Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database, ImageRow } from '../schema.js';
import { withCovers, type AlbumCard, type MediaType } from './listings.js';

/**
 * Explore's other tabs, counts shown beside listings and the tag list (issue 19). Each query
 * walks one index (0011_site_browse, 0017_browse_keysets) and is bounded: counts stop at a
 * cap, "popular" pages by keyset, the tag list at its size.
 */

function live(now: Date) {
  return sql<boolean>`(images.expires_at is null or images.expires_at > ${formatUtc(now)})`;
}

/** A place in the popular listing: the views and id of the last (or first) file shown. */
export interface PopularCursor {
  views: number;
  id: number;
}

export interface PopularPage {
  items: ImageRow[];
  /** Pass as `after` for the page before (more viewed); null on the first page. */
  newerCursor: PopularCursor | null;
  /** Pass as `before` for the page after (fewer views); null on the last page. */
  olderCursor: PopularCursor | null;
}

/**
 * Most viewed public files, most views first (ties: newest first), keyset-paginated on
 * (views, id): `(views, id) < (v, i) ORDER BY views DESC, id DESC LIMIT n + 1` along the
 * (listed, views, id) index, or (type, listed, views, id) for one type (0017_browse_keysets):
 * the same cost on page 1,000 as on page 1. Views counted meanwhile may move a file across
 * the cursor; it is then seen twice or not at all, never does a page fail.
 */
export async function listPopular(
  db: Kysely<Database>,
  request: { before?: PopularCursor | null; after?: PopularCursor | null; limit: number },
  type?: MediaType,
  now = new Date(),
  /** Explore's category filter (0016_categories). */
  categoryId?: number,
): Promise<PopularPage> {
  const { limit } = request;
  const window = (op: '<' | '>', cursor: PopularCursor | null, direction: 'desc' | 'asc') => {
    let q = db.selectFrom('images').selectAll().where('listed', '=', 1).where(live(now));
    if (type) q = q.where('type', '=', type);
    if (categoryId !== undefined) q = q.where('category_id', '=', categoryId);
    // A row value: one range on the index (both SQLite and PostgreSQL walk it as such).
    if (cursor) q = q.where(sql<boolean>`(views, id) ${sql.raw(op)} (${cursor.views}, ${cursor.id})`);
    if (type) q = q.orderBy('type', direction);
    return q.orderBy('listed', direction).orderBy('views', direction).orderBy('id', direction).limit(limit + 1).execute();
  };
  const keyOf = (row: ImageRow): PopularCursor => ({ views: row.views, id: row.id });
  if (request.after) {
    const rows = await window('>', request.after, 'asc');
    const items = rows.slice(0, limit).reverse();
    if (items.length === 0) return listPopular(db, { limit }, type, now, categoryId);
    return { items, newerCursor: rows.length > limit ? keyOf(items[0]) : null, olderCursor: keyOf(items[items.length - 1]) };
  }
  const rows = await window('<', request.before ?? null, 'desc');
  const items = rows.slice(0, limit);
  return {
    items,
    newerCursor: request.before && items.length > 0 ? keyOf(items[0]) : null,
    olderCursor: rows.length > limit ? keyOf(items[items.length - 1]) : null,
  };
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
  | { kind: 'tag'; tagId: number }
  /** Public albums (explore's albums tab): the (listed, id) index. */
  | { kind: 'albums' };

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
    case 'albums': {
      const albums = db.selectFrom('albums').select('albums.id').where('listed', '=', 1).limit(cap + 1);
      const counted = await db.selectFrom(albums.as('counted')).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(counted.n);
    }
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

/**
 * The most used tags on public files (a tag only private files carry is not shown), most uses
 * first, ties by name: a read of the first `limit` entries of `tags_uses_name` (uses desc, name),
 * whatever the number of files. `tags.uses` is a running count kept by triggers on every write
 * to image_tags and images (0019_tag_use_counts). Unlike the other listings it cannot leave out
 * files past their expiry that the sweep has not deleted yet (a count has no clock): they count
 * until the sweep deletes them, a sweep interval at most.
 */
export async function mostUsedTags(db: Kysely<Database>, limit: number): Promise<TagUse[]> {
  const rows = await db
    .selectFrom('tags')
    .select(['name', 'uses'])
    .where('uses', '>', 0)
    .orderBy('uses', 'desc')
    .orderBy('name')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ name: r.name, uses: Number(r.uses) }));
}
