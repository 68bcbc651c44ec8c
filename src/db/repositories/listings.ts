import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import { isPostgres } from '../dialect.js';
import type { AlbumRow, Database, ImageRow } from '../schema.js';
import { CJK_FROM } from '../migrations/0011_site_browse.js';
import { postgresTitleWindow } from './postgres-title-search.js';
import { sqliteTitleWindow } from './sqlite-title-search.js';

/**
 * The public listings of the web site (explore, profiles, albums, tags, search), all with
 * keyset pagination: `WHERE id < cursor ORDER BY id DESC LIMIT n + 1`. Each one walks an
 * index that ends in `id` (see 0002_web), so a page costs the same at row one million as at
 * row one, and no query ever counts or skips rows.
 */

export interface PageRequest {
  /** Show items older than this id (the "next page" link). */
  before?: number | null;
  /** Show items newer than this id (the "previous page" link). */
  after?: number | null;
  limit: number;
}

export interface Page<T> {
  items: T[];
  /** Pass as `after` for the newer page; null on the first page. */
  newerCursor: number | null;
  /** Pass as `before` for the older page; null on the last page. */
  olderCursor: number | null;
}

/** One window of a keyset walk: rows past `cursor` (by `op`), in `direction`, at most `limit` (the title searches take it too). */
export interface KeysetWindow {
  op: '<' | '>';
  cursor: number | null;
  direction: 'desc' | 'asc';
  limit: number;
}

/** Runs `fetch` for the requested window and works out the links either side. */
async function keysetPage<T>(request: PageRequest, fetch: (w: KeysetWindow) => Promise<T[]>, keyOf: (row: T) => number): Promise<Page<T>> {
  const { limit } = request;
  if (request.after) {
    const rows = await fetch({ op: '>', cursor: request.after, direction: 'asc', limit: limit + 1 });
    const items = rows.slice(0, limit).reverse();
    // Nothing newer any more (deleted meanwhile): the first page is what the reader wants.
    if (items.length === 0) return keysetPage({ limit }, fetch, keyOf);
    return { items, newerCursor: rows.length > limit ? keyOf(items[0]) : null, olderCursor: keyOf(items[items.length - 1]) };
  }
  const rows = await fetch({ op: '<', cursor: request.before ?? null, direction: 'desc', limit: limit + 1 });
  const items = rows.slice(0, limit);
  return {
    items,
    newerCursor: request.before && items.length > 0 ? keyOf(items[0]) : null,
    olderCursor: rows.length > limit ? keyOf(items[items.length - 1]) : null,
  };
}

function notExpired<QB extends SelectQueryBuilder<Database, 'images', any>>(q: QB, now: Date): QB {
  return q.where((eb) => eb.or([eb('images.expires_at', 'is', null), eb('images.expires_at', '>', formatUtc(now))])) as QB;
}

function windowed<QB extends SelectQueryBuilder<Database, 'images', ImageRow>>(q: QB, w: KeysetWindow): QB {
  let out = q.orderBy('images.id', w.direction).limit(w.limit);
  if (w.cursor !== null) out = out.where('images.id', w.op, w.cursor);
  return out as QB;
}

export type ImageListing =
  /** `categoryId`: explore's category filter, along images_category_listed_id (0016_categories). */
  | { kind: 'explore'; type?: MediaType; categoryId?: number }
  | { kind: 'user'; userId: number; includeUnlisted: boolean }
  /** `waitingOf`: whose files awaiting approval the viewer may see (their own id, 'all' for moderators; else none). */
  | { kind: 'album'; albumId: number; waitingOf?: number | 'all' | null }
  | { kind: 'search'; text: string; type?: MediaType };

/** `images.type`: a filter of explore and search. */
export type MediaType = 'image' | 'video';

/** Search needs at least this many characters to look at titles (trigram indexes); shorter text matches tags only, except two CJK characters. */
export const MIN_TITLE_SEARCH = 3;

/** Two Chinese, Japanese or Korean characters: searched in titles through `cjk_title_grams` (0011_site_browse). */
export function isCjkPair(text: string): boolean {
  const chars = [...text];
  return chars.length === 2 && chars.every((c) => c.codePointAt(0)! >= CJK_FROM);
}

/**
 * One window of a search: public files whose title contains the text (case-insensitive, any
 * script), or that carry a tag of exactly that name. Two keyset walks, each newest first from
 * the same cursor, merged: the title walk follows the trigram index (FTS5 on SQLite, see
 * 0004_search_privacy and sqlite-title-search.ts; on PostgreSQL a walk of recent files, then pg_trgm, see
 * postgres-title-search.ts), the tag walk image_tags (tag_id, image_id).
 */
