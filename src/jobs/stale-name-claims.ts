import type { Kysely } from 'kysely';
import { formatUtc } from '../core/dates.js';
import type { Database } from '../db/schema.js';
import { FORMATS } from '../media/formats.js';
import { objectKey, type FileIdentity } from '../storage/object-keys.js';
import type { Storage } from '../storage/storage.js';
import { isPostgres } from './dialect.js';

/** An upload holds its name claim for seconds, a deletion for less; a day-old claim with no row is debris. */
export const STALE_CLAIM_SECONDS = 24 * 3600;

/** Every extension a stored file or derivative can have (the main file as uploaded or converted, `jpeg` for video derivatives). */
const STORED_EXTENSIONS = [
  ...new Set(Object.values(FORMATS).flatMap((f) => [f.name, f.storedAs?.extension ?? f.name]).concat(['jpg', 'jpeg'])),
];

/** Keys that files of an upload named `name` in `folder` could have, whatever its format was. */
export function possibleKeysOf(folder: string, name: string): string[] {
  const keys = new Set<string>();
  for (const extension of STORED_EXTENSIONS) {
    const file: FileIdentity = { folder, name, extension, derivative_extension: extension };
    keys.add(objectKey(file, 'image'));
    keys.add(objectKey(file, 'thumb'));
    keys.add(objectKey(file, 'medium'));
    keys.add(objectKey(file, 'frame'));
  }
  return [...keys];
}

/**
 * Cleans up after uploads and deletions that died half-way (a killed process, a lost
 * database connection): a name claimed long ago with no image row may have files in storage
 * that nothing points to. Those files are deleted and the name is freed. On PostgreSQL the
 * claims are taken with `FOR UPDATE SKIP LOCKED`, so concurrent sweepers never share one.
 */
export async function releaseStaleNameClaims(
  db: Kysely<Database>,
  storage: Storage,
  now = new Date(),
  olderThanSeconds = STALE_CLAIM_SECONDS,
  batchSize = 100,
): Promise<number> {
  const cutoff = formatUtc(new Date(now.getTime() - olderThanSeconds * 1000));
  const locking = isPostgres(db);
  let released = 0;
  for (;;) {
    // SQLite has one process and one connection: no lock to take, and holding a transaction
    // open while the storage answers would stall every request.
    const releaseBatch = async (trx: Kysely<Database>) => {
      let query = trx
        .selectFrom('file_names')
        .select(['folder', 'name'])
        .where('claimed_at', '<=', cutoff)
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('images').select('images.id').whereRef('images.folder', '=', 'file_names.folder').whereRef('images.name', '=', 'file_names.name'))),
        )
        .orderBy('claimed_at')
        .limit(batchSize);
      if (locking) query = query.forUpdate().skipLocked();
      const stale = await query.execute();
      for (const claim of stale) {
        await storage.delete(possibleKeysOf(claim.folder, claim.name));
        const result = await trx.deleteFrom('file_names').where('folder', '=', claim.folder).where('name', '=', claim.name).executeTakeFirst();
        // Counted by whoever removed the claim, so a racing sweeper never counts it twice.
        if (Number(result.numDeletedRows) > 0) released++;
      }
      return stale.length;
    };
    const seen = locking ? await db.transaction().execute(releaseBatch) : await releaseBatch(db);
    if (seen < batchSize) return released;
  }
}
