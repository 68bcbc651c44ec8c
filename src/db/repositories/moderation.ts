import { sql, type Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { BlocklistRow, IpBanRow, StopWordRow } from '../moderation-schema.js';
import type { Database, ImageRow } from '../schema.js';

/** SQL of moderation: bans, blocklist, stop words, flags, the audit log, and what a purge selects. */

export async function insertIpBan(
  db: Kysely<Database>,
  ban: { range: string; message: string | null; expiresAt: Date | null; createdBy: string | null },
): Promise<IpBanRow> {
  const now = formatUtc(new Date());
  const values = { range: ban.range, message: ban.message, expires_at: ban.expiresAt ? formatUtc(ban.expiresAt) : null, created_at: now, created_by: ban.createdBy };
  // Banning a range again replaces its message and expiry.
  return db
    .insertInto('ip_bans')
    .values(values)
    .onConflict((oc) => oc.column('range').doUpdateSet({ message: values.message, expires_at: values.expires_at, created_at: now, created_by: values.created_by }))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Changes the message and/or the end of an existing ban (a field left out stays); undefined when there is no ban on `range`. */
export async function updateIpBan(
  db: Kysely<Database>,
  range: string,
  changes: { message?: string | null; expiresAt?: Date | null },
): Promise<IpBanRow | undefined> {
  const set: { message?: string | null; expires_at?: string | null } = {};
  if (changes.message !== undefined) set.message = changes.message;
  if (changes.expiresAt !== undefined) set.expires_at = changes.expiresAt ? formatUtc(changes.expiresAt) : null;
  if (Object.keys(set).length === 0) return db.selectFrom('ip_bans').selectAll().where('range', '=', range).executeTakeFirst();
  return db.updateTable('ip_bans').set(set).where('range', '=', range).returningAll().executeTakeFirst();
}

export async function deleteIpBan(db: Kysely<Database>, range: string): Promise<boolean> {
  const result = await db.deleteFrom('ip_bans').where('range', '=', range).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Bans still in force at `now`. */
export async function listActiveIpBans(db: Kysely<Database>, now = new Date()): Promise<IpBanRow[]> {
  return db
    .selectFrom('ip_bans')
    .selectAll()
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', formatUtc(now))]))
    .orderBy('id')
    .execute();
}

export async function insertBlocklistEntries(
  db: Kysely<Database>,
  entries: { md5: string | null; phash: string | null; reason: string; createdBy: string | null; createdAt?: string }[],
): Promise<number> {
  if (entries.length === 0) return 0;
  const now = formatUtc(new Date());
  let inserted = 0;
  // In batches: SQLite allows a limited number of bound parameters per statement.
  for (let i = 0; i < entries.length; i += 500) {
    const batch = entries.slice(i, i + 500).map((e) => ({ md5: e.md5, phash: e.phash, reason: e.reason, created_by: e.createdBy, created_at: e.createdAt ?? now }));
    await db.insertInto('blocklist').values(batch).execute();
    inserted += batch.length;
  }
  return inserted;
}

/** Entries added after `afterId`, oldest first (how an instance keeps its in-memory index current). */
export async function blocklistEntriesAfter(db: Kysely<Database>, afterId: number, limit = 10_000): Promise<BlocklistRow[]> {
  return db.selectFrom('blocklist').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
}

export async function countBlocklist(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('blocklist').select((eb) => eb.fn.countAll<string | number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function deleteBlocklistEntry(db: Kysely<Database>, id: number): Promise<boolean> {
  const result = await db.deleteFrom('blocklist').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function listStopWords(db: Kysely<Database>): Promise<StopWordRow[]> {
  return db.selectFrom('stop_words').selectAll().orderBy('word').execute();
}

export async function upsertStopWord(db: Kysely<Database>, word: string, action: 'refuse' | 'hold'): Promise<void> {
  await db
    .insertInto('stop_words')
    .values({ word, action, created_at: formatUtc(new Date()) })
    .onConflict((oc) => oc.column('word').doUpdateSet({ action }))
    .execute();
}

export async function deleteStopWord(db: Kysely<Database>, word: string): Promise<boolean> {
  const result = await db.deleteFrom('stop_words').where('word', '=', word).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function insertModerationFlag(db: Kysely<Database>, flag: { userId: number | null; ip: string | null; reason: string }): Promise<void> {
  await db.insertInto('moderation_flags').values({ user_id: flag.userId, ip: flag.ip, reason: flag.reason, created_at: formatUtc(new Date()) }).execute();
}

export async function listModerationFlags(db: Kysely<Database>) {
  return db.selectFrom('moderation_flags').selectAll().orderBy('id', 'desc').execute();
}

export async function insertAuditEntry(
  db: Kysely<Database>,
  entry: { actor: string; action: string; target?: string | null; detail?: string | null; ip?: string | null },
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ actor: entry.actor, action: entry.action, target: entry.target ?? null, detail: entry.detail ?? null, ip: entry.ip ?? null, created_at: formatUtc(new Date()) })
    .execute();
}

export async function listAuditEntries(db: Kysely<Database>, limit = 1000) {
  return db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit).execute();
}

/** A user's uploads (optionally since a date), newest first. */
/**
 * Uploads whose uploader address may be in a range: rows whose text starts with `prefix`
 * (the part of the address fixed by the range; none: every row); the caller keeps the rows
 * really inside it.
 */
export async function imagesWithIpPrefix(db: Kysely<Database>, prefixes: string[], since: string | null): Promise<ImageRow[]> {
  let query = db.selectFrom('images').selectAll().where('uploader_ip', 'is not', null);
  if (prefixes.length > 0 && prefixes.every(Boolean)) {
    query = query.where((eb) => eb.or(prefixes.map((p) => eb(sql<string>`substr(uploader_ip, 1, ${p.length})`, '=', p))));
  }
  if (since) query = query.where('date_gmt', '>=', since);
  return query.orderBy('id', 'desc').execute();
}

export async function setImagePhash(db: Kysely<Database>, imageId: number, phash: string): Promise<void> {
  await db.updateTable('images').set({ phash }).where('id', '=', imageId).execute();
}

/** Files waiting for approval, oldest first (the moderators' queue). */
export async function listWaitingImages(db: Kysely<Database>, limit = 100): Promise<ImageRow[]> {
  return db.selectFrom('images').selectAll().where('is_approved', '=', 0).orderBy('id').limit(limit).execute();
}

export async function countWaitingImages(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('images').select((eb) => eb.fn.countAll<string | number>().as('n')).where('is_approved', '=', 0).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findImagesByIds(db: Kysely<Database>, ids: number[]): Promise<ImageRow[]> {
  if (ids.length === 0) return [];
  return db.selectFrom('images').selectAll().where('id', 'in', ids).execute();
}

/** Approves files: they become visible, and listed when their album (if any) is. Returns how many changed. */
export async function approveImages(db: Kysely<Database>, ids: number[]): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await db
    .updateTable('images')
    .set({
      is_approved: 1,
      listed: sql<number>`case when album_id is null then 1 else coalesce((select albums.listed from albums where albums.id = images.album_id), 1) end`,
    })
    .where('id', 'in', ids)
    .where('is_approved', '=', 0)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Sends a file (back) to the approval queue: hidden and unlisted until a moderator approves it. */
export async function holdImage(db: Kysely<Database>, id: number): Promise<void> {
  await db.updateTable('images').set({ is_approved: 0, listed: 0 }).where('id', '=', id).execute();
}

export async function insertReport(
  db: Kysely<Database>,
  report: { imageId: number | null; albumId: number | null; reason: string; note: string | null; reporterId: number | null; reporterIp: string },
): Promise<void> {
  await db
    .insertInto('reports')
    .values({
      image_id: report.imageId, album_id: report.albumId, reason: report.reason, note: report.note,
      reporter_id: report.reporterId, reporter_ip: report.reporterIp, created_at: formatUtc(new Date()), resolved_at: null,
    })
    .execute();
}

/** Open reports, oldest first (the queue groups them by what they report). */
export async function listOpenReports(db: Kysely<Database>, limit = 500) {
  return db.selectFrom('reports').selectAll().where('resolved_at', 'is', null).orderBy('id').limit(limit).execute();
}

/** Closes every open report about an image or an album. */
export async function resolveReportsOf(db: Kysely<Database>, target: { imageId: number } | { albumId: number }): Promise<number> {
  let query = db.updateTable('reports').set({ resolved_at: formatUtc(new Date()) }).where('resolved_at', 'is', null);
  query = 'imageId' in target ? query.where('image_id', '=', target.imageId) : query.where('album_id', '=', target.albumId);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows);
}
