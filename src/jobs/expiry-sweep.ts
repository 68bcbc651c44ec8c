import type { Kysely, Transaction } from 'kysely';
import { formatUtc } from '../core/dates.js';
import type { Database, ImageRow } from '../db/schema.js';
import { deleteImageRow, findExpiredImages, releaseFileName } from '../db/repositories/images.js';
import { reportChange } from '../ingest/change-events.js';
import { objectKeysOf } from '../storage/object-keys.js';
import type { Storage } from '../storage/storage.js';
import { isPostgres } from './dialect.js';

/**
 * Deletes expired uploads and returns how many it deleted.
 *
 * On PostgreSQL several instances may sweep at once: each batch is claimed with
 * `FOR UPDATE SKIP LOCKED`, so every expired upload is taken by exactly one sweeper. The
 * claimer deletes the files while it holds the lock and removes the row in the same
 * transaction; if it dies half-way the lock goes with it and another sweeper redoes the item
 * (deleting files twice is harmless), so no row outlives its files and no file is orphaned.
 *
 * On SQLite there is one process and its scheduler never overlaps two sweeps, so it needs no
 * lock, and holding SQLite's one connection while a bucket answers would stall every request.
 * The order is the same: files first, then the row and its name, so a sweep that fails
 * half-way leaves the row for the next one. (An expired row is never served, so the moment
 * between the two is invisible.)
 */
export async function sweepExpiredImages(db: Kysely<Database>, storage: Storage, now = new Date(), batchSize = 100): Promise<number> {
  return isPostgres(db) ? sweepWithRowLocks(db, storage, now, batchSize) : sweepInProcess(db, storage, now, batchSize);
}

async function sweepInProcess(db: Kysely<Database>, storage: Storage, now: Date, batchSize: number): Promise<number> {
  let removed = 0;
  for (;;) {
    const expired = await findExpiredImages(db, now, batchSize);
    if (expired.length === 0) return removed;
    for (const image of expired) {
      await storage.delete(objectKeysOf(image));
      if (await deleteImageRow(db, image.id)) {
        await releaseFileName(db, image.folder, image.name);
        await reportChange(db, { type: 'image.deleted', image });
        removed++;
      }
    }
    if (expired.length < batchSize) return removed;
  }
}

async function sweepWithRowLocks(db: Kysely<Database>, storage: Storage, now: Date, batchSize: number): Promise<number> {
  let removed = 0;
  for (;;) {
    const claimed = await db.transaction().execute(async (trx) => {
      const batch = await trx
        .selectFrom('images')
        .selectAll()
        .where('expires_at', 'is not', null)
        .where('expires_at', '<=', formatUtc(now))
        .orderBy('expires_at')
        .limit(batchSize)
        .forUpdate()
        .skipLocked()
        .execute();
      if (batch.length > 0) {
        await storage.delete(batch.flatMap((image) => objectKeysOf(image)));
        await deleteRowsAndNames(trx, batch);
      }
      return batch;
    });
    // Told once the rows are gone for good (the transaction committed).
    for (const image of claimed) await reportChange(db, { type: 'image.deleted', image });
    removed += claimed.length;
    if (claimed.length < batchSize) return removed;
  }
}

/** The rows (with their tag links) and their name claims; the files are already gone. */
async function deleteRowsAndNames(trx: Transaction<Database>, images: ImageRow[]): Promise<void> {
  const ids = images.map((image) => image.id);
  await trx.deleteFrom('image_tags').where('image_id', 'in', ids).execute();
  await trx.deleteFrom('images').where('id', 'in', ids).execute();
  await trx
    .deleteFrom('file_names')
    .where((eb) => eb.or(images.map((image) => eb.and([eb('folder', '=', image.folder), eb('name', '=', image.name)]))))
    .execute();
}
