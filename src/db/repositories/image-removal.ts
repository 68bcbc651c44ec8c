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
