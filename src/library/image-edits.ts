import type { Kysely } from 'kysely';
import { moveImages } from '../db/repositories/album-edits.js';
import { updateImageDetails } from '../db/repositories/image-edits.js';
import { addTagsTo } from '../db/repositories/bulk-edits.js';
import { holdImage } from '../db/repositories/moderation.js';
import type { TextScreen } from './text-screen.js';
import { findImagesByIds } from '../db/repositories/listings.js';
import { findImageById, findTagsOfImage } from '../db/repositories/images.js';
import { findAlbumById } from '../db/repositories/albums.js';
import { findCategoryById } from '../db/repositories/categories.js';
import { errors } from '../core/errors.js';
import type { AlbumRow, Database, ImageRow } from '../db/schema.js';
import { reportChange } from '../ingest/change-events.js';
import { removeImage } from '../ingest/remove-image.js';
import type { Storage } from '../storage/storage.js';

/** What an owner may change on a file; a field left out stays as it is. */
export interface ImageChanges {
  title?: string | null;
  description?: string | null;
  nsfw?: boolean;
  tags?: string[];
  /** The (already checked: the owner's) album, or null for none. */
  album?: AlbumRow | null;
  /** `YYYY-MM-DD HH:MM:SS` UTC, or null: never expires. */
  expiresAt?: string | null;
  /** A category's id (refused with `unknownCategory` when the site has none such), or null for none. */
  categoryId?: number | null;
}

/**
 * The one way a file's details change (the viewer page's form, the API's PATCH and bulk
 * PATCH): stop words first (`screen`: only the texts this edit changes, so an old text never
 * blocks an unrelated edit), then one transaction for the row and its tags, then
 * `image.updated`. A `hold` word sends the file back to the approval queue, as on upload.
 * Returns the new row.
 */
export async function editImage(db: Kysely<Database>, image: ImageRow, changes: ImageChanges, screen: TextScreen): Promise<ImageRow> {
  if (changes.categoryId != null && !(await findCategoryById(db, changes.categoryId))) throw errors.unknownCategory(changes.categoryId);
  const oldTags = (await findTagsOfImage(db, image.id)).map((t) => t.name);
  const { hold } = await screen.check({
    title: changes.title !== undefined && changes.title !== image.title ? [changes.title] : [],
    description: changes.description !== undefined && changes.description !== image.description ? [changes.description] : [],
    tags: (changes.tags ?? []).filter((tag) => !oldTags.includes(tag)),
  });
  const tags = changes.tags ?? oldTags;
  const album = changes.album !== undefined ? changes.album : image.album_id === null ? null : ((await findAlbumById(db, image.album_id)) ?? null);
  await updateImageDetails(db, image.id, {
    title: changes.title !== undefined ? changes.title : image.title,
    description: changes.description !== undefined ? changes.description : image.description,
    nsfw: changes.nsfw ?? image.nsfw === 1,
    tags,
    album,
    ...(changes.expiresAt !== undefined ? { expiresAt: changes.expiresAt } : {}),
    ...(changes.categoryId !== undefined ? { categoryId: changes.categoryId } : {}),
  });
  if (hold) await holdImage(db, image.id);
  const updated = (await findImageById(db, image.id)) ?? image;
  await reportChange(db, { type: 'image.updated', image: updated });
  return updated;
}

/**
 * Adds tags to several files (the bulk selection's "add tags"): stop words first, as for one
 * file; a `hold` word sends every one of them to the approval queue. Returns whether they were held.
 */
export async function addTagsToImages(db: Kysely<Database>, imageIds: number[], tags: string[], screen: TextScreen): Promise<{ held: boolean }> {
  const { hold } = await screen.check({ tags });
  await addTagsTo(db, imageIds, tags);
  if (hold) for (const id of imageIds) await holdImage(db, id);
  return { held: hold };
}

/** Deletes a file (row, files, name; `image.deleted` is reported by removeImage). */
export async function deleteImage(db: Kysely<Database>, storage: Storage, image: ImageRow): Promise<boolean> {
  return removeImage(db, storage, image);
}

/** Moves the user's own files among `imageIds` into `target` (null: out of any album); reports `image.updated` for each. */
export async function moveImagesTo(db: Kysely<Database>, userId: number, imageIds: number[], target: AlbumRow | null): Promise<number> {
  const moved = await moveImages(db, userId, imageIds, target);
  if (moved === 0) return 0;
  for (const image of await findImagesByIds(db, imageIds)) {
    if (image.user_id === userId && image.album_id === (target?.id ?? null)) await reportChange(db, { type: 'image.updated', image });
  }
  return moved;
}
