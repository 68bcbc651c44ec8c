import { PostgresAdapter, sql, type CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { DialectName } from '../database.js';
import type { Database, ImageRow, NewImageRow } from '../schema.js';
import { formatUtc } from '../../core/dates.js';
import { errors } from '../../core/errors.js';

export interface TagRow {
  id: number;
  name: string;
}

/**
 * Claims `name` inside `folder` for a new upload. Returns false when another upload (or a
 * stored file) already has it. The claim is what keeps two concurrent uploads from writing
 * the same object key; it is released if the upload fails and when the image is deleted.
 */
export async function claimFileName(db: Kysely<Database>, folder: string, name: string): Promise<boolean> {
  const result = await db
    .insertInto('file_names')
    .values({ folder, name, claimed_at: formatUtc(new Date()) })
    .onConflict((oc) => oc.columns(['folder', 'name']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function releaseFileName(db: Kysely<Database>, folder: string, name: string): Promise<void> {
  await db.deleteFrom('file_names').where('folder', '=', folder).where('name', '=', name).execute();
}

async function upsertTags(trx: Transaction<Database>, names: string[]): Promise<TagRow[]> {
  if (names.length === 0) return [];
  await trx
    .insertInto('tags')
    .values(names.map((name) => ({ name })))
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const rows = await trx.selectFrom('tags').select(['id', 'name']).where('name', 'in', names).execute();
  return names.map((n) => rows.find((r) => r.name === n)!).filter(Boolean);
}

/**
 * Keeps an upload's name claim fresh while its files go into storage, so the stale-claims job
 * (jobs/stale-name-claims.ts) never takes the claim of a live upload. False when it was taken.
 */
export async function refreshFileNameClaim(db: Kysely<Database>, folder: string, name: string): Promise<boolean> {
  const result = await db.updateTable('file_names').set({ claimed_at: formatUtc(new Date()) }).where('folder', '=', folder).where('name', '=', name).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The row of an upload whose name claim the stale-claims job took (its files are gone): the upload fails. */
export class NameClaimLostError extends Error {
  constructor(folder: string, name: string) {
    super(`the claim on ${folder}/${name} expired before its row was written`);
  }
}

/**
 * Inserts the image row and its tag links in one transaction; the files must already be in place.
 * With `requireNameClaim` (every upload), the row is written only while the name claim still
 * stands, checked in the same transaction (on PostgreSQL the row lock waits for a sweeper holding it).
 * With `listedFromAlbum` (every upload), `listed` comes from the album as it is in this same
 * transaction, not as it was when the upload started: an album made private during a slow
 * upload gets an unlisted file. On PostgreSQL the album row is read FOR SHARE, so a privacy
 * change waits for this insert and then updates this row with the album's other files.
 */
export async function insertImageWithTags(
  db: Kysely<Database>,
  row: NewImageRow,
  tagNames: string[],
  options: { requireNameClaim?: boolean; listedFromAlbum?: boolean } = {},
): Promise<{ image: ImageRow; tags: TagRow[] }> {
  return db.transaction().execute(async (trx) => {
    if (options.requireNameClaim && !(await refreshFileNameClaim(trx, row.folder, row.name))) throw new NameClaimLostError(row.folder, row.name);
    let values = row;
    if (options.listedFromAlbum && row.album_id !== null && row.album_id !== undefined) {
      let query = trx.selectFrom('albums').select(['listed', 'user_id']).where('id', '=', row.album_id);
      if (trx.getExecutor().adapter instanceof PostgresAdapter) query = query.forShare();
      const album = await query.executeTakeFirst();
      // Deleted meanwhile (its files went with it, or to another album): the upload fails cleanly.
      if (!album || album.user_id !== row.user_id) throw errors.notFound('Album not found');
      values = { ...row, listed: album.listed === 1 ? 1 : 0 };
    }
    const image = await trx.insertInto('images').values(values).returningAll().executeTakeFirstOrThrow();
    const tags = await upsertTags(trx, tagNames);
    if (tags.length > 0) {
      await trx
        .insertInto('image_tags')
        .values(tags.map((t) => ({ image_id: image.id, tag_id: t.id })))
        .execute();
    }
    return { image, tags };
  });
}

export async function findImageById(db: Kysely<Database>, id: number): Promise<ImageRow | undefined> {
  return db.selectFrom('images').selectAll().where('id', '=', id).executeTakeFirst();
}

const imageWithTagIdsQueries = new WeakMap<Kysely<Database>, CompiledQuery<ImageRow & { tag_ids_of_image: string | null }>>();

/**
 * The image row and the ids of its tags (sorted, comma-separated; '' for none) in one query:
 * what the viewer page cache checks its copy against on every request (web/page-cache.ts).
 */
export async function findImageWithTagIds(db: Kysely<Database>, dialect: DialectName, id: number): Promise<{ image: ImageRow; tagIds: string } | undefined> {
  // Asked on every anonymous page view: the query is built and compiled once per database (or transaction).
  let compiled = imageWithTagIdsQueries.get(db);
  if (!compiled) {
    const tagIds =
      dialect === 'postgres'
        ? sql<string | null>`(select string_agg(tag_id::text, ',' order by tag_id) from image_tags where image_id = images.id)`
        : sql<string | null>`(select group_concat(tag_id) from (select tag_id from image_tags where image_id = images.id order by tag_id))`;
    compiled = db.selectFrom('images').selectAll().select(tagIds.as('tag_ids_of_image')).where('id', '=', 0).compile();
    imageWithTagIdsQueries.set(db, compiled);
  }
  const row = (await db.executeQuery<ImageRow & { tag_ids_of_image: string | null }>({ ...compiled, parameters: [id] })).rows[0];
  if (!row) return undefined;
  const { tag_ids_of_image, ...image } = row;
  return { image, tagIds: tag_ids_of_image === null ? '' : String(tag_ids_of_image) };
}

export async function findImageByFile(db: Kysely<Database>, folder: string, name: string): Promise<ImageRow | undefined> {
  return db.selectFrom('images').selectAll().where('folder', '=', folder).where('name', '=', name).executeTakeFirst();
}

export async function findTagsOfImage(db: Kysely<Database>, imageId: number): Promise<TagRow[]> {
  return db
    .selectFrom('image_tags')
    .innerJoin('tags', 'tags.id', 'image_tags.tag_id')
    .select(['tags.id', 'tags.name'])
    .where('image_tags.image_id', '=', imageId)
    .orderBy('tags.name')
    .execute();
}

/**
 * The uploader's earlier upload of the same bytes, for sites that refuse duplicates. Converted,
 * resized or stripped uploads keep the client's checksum in source_md5, so both are matched.
 */
export async function findDuplicate(db: Kysely<Database>, userId: number | null, md5: string): Promise<ImageRow | undefined> {
  let q = db.selectFrom('images').selectAll().where((eb) => eb.or([eb('md5', '=', md5), eb('source_md5', '=', md5)]));
  q = userId === null ? q.where('user_id', 'is', null) : q.where('user_id', '=', userId);
  return q.orderBy('id').executeTakeFirst();
}

/** Removes the row and its tag links. The name claim stays until the files are gone (see removeImage). */
export async function deleteImageRow(db: Kysely<Database>, imageId: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('image_tags').where('image_id', '=', imageId).execute();
    const result = await trx.deleteFrom('images').where('id', '=', imageId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  });
}

export async function findExpiredImages(db: Kysely<Database>, now: Date, limit: number): Promise<ImageRow[]> {
  return db
    .selectFrom('images')
    .selectAll()
    .where('expires_at', 'is not', null)
    .where('expires_at', '<=', formatUtc(now))
    .orderBy('expires_at')
    .limit(limit)
    .execute();
}

/** Adds counted views to images (`views = views + n`, so instances sharing a database never lose each other's), in one transaction. */
export async function addImageViews(db: Kysely<Database>, counts: Map<number, number>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const [id, count] of counts) {
      await trx.updateTable('images').set((eb) => ({ views: eb('views', '+', count) })).where('id', '=', id).execute();
    }
  });
}

/** How many image rows there are. */
export async function countImages(db: Kysely<Database>): Promise<number> {
  return Number((await db.selectFrom('images').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
}

/** Image rows in id order after `afterId` (keyset pages for whole-table walks). */
export async function imagesAfter(db: Kysely<Database>, afterId: number, limit: number): Promise<ImageRow[]> {
  return db.selectFrom('images').selectAll().where('id', '>', afterId).orderBy('id').limit(limit).execute();
}
