import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { removeExpiredImages } from '../ingest/remove-image.js';
import type { Storage } from '../storage/storage.js';

/**
 * The expiry sweep (a cluster job): deletes expired uploads the one way images are deleted
 * (`ingest/remove-image.ts`: row, files, name) and returns how many it deleted.
 */
export async function sweepExpiredImages(db: Kysely<Database>, storage: Storage, now = new Date(), batchSize = 100): Promise<number> {
  return removeExpiredImages(db, storage, now, batchSize);
}
