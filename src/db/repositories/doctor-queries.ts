import type { Kysely } from 'kysely';
import type { Database, ImageRow } from '../schema.js';

/** What `shoebox doctor` needs of the database: rows a page at a time, and which names have rows or live claims. */

export type ImageFiles = Pick<ImageRow, 'id' | 'folder' | 'name' | 'extension' | 'derivative_extension' | 'chain'>;

export async function pageOfImageFiles(db: Kysely<Database>, afterId: number, limit: number): Promise<ImageFiles[]> {
  return db
    .selectFrom('images')
    .select(['id', 'folder', 'name', 'extension', 'derivative_extension', 'chain'])
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

const keyOf = (folder: string, name: string) => `${folder}/${name}`;

/** Of these (folder, name) pairs, the ones an image row has, as `folder/name`. */
export async function namesWithRows(db: Kysely<Database>, folder: string, names: string[]): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await db.selectFrom('images').select(['folder', 'name']).where('folder', '=', folder).where('name', 'in', names).execute();
  return new Set(rows.map((r) => keyOf(r.folder, r.name)));
}

/** Of these names, the ones claimed at or after `since` (uploads in flight), as `folder/name`. */
export async function namesClaimedSince(db: Kysely<Database>, folder: string, names: string[], since: string): Promise<Set<string>> {
  if (names.length === 0) return new Set();
  const rows = await db.selectFrom('file_names').select(['folder', 'name']).where('folder', '=', folder).where('name', 'in', names).where('claimed_at', '>=', since).execute();
  return new Set(rows.map((r) => keyOf(r.folder, r.name)));
}

/** Frees a name whose files and row are gone (no-op when a row or a fresh claim holds it). */
export async function releaseNameWithoutRow(db: Kysely<Database>, folder: string, name: string, claimedBefore: string): Promise<void> {
  await db
    .deleteFrom('file_names')
    .where('folder', '=', folder)
    .where('name', '=', name)
    .where('claimed_at', '<', claimedBefore)
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('images').select('id').where('folder', '=', folder).where('name', '=', name))))
    .execute();
}

/** The sizes of derivatives `shoebox doctor --fix` made again. */
export async function setDerivativeSizes(db: Kysely<Database>, imageId: number, sizes: Partial<Record<'thumb' | 'medium' | 'frame', number>>): Promise<void> {
  const values: Partial<Record<'thumb_size' | 'medium_size' | 'frame_size', number>> = {};
  if (sizes.thumb !== undefined) values.thumb_size = sizes.thumb;
  if (sizes.medium !== undefined) values.medium_size = sizes.medium;
  if (sizes.frame !== undefined) values.frame_size = sizes.frame;
  if (Object.keys(values).length === 0) return;
  await db.updateTable('images').set(values).where('id', '=', imageId).execute();
}
