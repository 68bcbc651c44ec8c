import type { Kysely } from 'kysely';
import { formatUtc } from '../core/dates.js';
import type { Database } from '../db/schema.js';
import { FORMATS } from '../media/formats.js';
import { objectKey, type FileIdentity } from '../storage/object-keys.js';
import type { Storage } from '../storage/storage.js';
import { deleteNameClaim, deleteNameClaimIfStale, findStaleNameClaims, restoreNameClaim, withClaimLocks } from '../db/repositories/image-removal.js';

/**
 * An upload refreshes its name claim while it stores its files (ingest-upload.ts) and a deletion
 * holds one for moments; a claim with no row left alone this long (SHOEBOX_UPLOAD_CLAIM_TIMEOUT)
 * belongs to a process that died.
 */
export const STALE_CLAIM_SECONDS = 300;

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
  let released = 0;
  for (;;) {
    const seen = await withClaimLocks(db, async (db, locking) => {
      const stale = await findStaleNameClaims(db, cutoff, batchSize, locking);
      for (const claim of stale) {
        if (locking) {
          // The row lock keeps the upload (its claim check waits on it) and other sweepers out meanwhile.
          await storage.delete(possibleKeysOf(claim.folder, claim.name));
          // Counted by whoever removed the claim, so a racing sweeper never counts it twice.
          if (await deleteNameClaim(db, claim)) released++;
          continue;
        }
        // Without row locks the claim goes first, checked to be still stale and still without a
        // row: an upload that refreshed it or wrote its row meanwhile keeps it (and its files),
        // and one that finds it gone fails without writing a row.
        if (!(await deleteNameClaimIfStale(db, claim, cutoff))) continue;
        try {
          await storage.delete(possibleKeysOf(claim.folder, claim.name));
          released++;
        } catch (error) {
          await restoreNameClaim(db, claim);
          throw error;
        }
      }
      return stale.length;
    });
    if (seen < batchSize) return released;
  }
}
