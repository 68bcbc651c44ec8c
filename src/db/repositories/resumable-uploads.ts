import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

/**
 * The shared state of resumable (tus) uploads, so that any instance can take an upload's next
 * chunk, finish it, or clean it up (0013_resumable_shared). Lease times are epoch milliseconds
 * from the instances' clocks: leases last seconds, far longer than clocks kept by NTP disagree.
 */

// ---- What tus knows of an upload kept in the bucket ----

export async function readResumableInfo(db: Kysely<Database>, id: string): Promise<string | undefined> {
  const row = await db.selectFrom('resumable_uploads').select('info').where('id', '=', id).executeTakeFirst();
  return row?.info;
}

export async function saveResumableInfo(db: Kysely<Database>, id: string, info: string, createdAt: string): Promise<void> {
  await db
    .insertInto('resumable_uploads')
    .values({ id, info, created_at: createdAt })
    .onConflict((oc) => oc.column('id').doUpdateSet({ info }))
    .execute();
}

export async function deleteResumableInfo(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('resumable_uploads').where('id', '=', id).execute();
}

/** Every record (unfinished uploads, on any instance). */
export async function listResumableInfos(db: Kysely<Database>): Promise<string[]> {
  return (await db.selectFrom('resumable_uploads').select('info').execute()).map((r) => r.info);
}

/** Ids of uploads created before `beforeIso` (ISO 8601, as tus writes creation dates). */
export async function resumableUploadsCreatedBefore(db: Kysely<Database>, beforeIso: string, limit = 500): Promise<string[]> {
  const rows = await db.selectFrom('resumable_uploads').select('id').where('created_at', '<', beforeIso).limit(limit).execute();
  return rows.map((r) => r.id);
}

// ---- Leases: one writer per upload across every instance ----

/**
 * Takes the lease on `id` for `holder` if it is free or its holder let it run out. Returns
 * whether `holder` now holds it. One conditional upsert, so two instances can't both win.
 */
export async function tryTakeResumableLock(db: Kysely<Database>, id: string, holder: string, ttlMs: number, now = Date.now()): Promise<boolean> {
  await db
    .insertInto('resumable_locks')
    .values({ id, holder, expires_at: now + ttlMs, release_requested: 0 })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ holder, expires_at: now + ttlMs, release_requested: 0 })
        .where('resumable_locks.expires_at', '<', now),
    )
    .execute();
  const row = await db.selectFrom('resumable_locks').select('holder').where('id', '=', id).executeTakeFirst();
  return row?.holder === holder;
}

/** Asks the current holder to let go (a newer request for the same upload is waiting). */
export async function requestResumableLockRelease(db: Kysely<Database>, id: string, holder: string): Promise<void> {
  await db.updateTable('resumable_locks').set({ release_requested: 1 }).where('id', '=', id).where('holder', '!=', holder).execute();
}

/**
 * Extends `holder`'s lease. Returns `lost` when the lease is no longer its own, `release` when
 * another request asked for it, `held` otherwise.
 */
export async function renewResumableLock(
  db: Kysely<Database>,
  id: string,
  holder: string,
  ttlMs: number,
  now = Date.now(),
): Promise<'held' | 'release' | 'lost'> {
  const result = await db
    .updateTable('resumable_locks')
    .set({ expires_at: now + ttlMs })
    .where('id', '=', id)
    .where('holder', '=', holder)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) return 'lost';
  const row = await db.selectFrom('resumable_locks').select('release_requested').where('id', '=', id).executeTakeFirst();
  return row?.release_requested ? 'release' : 'held';
}

export async function releaseResumableLock(db: Kysely<Database>, id: string, holder: string): Promise<void> {
  await db.deleteFrom('resumable_locks').where('id', '=', id).where('holder', '=', holder).execute();
}

export async function deleteExpiredResumableLocks(db: Kysely<Database>, now = Date.now()): Promise<number> {
  const result = await db.deleteFrom('resumable_locks').where('expires_at', '<', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

// ---- The answer of a finished upload ----

export interface ResumableResult {
  owner: string;
  status: number;
  body: unknown;
}

export type FinishClaim = { kind: 'claimed' } | { kind: 'finished'; result: ResumableResult } | { kind: 'busy' };

/**
 * Claims the ingestion of a finished upload for `holder`: exactly one instance ingests it. A
 * claim whose holder stopped answering for `staleMs` (killed mid-ingest) can be taken over.
 */
export async function claimResumableFinish(
  db: Kysely<Database>,
  id: string,
  owner: string,
  holder: string,
  staleMs: number,
  now = Date.now(),
): Promise<FinishClaim> {
  await db
    .insertInto('resumable_results')
    .values({ id, owner, holder, claimed_at: now, status: null, body: null, finished_at: null })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet({ holder, claimed_at: now })
        .where('resumable_results.status', 'is', null)
        .where('resumable_results.claimed_at', '<', now - staleMs),
    )
    .execute();
  const row = await db.selectFrom('resumable_results').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  if (row.status !== null) return { kind: 'finished', result: { owner: row.owner, status: row.status, body: JSON.parse(row.body ?? 'null') } };
  return row.holder === holder ? { kind: 'claimed' } : { kind: 'busy' };
}

export async function saveResumableResult(db: Kysely<Database>, id: string, holder: string, status: number, body: unknown, now = Date.now()): Promise<void> {
  await db
    .updateTable('resumable_results')
    .set({ status, body: JSON.stringify(body), finished_at: now, holder: null })
    .where('id', '=', id)
    .where('holder', '=', holder)
    .execute();
}

export async function readResumableResult(db: Kysely<Database>, id: string): Promise<ResumableResult | null> {
  const row = await db.selectFrom('resumable_results').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || row.status === null) return null;
  return { owner: row.owner, status: row.status, body: JSON.parse(row.body ?? 'null') };
}

/**
 * Forgets answers that finished before `beforeMs` and claims made before it that never finished
 * (a slow ingest's answer is kept as long after it finished as a quick one's).
 */
export async function deleteResumableResultsBefore(db: Kysely<Database>, beforeMs: number): Promise<number> {
  const result = await db
    .deleteFrom('resumable_results')
    .where((eb) => eb.or([eb('finished_at', '<', beforeMs), eb.and([eb('finished_at', 'is', null), eb('claimed_at', '<', beforeMs)])]))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
