import { sql, type Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { AlbumRow, Database, ImageRow, UserRow } from '../schema.js';
import { listedFor } from './album-edits.js';

/**
 * The dashboard's SQL: site totals, the user, file and album lists with their filters,
 * and the account changes an admin makes (role, disabled, sessions, key, delete).
 * Lists page by offset: an admin's lists sort by any column, and they are small next to
 * the public listings (which use keysets, see listings.ts).
 */

export interface SiteTotals {
  files: number;
  bytes: number;
  users: number;
  albums: number;
}

const n = (value: unknown) => Number(value ?? 0);

export async function siteTotals(db: Kysely<Database>): Promise<SiteTotals> {
  const [images, users, albums] = await Promise.all([
    db.selectFrom('images').select((eb) => [eb.fn.countAll().as('files'), eb.fn.sum<number>(sql`size + thumb_size + medium_size + frame_size`).as('bytes')]).executeTakeFirstOrThrow(),
    db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
    db.selectFrom('albums').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { files: n(images.files), bytes: n(images.bytes), users: n(users.n), albums: n(albums.n) };
}

/** Uploads per UTC day since `since` (`YYYY-MM-DD` → count); days without uploads are absent. */
export async function uploadsPerDay(db: Kysely<Database>, since: Date): Promise<Map<string, number>> {
  const day = sql<string>`substr(date_gmt, 1, 10)`;
  const rows = await db
    .selectFrom('images')
    .select([day.as('day'), (eb) => eb.fn.countAll().as('n')])
    .where('date_gmt', '>=', formatUtc(since))
    .groupBy(day)
    .execute();
  return new Map(rows.map((r) => [String(r.day), n(r.n)]));
}

export async function newestImages(db: Kysely<Database>, limit: number): Promise<(ImageRow & { username: string | null })[]> {
  return db
    .selectFrom('images')
    .leftJoin('users', 'users.id', 'images.user_id')
    .selectAll('images')
    .select('users.username')
    .orderBy('images.id', 'desc')
    .limit(limit)
    .execute();
}

export async function newestUsers(db: Kysely<Database>, limit: number): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('id', 'desc').limit(limit).execute();
}

export const USER_SORTS = ['created', 'username', 'files', 'bytes', 'last_seen'] as const;
export type UserSort = (typeof USER_SORTS)[number];

export interface UserListQuery {
  search: string;
  sort: UserSort;
  descending: boolean;
  offset: number;
  limit: number;
}

export interface AdminUserRow extends UserRow {
  files: number;
  albums: number;
  bytes: number;
  last_seen: string | null;
}

function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function userStatsQuery(db: Kysely<Database>) {
  return db
    .selectFrom('users')
    .selectAll('users')
    .select((eb) => [
      eb.selectFrom('images').select((e) => e.fn.countAll().as('c')).whereRef('images.user_id', '=', 'users.id').as('files'),
      eb.selectFrom('albums').select((e) => e.fn.countAll().as('c')).whereRef('albums.user_id', '=', 'users.id').as('albums'),
      eb.selectFrom('images').select(sql`coalesce(sum(size + thumb_size + medium_size + frame_size), 0)`.as('b')).whereRef('images.user_id', '=', 'users.id').as('bytes'),
      eb.selectFrom('sessions').select((e) => e.fn.max('last_seen_at').as('s')).whereRef('sessions.user_id', '=', 'users.id').as('session_seen'),
      eb.selectFrom('api_keys').select('last_used_at').whereRef('api_keys.user_id', '=', 'users.id').as('key_seen'),
    ]);
}

function toAdminUser(row: Record<string, unknown>): AdminUserRow {
  const seen = [row.session_seen, row.key_seen].filter((v): v is string => typeof v === 'string').sort();
  const { session_seen: _s, key_seen: _k, ...user } = row;
  return { ...(user as unknown as UserRow), files: n(row.files), albums: n(row.albums), bytes: n(row.bytes), last_seen: seen.at(-1) ?? null };
}

export async function listUsersForAdmin(db: Kysely<Database>, query: UserListQuery): Promise<{ users: AdminUserRow[]; total: number }> {
  const search = query.search.trim();
  const filter = <QB extends { where: any }>(q: QB): QB =>
    search ? (q.where((eb: any) => eb.or([eb(eb.fn('lower', ['users.username']), 'like', likePattern(search)), eb(eb.fn('lower', ['users.email']), 'like', likePattern(search))])) as QB) : q;
  const direction = query.descending ? 'desc' : 'asc';
  const order = {
    created: sql`users.id`,
    username: sql`lower(users.username)`,
    files: sql`files`,
    bytes: sql`bytes`,
    // PostgreSQL takes a bare output alias in ORDER BY but not one inside an expression: spelled out.
    last_seen: sql`coalesce((select max(s.last_seen_at) from sessions s where s.user_id = users.id), '')`,
  }[query.sort];
  const [rows, total] = await Promise.all([
    filter(userStatsQuery(db)).orderBy(order, direction).orderBy('users.id', direction).limit(query.limit).offset(query.offset).execute(),
    filter(db.selectFrom('users').select((eb) => eb.fn.countAll().as('n'))).executeTakeFirstOrThrow(),
  ]);
  return { users: rows.map((r) => toAdminUser(r as Record<string, unknown>)), total: n((total as { n: unknown }).n) };
}

export async function findAdminUser(db: Kysely<Database>, userId: number): Promise<AdminUserRow | undefined> {
  const row = await userStatsQuery(db).where('users.id', '=', userId).executeTakeFirst();
  return row ? toAdminUser(row as Record<string, unknown>) : undefined;
}

/** Admin accounts that can still sign in. */
export async function countActiveAdmins(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll().as('n')).where('role', '=', 'admin').where('disabled_at', 'is', null).executeTakeFirstOrThrow();
  return n(row.n);
}

export async function setUserRole(db: Kysely<Database>, userId: number, role: string): Promise<void> {
  await db.updateTable('users').set({ role, is_admin: role === 'admin' ? 1 : 0 }).where('id', '=', userId).execute();
}

/** Disabling also ends every session of the account, in the same transaction. */
export async function setUserDisabled(db: Kysely<Database>, userId: number, disabled: boolean): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ disabled_at: disabled ? formatUtc(new Date()) : null }).where('id', '=', userId).execute();
    if (disabled) await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
  });
}

