import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { findExpiredImages } from '../db/repositories/images.js';
import { removeImage } from '../ingest/remove-image.js';
import type { Storage } from '../storage/storage.js';

/**
 * Deletes expired uploads. Safe to run on several instances at once: an image's row is
 * deleted by exactly one of them (the delete reports whether it removed the row), and only
 * that one removes the files.
 */
export async function sweepExpiredImages(db: Kysely<Database>, storage: Storage, now = new Date(), batchSize = 100): Promise<number> {
  let removed = 0;
  for (;;) {
    const expired = await findExpiredImages(db, now, batchSize);
    if (expired.length === 0) return removed;
    let removedThisBatch = 0;
    for (const image of expired) {
      if (await removeImage(db, storage, image)) removedThisBatch++;
    }
    removed += removedThisBatch;
    if (expired.length < batchSize) return removed;
  }
}
