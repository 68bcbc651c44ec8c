import type { Kysely } from 'kysely';
import type { Database, ImageRow } from '../db/schema.js';
import { takeExpiredImages } from '../db/repositories/image-removal.js';
import { deleteImageRow, releaseFileName } from '../db/repositories/images.js';
import { objectKeysOf } from '../storage/image-files.js';
import { reportChange } from './change-events.js';
import type { Storage } from '../storage/storage.js';

/**
 * The one way an image is deleted, whoever deletes it (its owner, the delete link, an album's
 * deletion, the expiry sweep, an administrator):
 *
 * 1. the row (with its tag links) goes first, so the file is never served or listed again,
 *    even if a file delete fails;
 * 2. then every stored file;
 * 3. only then its name claim, so a new upload can never take the name while the old files
 *    are still being removed.
 *
 * A process that dies after 1 leaves a name claim with no row: the stale-name-claims job
 * (jobs/stale-name-claims.ts) deletes its files and frees the name.
 */
export async function removeImage(db: Kysely<Database>, storage: Storage, image: ImageRow): Promise<boolean> {
  const deleted = await deleteImageRow(db, image.id);
  if (!deleted) return false;
  await removeFilesAndName(db, storage, image);
  return true;
}

/** Steps 2 and 3 for an image whose row is already deleted, then the change is reported (every deletion, swept ones too). */
async function removeFilesAndName(db: Kysely<Database>, storage: Storage, image: ImageRow): Promise<void> {
  await storage.delete(objectKeysOf(image));
  await releaseFileName(db, image.folder, image.name);
  await reportChange(db, { type: 'image.deleted', image });
}

/**
 * Deletes expired uploads, in batches, the same way as `removeImage`; returns how many. On
 * PostgreSQL several instances may sweep at once: each row is taken (and deleted) by exactly
 * one sweeper (`takeExpiredImages`). An expired row is never served, even before it is swept.
 */
export async function removeExpiredImages(db: Kysely<Database>, storage: Storage, now = new Date(), batchSize = 100): Promise<number> {
  let removed = 0;
  for (;;) {
    const taken = await takeExpiredImages(db, now, batchSize);
    for (const image of taken) await removeFilesAndName(db, storage, image);
    removed += taken.length;
    if (taken.length < batchSize) return removed;
  }
}