export async function deleteSessionsOfUser(db: Kysely<Database>, userId: number): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

export async function deleteApiKeyOfUser(db: Kysely<Database>, userId: number): Promise<boolean> {
  const result = await db.deleteFrom('api_keys').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export interface FileFilters {
  /** Username, or `guest` for files without an account. */
  user: string;
  type: '' | 'image' | 'video';
  nsfw: '' | 'yes' | 'no';
  albumId: number | null;
  from: string;
  to: string;
  minBytes: number | null;
  maxBytes: number | null;
  expiring: '' | 'yes' | 'no';
}

export async function listImagesForAdmin(
  db: Kysely<Database>,
  filters: FileFilters,
  offset: number,
  limit: number,
): Promise<{ images: (ImageRow & { username: string | null; album_name: string | null })[]; total: number }> {
  let q = db.selectFrom('images').leftJoin('users', 'users.id', 'images.user_id').leftJoin('albums', 'albums.id', 'images.album_id');
  if (filters.user === 'guest') q = q.where('images.user_id', 'is', null);
  else if (filters.user) q = q.where('users.username', '=', filters.user);
  if (filters.type === 'video') q = q.where('images.type', '=', 'video');
  else if (filters.type === 'image') q = q.where('images.type', '<>', 'video');
  if (filters.nsfw) q = q.where('images.nsfw', '=', filters.nsfw === 'yes' ? 1 : 0);
  if (filters.albumId !== null) q = q.where('images.album_id', '=', filters.albumId);
  if (filters.from) q = q.where('images.date_gmt', '>=', `${filters.from} 00:00:00`);
  if (filters.to) q = q.where('images.date_gmt', '<=', `${filters.to} 23:59:59`);
  if (filters.minBytes !== null) q = q.where('images.size', '>=', filters.minBytes);
  if (filters.maxBytes !== null) q = q.where('images.size', '<=', filters.maxBytes);
  if (filters.expiring === 'yes') q = q.where('images.expires_at', 'is not', null);
  else if (filters.expiring === 'no') q = q.where('images.expires_at', 'is', null);
  const [images, total] = await Promise.all([
    q.selectAll('images').select(['users.username', 'albums.name as album_name']).orderBy('images.id', 'desc').limit(limit).offset(offset).execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { images, total: n(total.n) };
}

export async function findImagesForAdmin(db: Kysely<Database>, ids: number[]): Promise<ImageRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('images').selectAll().where('id', 'in', ids).execute();
}

export async function setImagesNsfw(db: Kysely<Database>, ids: number[], nsfw: boolean): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.updateTable('images').set({ nsfw: nsfw ? 1 : 0 }).where('id', 'in', ids).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function setImagesExpiry(db: Kysely<Database>, ids: number[], expiresAt: string | null): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db.updateTable('images').set({ expires_at: expiresAt }).where('id', 'in', ids).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Moves files into `album` (null: out of any album); only files of the album's owner move. Returns how many did. */
export async function moveImagesForAdmin(db: Kysely<Database>, ids: number[], album: AlbumRow | null): Promise<number> {
  if (ids.length === 0) return 0;
  let q = db.updateTable('images').set({ album_id: album?.id ?? null, listed: listedFor(album) }).where('id', 'in', ids);
  if (album) q = q.where('user_id', '=', album.user_id);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function listAlbumsForAdmin(
  db: Kysely<Database>,
  search: string,
  offset: number,
  limit: number,
): Promise<{ albums: (AlbumRow & { username: string; files: number })[]; total: number }> {
  let q = db.selectFrom('albums').innerJoin('users', 'users.id', 'albums.user_id');
  if (search.trim()) q = q.where((eb) => eb.or([eb(eb.fn('lower', ['albums.name']), 'like', likePattern(search.trim())), eb('users.username', '=', search.trim())]));
  const [rows, total] = await Promise.all([
    q
      .selectAll('albums')
      .select(['users.username', (eb) => eb.selectFrom('images').select((e) => e.fn.countAll().as('c')).whereRef('images.album_id', '=', 'albums.id').as('files')])
      .orderBy('albums.id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute(),
    q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { albums: rows.map((r) => ({ ...r, files: n(r.files) })), total: n(total.n) };
}

/** The cluster jobs' last and next runs (job_runs, see db/repositories/job-runs.ts). */
export async function listJobRuns(db: Kysely<Database>) {
  return db.selectFrom('job_runs').selectAll().orderBy('name').execute();
}

export async function findUserByName(db: Kysely<Database>, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}