async function searchWindow(db: Kysely<Database>, rawText: string, w: KeysetWindow, now: Date, type?: MediaType): Promise<ImageRow[]> {
  const text = rawText.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  if (!text) return [];
  const lower = text.toLowerCase();
  const tagIds = (await db.selectFrom('tags').select('id').where((eb) => eb.or([eb('name', '=', text), eb(sql<string>`lower(name)`, '=', lower)])).limit(20).execute()).map((t) => t.id);
  const byTag = tagIds.length === 0 ? Promise.resolve([]) : (() => {
    let q = notExpired(db.selectFrom('image_tags').innerJoin('images', 'images.id', 'image_tags.image_id').selectAll('images'), now)
      .where('image_tags.tag_id', 'in', tagIds)
      .where('images.listed', '=', 1)
      .where((eb) => (type ? eb('images.type', '=', type) : eb.lit(true)))
      .orderBy('image_tags.image_id', w.direction)
      .limit(w.limit);
    if (w.cursor !== null) q = q.where('image_tags.image_id', w.op, w.cursor);
    return q.execute();
  })();
  let byTitle: Promise<ImageRow[]> = Promise.resolve([]);
  if (isCjkPair(text)) {
    // Two CJK characters (a word there): the pairs table of 0011_site_browse, walked by (gram, image_id).
    let q = notExpired(db.selectFrom('cjk_title_grams').innerJoin('images', 'images.id', 'cjk_title_grams.image_id').selectAll('images'), now)
      .where('cjk_title_grams.gram', '=', lower)
      .where('images.listed', '=', 1)
      .where((eb) => (type ? eb('images.type', '=', type) : eb.lit(true)))
      .orderBy('cjk_title_grams.image_id', w.direction)
      .limit(w.limit);
    if (w.cursor !== null) q = q.where('cjk_title_grams.image_id', w.op, w.cursor);
    byTitle = q.execute();
  } else if ([...text].length >= MIN_TITLE_SEARCH) {
    if (isPostgres(db)) {
      // A newest-first walk of recent files, then the pg_trgm index past it (postgres-title-search.ts).
      byTitle = postgresTitleWindow(db, text, w, now, type);
    } else {
      // The FTS5 trigram index, narrowed to the text's rare trigrams when it has some (sqlite-title-search.ts).
      byTitle = sqliteTitleWindow(db, text, w, now, type);
    }
  }
  const seen = new Set<number>();
  const [titled, tagged] = await Promise.all([byTitle, byTag]);
  const merged = [...titled, ...tagged].filter((row) => !seen.has(row.id) && seen.add(row.id));
  merged.sort((a, b) => (w.direction === 'desc' ? b.id - a.id : a.id - b.id));
  return merged.slice(0, w.limit);
}

export async function listImages(db: Kysely<Database>, listing: ImageListing, page: PageRequest, now = new Date()): Promise<Page<ImageRow>> {
  if (listing.kind === 'search') {
    const { text, type } = listing;
    return keysetPage(page, (w) => searchWindow(db, text, w, now, type), (row) => row.id);
  }
  return keysetPage(page, (w) => listingWindow(db, listing, w, now), (row) => row.id);
}

/** One keyset window of a listing other than search (each walks an index ending in `id`). */
function listingWindow(db: Kysely<Database>, listing: Exclude<ImageListing, { kind: 'search' }>, w: KeysetWindow, now: Date): Promise<ImageRow[]> {
  let q = notExpired(db.selectFrom('images').selectAll('images'), now);
  switch (listing.kind) {
    case 'explore':
      // With a type: the (type, listed, id) index of 0011_site_browse.
      if (listing.type) q = q.where('images.type', '=', listing.type);
      // With a category: the (category_id, listed, id) index of 0016_categories.
      if (listing.categoryId !== undefined) q = q.where('images.category_id', '=', listing.categoryId);
      q = q.where('images.listed', '=', 1);
      break;
    case 'user':
      q = q.where('images.user_id', '=', listing.userId);
      if (!listing.includeUnlisted) q = q.where('images.listed', '=', 1);
      break;
    case 'album': {
      q = q.where('images.album_id', '=', listing.albumId);
      const waitingOf = listing.waitingOf ?? null;
      if (waitingOf !== 'all') q = q.where((eb) => eb.or([eb('images.is_approved', '=', 1), eb('images.user_id', '=', waitingOf ?? -1)]));
      break;
    }
  }
  return windowed(q, w).execute();
}

/** The listing a viewer page was opened from: a profile or an album (what `?from=` names). */
export type ViewerContext = Extract<ImageListing, { kind: 'user' } | { kind: 'album' }>;

/**
 * A file's neighbours in a listing, newest first: `newer` is the one shown before it (the
 * viewer's "previous"), `older` the one after. Two one-row keyset reads of the listing's own
 * index (`id > n ORDER BY id ASC LIMIT 1` and `id < n ORDER BY id DESC LIMIT 1`): the same
 * cost at any position in a list of any length, and the same privacy as the listing.
 */
export async function neighboursIn(db: Kysely<Database>, listing: ViewerContext, imageId: number, now = new Date()): Promise<{ newer: ImageRow | null; older: ImageRow | null }> {
  const [newer, older] = await Promise.all([
    listingWindow(db, listing, { op: '>', cursor: imageId, direction: 'asc', limit: 1 }, now),
    listingWindow(db, listing, { op: '<', cursor: imageId, direction: 'desc', limit: 1 }, now),
  ]);
  return { newer: newer[0] ?? null, older: older[0] ?? null };
}

