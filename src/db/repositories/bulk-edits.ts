import type { Kysely } from 'kysely';
import type { AlbumRow, Database, ImageRow } from '../schema.js';
import { listedFor } from './album-edits.js';
import { createAlbum, type NewAlbum } from './albums.js';

/**
 * Edits of many files at once (the selection on a listing), each in one transaction: the
 * files are named by id and by owner, so a file of someone else is never touched even when
 * its id is in the request.
 */

/** The rows of these ids that belong to `ownerId` (all owners when null: an admin's selection). */
export async function selectedImages(db: Kysely<Database>, ids: number[], ownerId: number | null): Promise<ImageRow[]> {
  if (ids.length === 0) return [];
  let q = db.selectFrom('images').selectAll().where('id', 'in', ids);
  if (ownerId !== null) q = q.where('user_id', '=', ownerId);
  return q.orderBy('id', 'desc').execute();
}

export async function setNsfwOf(db: Kysely<Database>, imageIds: number[], nsfw: boolean): Promise<number> {
  if (imageIds.length === 0) return 0;
  const result = await db.updateTable('images').set({ nsfw: nsfw ? 1 : 0 }).where('id', 'in', imageIds).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Adds tags to every file (a tag already on a file stays once). */
export async function addTagsTo(db: Kysely<Database>, imageIds: number[], names: string[]): Promise<void> {
  if (imageIds.length === 0 || names.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('tags').values(names.map((name) => ({ name }))).onConflict((oc) => oc.column('name').doNothing()).execute();
    const tags = await trx.selectFrom('tags').select('id').where('name', 'in', names).execute();
    const pairs = imageIds.flatMap((image_id) => tags.map((t) => ({ image_id, tag_id: t.id })));
    await trx.insertInto('image_tags').values(pairs).onConflict((oc) => oc.columns(['image_id', 'tag_id']).doNothing()).execute();
  });
}

/** Takes these tags off every file. */
export async function removeTagsFrom(db: Kysely<Database>, imageIds: number[], names: string[]): Promise<void> {
  if (imageIds.length === 0 || names.length === 0) return;
  await db.transaction().execute(async (trx) => {
    const tags = await trx.selectFrom('tags').select('id').where('name', 'in', names).execute();
    if (tags.length === 0) return;
    await trx.deleteFrom('image_tags').where('image_id', 'in', imageIds).where('tag_id', 'in', tags.map((t) => t.id)).execute();
  });
}

/** Moves the files into `target` (or out of any album), their `listed` following the album. */
export async function moveSelected(db: Kysely<Database>, imageIds: number[], target: AlbumRow | null): Promise<void> {
  if (imageIds.length === 0) return;
  await db.updateTable('images').set({ album_id: target?.id ?? null, listed: listedFor(target) }).where('id', 'in', imageIds).execute();
}

/** Creates an album and moves the files into it, in one transaction: no empty album is left if the move fails. */
export async function moveIntoNewAlbum(db: Kysely<Database>, album: NewAlbum, imageIds: number[]): Promise<AlbumRow> {
  return db.transaction().execute(async (trx) => {
    const created = await createAlbum(trx, album);
    await trx.updateTable('images').set({ album_id: created.id, listed: listedFor(created) }).where('id', 'in', imageIds).where('user_id', '=', album.userId).execute();
    return created;
  });
}
