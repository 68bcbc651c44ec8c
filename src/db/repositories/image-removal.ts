import type { Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import { isPostgres } from '../dialect.js';
import type { Database, ImageRow } from '../schema.js';

/**
 * The database's part of deleting images (the order is in ingest/remove-image.ts: row, files,
 * name). Rows go with their tag links in one transaction; the name claims stay until the
 * caller has deleted the files.
 */

/**
 * Deletes up to `limit` expired rows (with their tag links) and returns them, so the caller
 * removes their files and names. On PostgreSQL the rows are taken with `FOR UPDATE SKIP
 * LOCKED`: sweepers on several instances each take different rows, and each row is deleted
 * by exactly one of them. No lock is held while storage answers.
 */
export async function takeExpiredImages(db: Kysely<Database>, now: Date, limit: number): Promise<ImageRow[]> {
  // One statement (tag links go by ON DELETE CASCADE): nothing is held between two queries.
  return db
    .deleteFrom('images')
    .where('id', 'in', (qb) => {
      const expired = qb
        .selectFrom('images')
        .select('id')
        .where('expires_at', 'is not', null)
        .where('expires_at', '<=', formatUtc(now))
        .orderBy('expires_at')
        .limit(limit);
      return isPostgres(db) ? expired.forUpdate().skipLocked() : expired;
    })
    .returningAll()
    .execute();
}

/** A name claimed in `file_names` (the upload or deletion holding it may have died). */
export interface NameClaim {
  folder: string;
  name: string;
  claimed_at: string;
}

/**
 * Up to `limit` claims taken before `cutoff` that have no image row, oldest first. With `lock`
 * (PostgreSQL, inside a transaction) they are taken `FOR UPDATE SKIP LOCKED`: concurrent sweepers
 * never share one, and an upload's claim check waits on the lock.
 */
export async function findStaleNameClaims(db: Kysely<Database>, cutoff: string, limit: number, lock: boolean): Promise<NameClaim[]> {
  let query = db
    .selectFrom('file_names')
    .select(['folder', 'name', 'claimed_at'])
    .where('claimed_at', '<=', cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('images').select('images.id').whereRef('images.folder', '=', 'file_names.folder').whereRef('images.name', '=', 'file_names.name'))),
    )
    .orderBy('claimed_at')
    .limit(limit);
  if (lock) query = query.forUpdate().skipLocked();
  return query.execute();
}

/** Deletes a claim; true when this call removed it (whoever removes it counts it). */
export async function deleteNameClaim(db: Kysely<Database>, claim: Pick<NameClaim, 'folder' | 'name'>): Promise<boolean> {
  const result = await db.deleteFrom('file_names').where('folder', '=', claim.folder).where('name', '=', claim.name).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Deletes a claim only if it is still stale and still has no row, in one statement (no row
 * locks: SQLite): an upload that refreshed it or wrote its row meanwhile keeps it. True when removed.
 */
export async function deleteNameClaimIfStale(db: Kysely<Database>, claim: Pick<NameClaim, 'folder' | 'name'>, cutoff: string): Promise<boolean> {
  const result = await db
    .deleteFrom('file_names')
    .where('folder', '=', claim.folder)
    .where('name', '=', claim.name)
    .where('claimed_at', '<=', cutoff)
    .where(({ not, exists, selectFrom }) =>
      not(exists(selectFrom('images').select('images.id').where('images.folder', '=', claim.folder).where('images.name', '=', claim.name))),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Puts a claim back as it was (its files could not be deleted; the next sweep tries again). */
export async function restoreNameClaim(db: Kysely<Database>, claim: NameClaim): Promise<void> {
  await db.insertInto('file_names').values({ folder: claim.folder, name: claim.name, claimed_at: claim.claimed_at }).onConflict((oc) => oc.doNothing()).execute();
}

/** Runs `work` in one transaction on PostgreSQL (so the claims it locks stay locked until it ends), or as it is on SQLite. */
export async function withClaimLocks<T>(db: Kysely<Database>, work: (db: Kysely<Database>, locking: boolean) => Promise<T>): Promise<T> {
  // SQLite has one process and one connection: no lock to take, and holding a transaction
  // open while the storage answers would stall every request.
  return isPostgres(db) ? db.transaction().execute((trx) => work(trx, true)) : work(db, false);
}