/** How many files a search finds, counted up to `cap` (then "cap+"): one more walk of the same indexes. */
export async function countSearch(db: Kysely<Database>, text: string, cap: number, type?: MediaType, now = new Date()): Promise<number> {
  const rows = await searchWindow(db, text, { op: '<', cursor: null, direction: 'desc', limit: cap + 1 }, now, type);
  return rows.length;
}

/**
 * A tag by its name, only when at least one public, live file carries it: a tag used only on
 * private (or expired) files is as unknown as a tag nobody used, so its name tells nothing.
 */
export async function findPublicTagByName(db: Kysely<Database>, name: string, now = new Date()): Promise<{ id: number; name: string } | undefined> {
  return db
    .selectFrom('tags')
    .select(['tags.id', 'tags.name'])
    .where('tags.name', '=', name)
    .where(({ exists, selectFrom }) => exists(
      selectFrom('image_tags')
        .innerJoin('images', 'images.id', 'image_tags.image_id')
        .select('image_tags.image_id')
        .whereRef('image_tags.tag_id', '=', 'tags.id')
        .where('images.listed', '=', 1)
        .where((eb) => eb.or([eb('images.expires_at', 'is', null), eb('images.expires_at', '>', formatUtc(now))])),
    ))
    .executeTakeFirst();
}

/** Public files with a tag, newest first: walks image_tags (tag_id, image_id) and joins each image by its key. */
export async function listImagesWithTag(db: Kysely<Database>, tagId: number, page: PageRequest, now = new Date()): Promise<Page<ImageRow>> {
  return keysetPage(page, (w) => {
    let q = db
      .selectFrom('image_tags')
      .innerJoin('images', 'images.id', 'image_tags.image_id')
      .selectAll('images')
      .where('image_tags.tag_id', '=', tagId)
      .where('images.listed', '=', 1)
      .where((eb) => eb.or([eb('images.expires_at', 'is', null), eb('images.expires_at', '>', formatUtc(now))]))
      .orderBy('image_tags.image_id', w.direction)
      .limit(w.limit);
    if (w.cursor !== null) q = q.where('image_tags.image_id', w.op, w.cursor);
    return q.execute();
  }, (row) => row.id);
}

export interface AlbumCard {
  album: AlbumRow;
  /** The chosen cover while it is still in the album, else the newest file; null for an empty album. */
  cover: ImageRow | null;
  fileCount: number;
}

export async function withCovers(db: Kysely<Database>, albums: AlbumRow[]): Promise<AlbumCard[]> {
  if (albums.length === 0) return [];
  const stats = await db
    .selectFrom('images')
    .select((eb) => ['album_id', eb.fn.max('id').as('newest'), eb.fn.countAll<number>().as('files')])
    .where('album_id', 'in', albums.map((a) => a.id))
    .groupBy('album_id')
    .execute();
  const statOf = (album: AlbumRow) => stats.find((row) => Number(row.album_id) === album.id);
  const candidates = albums.flatMap((a) => [a.cover_image_id, statOf(a)?.newest]).filter((id): id is number => id !== null && id !== undefined).map(Number);
  const images = await findImagesByIds(db, [...new Set(candidates)]);
  return albums.map((album) => {
    const stat = statOf(album);
    // A chosen cover that was deleted or moved out of the album no longer counts.
    const chosen = images.find((i) => i.id === album.cover_image_id && i.album_id === album.id);
    const newest = stat ? images.find((i) => i.id === Number(stat.newest)) : undefined;
    return { album, cover: chosen ?? newest ?? null, fileCount: stat ? Number(stat.files) : 0 };
  });
}

export type AlbumListing = { kind: 'user'; userId: number; includeHidden: boolean } | { kind: 'children'; parentId: number; includeHidden: boolean };

/** A user's albums (public only, for visitors) or an album's sub-albums, newest first. */
export async function listAlbums(db: Kysely<Database>, listing: AlbumListing, page: PageRequest): Promise<Page<AlbumCard>> {
  const result = await keysetPage(page, (w) => {
    let q = db.selectFrom('albums').selectAll();
    q = listing.kind === 'user' ? q.where('user_id', '=', listing.userId) : q.where('parent_id', '=', listing.parentId);
    // Visitors: a user's listed albums (public, and inside no hidden album); an open album's public sub-albums.
    if (!listing.includeHidden) q = listing.kind === 'user' ? q.where('listed', '=', 1) : q.where('privacy', '=', 'public');
    q = q.orderBy('id', w.direction).limit(w.limit);
    if (w.cursor !== null) q = q.where('id', w.op, w.cursor);
    return q.execute();
  }, (row) => row.id);
  return { ...result, items: await withCovers(db, result.items) };
}

export async function findImagesByIds(db: Kysely<Database>, ids: number[]): Promise<ImageRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('images').selectAll().where('id', 'in', ids).execute();
}
