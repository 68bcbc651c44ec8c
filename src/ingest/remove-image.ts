import type { Kysely } from 'kysely';
import type { Database, ImageRow } from '../db/schema.js';
import { deleteImageRow, releaseFileName } from '../db/repositories/images.js';
import { reportChange } from './change-events.js';
import { objectKeysOf } from '../storage/object-keys.js';
import type { Storage } from '../storage/storage.js';

/**
 * Deletes an image: its row first (so it is never served again, even if a file delete
 * fails), then every stored file, and only then frees its name, so a new upload can never
 * take the name while the old files are still being removed. Returns false when another
 * request or instance deleted it first.
 */
export async function removeImage(db: Kysely<Database>, storage: Storage, image: ImageRow): Promise<boolean> {
  const deleted = await deleteImageRow(db, image.id);
  if (!deleted) return false;
  await storage.delete(objectKeysOf(image));
  await releaseFileName(db, image.folder, image.name);
  await reportChange(db, { type: 'image.deleted', image });
  return true;
}
