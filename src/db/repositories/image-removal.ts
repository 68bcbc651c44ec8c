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

/**
 * Name claims older than `cutoff` that no image row holds: debris of uploads or deletions that
 * died half-way, whose files (if any) nothing points to. `release` is called for each claim (to
 * delete its possible files) and the claim is then deleted; returns how many claims were seen
 * and how many this caller deleted. On PostgreSQL the claims are held with `FOR UPDATE SKIP
 * LOCKED` while `release` runs, so concurrent sweepers never share one; SQLite has one process
 * and one connection, so nothing is held open while the storage answers.
 */
export async function releaseUnheldNameClaims(
  db: Kysely<Database>,
  cutoff: Date,
  limit: number,
  release: (claim: { folder: string; name: string }) => Promise<void>,
): Promise<{ seen: number; released: number }> {
  const locking = isPostgres(db);
  const releaseBatch = async (trx: Kysely<Database>) => {
    let query = trx
      .selectFrom('file_names')
      .select(['folder', 'name'])
      .where('claimed_at', '<=', formatUtc(cutoff))
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('images').select('images.id').whereRef('images.folder', '=', 'file_names.folder').whereRef('images.name', '=', 'file_names.name'))),
      )
      .orderBy('claimed_at')
      .limit(limit);
    if (locking) query = query.forUpdate().skipLocked();
    const stale = await query.execute();
    let released = 0;
    for (const claim of stale) {
      await release(claim);
      const result = await trx.deleteFrom('file_names').where('folder', '=', claim.folder).where('name', '=', claim.name).executeTakeFirst();
      // Counted by whoever removed the claim, so a racing sweeper never counts it twice.
      if (Number(result.numDeletedRows) > 0) released++;
    }
    return { seen: stale.length, released };
  };
  return locking ? db.transaction().execute(releaseBatch) : releaseBatch(db);
}
