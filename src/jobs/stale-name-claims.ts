import type { Kysely } from 'kysely';
import { releaseUnheldNameClaims } from '../db/repositories/image-removal.js';
import type { Database } from '../db/schema.js';
import { FORMATS } from '../media/formats.js';
import { ROLES } from '../storage/image-files.js';
import { objectKey, type FileIdentity } from '../storage/object-keys.js';
import type { Storage } from '../storage/storage.js';

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
    for (const role of ROLES) keys.add(objectKey(file, role));
  }
  return [...keys];
}

/**
 * Cleans up after uploads and deletions that died half-way (a killed process, a lost
 * database connection): a name claimed long ago with no image row may have files in storage
 * that nothing points to. Those files are deleted and the name is freed
 * (`releaseUnheldNameClaims` in db/: on PostgreSQL concurrent sweepers never share a claim).
 */
export async function releaseStaleNameClaims(
  db: Kysely<Database>,
  storage: Storage,
  now = new Date(),
  olderThanSeconds = STALE_CLAIM_SECONDS,
  batchSize = 100,
): Promise<number> {
  const cutoff = new Date(now.getTime() - olderThanSeconds * 1000);
  let released = 0;
  for (;;) {
    const batch = await releaseUnheldNameClaims(db, cutoff, batchSize, (claim) => storage.delete(possibleKeysOf(claim.folder, claim.name)));
    released += batch.released;
    if (batch.seen < batchSize) return released;
  }
}
