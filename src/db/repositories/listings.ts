import { sql, type Kysely, type SelectQueryBuilder } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { AlbumRow, Database, ImageRow } from '../schema.js';

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

interface Window {
  op: '<' | '>';
  cursor: number | null;
  direction: 'desc' | 'asc';
  limit: number;
}

/** Runs `fetch` for the requested window and works out the links either side. */
async function keysetPage<T>(request: PageRequest, fetch: (w: Window) => Promise<T[]>, keyOf: (row: T) => number): Promise<Page<T>> {
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

function windowed<QB extends SelectQueryBuilder<Database, 'images', ImageRow>>(q: QB, w: Window): QB {
  let out = q.orderBy('images.id', w.direction).limit(w.limit);
  if (w.cursor !== null) out = out.where('images.id', w.op, w.cursor);
  return out as QB;
}

export type ImageListing =
  | { kind: 'explore' }
  | { kind: 'user'; userId: number; includeUnlisted: boolean }
  | { kind: 'album'; albumId: number }
  | { kind: 'search'; text: string };

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export async function listImages(db: Kysely<Database>, listing: ImageListing, page: PageRequest, now = new Date()): Promise<Page<ImageRow>> {
  return keysetPage(page, (w) => {
    let q = notExpired(db.selectFrom('images').selectAll('images'), now);
    switch (listing.kind) {
      case 'explore':
        q = q.where('images.listed', '=', 1);
        break;
      case 'user':
        q = q.where('images.user_id', '=', listing.userId);
        if (!listing.includeUnlisted) q = q.where('images.listed', '=', 1);
        break;
      case 'album':
        q = q.where('images.album_id', '=', listing.albumId);
        break;
      case 'search': {
        const text = listing.text.toLowerCase();
        const pattern = `%${escapeLike(text)}%`;
        q = q.where('images.listed', '=', 1).where((eb) =>
          eb.or([
            sql<boolean>`lower(images.title) like ${pattern} escape '\\'`,
            eb.exists(
              eb.selectFrom('image_tags')
                .innerJoin('tags', 'tags.id', 'image_tags.tag_id')
                .select('image_tags.image_id')
                .whereRef('image_tags.image_id', '=', 'images.id')
                .where(sql<string>`lower(tags.name)`, '=', text),
            ),
          ]),
        );
        break;
      }
    }
    return windowed(q, w).execute();
  }, (row) => row.id);
}

export async function findTagByName(db: Kysely<Database>, name: string): Promise<{ id: number; name: string } | undefined> {
  return db.selectFrom('tags').select(['id', 'name']).where('name', '=', name).executeTakeFirst();
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
    if (!listing.includeHidden) q = q.where('privacy', '=', 'public');
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
