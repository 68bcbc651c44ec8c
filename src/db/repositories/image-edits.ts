import type { Kysely } from 'kysely';
import type { AlbumRow, Database } from '../schema.js';
import { listedFor } from './album-edits.js';

/** The owner's edits of a file from its viewer page. */
export interface ImageDetails {
  title: string | null;
  description: string | null;
  nsfw: boolean;
  tags: string[];
  album: AlbumRow | null;
  /** Only applied when given: `YYYY-MM-DD HH:MM:SS` UTC, or null (never expires). */
  expiresAt?: string | null;
  /** Only applied when given: a category's id (checked to exist), or null for none. */
  categoryId?: number | null;
}

/** Updates the row and replaces its tags in one transaction. */
export async function updateImageDetails(db: Kysely<Database>, imageId: number, details: ImageDetails): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('images')
      .set({
        title: details.title,
        description: details.description,
        nsfw: details.nsfw ? 1 : 0,
        album_id: details.album?.id ?? null,
        listed: listedFor(details.album),
        ...(details.expiresAt !== undefined ? { expires_at: details.expiresAt } : {}),
        ...(details.categoryId !== undefined ? { category_id: details.categoryId } : {}),
      })
      .where('id', '=', imageId)
      .execute();
    await trx.deleteFrom('image_tags').where('image_id', '=', imageId).execute();
    if (details.tags.length === 0) return;
    await trx.insertInto('tags').values(details.tags.map((name) => ({ name }))).onConflict((oc) => oc.column('name').doNothing()).execute();
    const tags = await trx.selectFrom('tags').select('id').where('name', 'in', details.tags).execute();
    await trx.insertInto('image_tags').values(tags.map((t) => ({ image_id: imageId, tag_id: t.id }))).execute();
  });
}
