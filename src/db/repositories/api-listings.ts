import { sql, type Kysely } from 'kysely';
import type { AlbumRow, Database, ImageRow, UserRow } from '../schema.js';

/** Filters of the management API's file list: always one owner's files, newest first. */
export interface OwnerImageFilter {
  userId: number;
  albumId?: number | null;
  type?: 'image' | 'video';
  nsfw?: boolean;
  /** Substring of the title (case-insensitive). */
  search?: string;
  /** `YYYY-MM-DD HH:MM:SS` UTC bounds on date_gmt (inclusive). */
  from?: string;
  to?: string;
  /** Keyset: only ids below this one. */
  beforeId?: number;
  limit: number;
}

/** One page (keyset on id, newest first); `more` when another page follows. */
export async function listOwnerImages(db: Kysely<Database>, filter: OwnerImageFilter): Promise<{ items: ImageRow[]; more: boolean }> {
  let query = db.selectFrom('images').selectAll().where('user_id', '=', filter.userId);
  if (filter.albumId !== undefined) query = filter.albumId === null ? query.where('album_id', 'is', null) : query.where('album_id', '=', filter.albumId);
  if (filter.type) query = query.where('type', '=', filter.type);
  if (filter.nsfw !== undefined) query = query.where('nsfw', '=', filter.nsfw ? 1 : 0);
  if (filter.search) query = query.where(sql<string>`lower(title)`, 'like', `%${filter.search.toLowerCase()}%`);
  if (filter.from) query = query.where('date_gmt', '>=', filter.from);
  if (filter.to) query = query.where('date_gmt', '<=', filter.to);
  if (filter.beforeId !== undefined) query = query.where('id', '<', filter.beforeId);
  const rows = await query.orderBy('id', 'desc').limit(filter.limit + 1).execute();
  return { items: rows.slice(0, filter.limit), more: rows.length > filter.limit };
}


/** One owner's albums, newest first, keyset on id. */
export async function listOwnerAlbums(db: Kysely<Database>, userId: number, limit: number, beforeId?: number): Promise<{ items: AlbumRow[]; more: boolean }> {
  let query = db.selectFrom('albums').selectAll().where('user_id', '=', userId);
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();
  return { items: rows.slice(0, limit), more: rows.length > limit };
}

export async function countImagesInAlbum(db: Kysely<Database>, albumId: number): Promise<number> {
  const row = await db.selectFrom('images').select(sql<number>`count(*)`.as('n')).where('album_id', '=', albumId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The number of files in each of `albumIds` (0 for an empty album), in one query. */
export async function countImagesInAlbums(db: Kysely<Database>, albumIds: number[]): Promise<Map<number, number>> {
  const counts = new Map<number, number>(albumIds.map((id) => [id, 0]));
  if (albumIds.length === 0) return counts;
  const rows = await db
    .selectFrom('images')
    .select(['album_id', sql<number>`count(*)`.as('n')])
    .where('album_id', 'in', albumIds)
    .groupBy('album_id')
    .execute();
  for (const row of rows) if (row.album_id !== null) counts.set(row.album_id, Number(row.n));
  return counts;
}

/** A user's usage: files, bytes, albums. */
export async function usageOf(db: Kysely<Database>, userId: number): Promise<{ images: number; bytes: number; albums: number }> {
  const images = await db
    .selectFrom('images')
    .select([sql<number>`count(*)`.as('n'), sql<number>`coalesce(sum(size), 0)`.as('bytes')])
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  const albums = await db.selectFrom('albums').select(sql<number>`count(*)`.as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
  return { images: Number(images.n), bytes: Number(images.bytes), albums: Number(albums.n) };
}

/** Users by id, newest first, keyset on id (admin API). */
export async function listUsersPage(db: Kysely<Database>, limit: number, beforeId?: number): Promise<{ items: UserRow[]; more: boolean }> {
  let query = db.selectFrom('users').selectAll();
  if (beforeId !== undefined) query = query.where('id', '<', beforeId);
  const rows = await query.orderBy('id', 'desc').limit(limit + 1).execute();
  return { items: rows.slice(0, limit), more: rows.length > limit };
}
