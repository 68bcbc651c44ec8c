import { sql, type Insertable, type Kysely } from 'kysely';
import type { DatabaseHandle } from '../database.js';
import type {
  AlbumsTable,
  CategoriesTable,
  Database,
  DeletedIdsTable,
  ImagesTable,
  LegacyApiKeysTable,
  UsersTable,
} from '../schema.js';
import { formatUtc } from '../../core/dates.js';
import { NameClaimLostError, refreshFileNameClaim } from './images.js';

/**
 * The SQL of `shoebox import-chevereto` (src/import/). Rows keep their Chevereto ids; each
 * batch is one transaction that also writes a `chevereto_imported` marker per row, so a run
 * that stops is resumed by skipping marked rows, and a finished import run again writes nothing.
 */

/** `image_claim`: the file name of an image whose files are on their way (its claim is the import's own; see claimImportedFileName). */
export type ImportKind = 'user' | 'album' | 'image' | 'image_claim' | 'category' | 'deletion' | 'api_key';

type WithId<T> = Insertable<T> & { id: number };

async function mark(trx: Kysely<Database>, kind: ImportKind, ids: number[]): Promise<void> {
  if (ids.length > 0) await trx.insertInto('chevereto_imported').values(ids.map((id) => ({ kind, id }))).execute();
}

export async function importedIdsOf(db: Kysely<Database>, kind: ImportKind, ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom('chevereto_imported').select('id').where('kind', '=', kind).where('id', 'in', ids).execute();
  return new Set(rows.map((r) => Number(r.id)));
}

export async function countImported(db: Kysely<Database>, kind: ImportKind): Promise<number> {
  const row = await db.selectFrom('chevereto_imported').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', kind).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function existingIdsOf(db: Kysely<Database>, table: 'users' | 'albums' | 'images', ids: number[]): Promise<Set<number>> {
  if (ids.length === 0) return new Set();
  const rows = await db.selectFrom(table).select('id').where('id', 'in', ids).execute();
  return new Set(rows.map((r) => Number(r.id)));
}

/** Lower-cased user names and emails already used on this site, with the user holding each. */
export async function takenUserNames(db: Kysely<Database>, usernames: string[], emails: string[]): Promise<{ usernames: Map<string, number>; emails: Map<string, number> }> {
  const byName = usernames.length
    ? await db.selectFrom('users').select(['id', 'username']).where(sql<string>`lower(username)`, 'in', usernames.map((u) => u.toLowerCase())).execute()
    : [];
  const byEmail = emails.length
    ? await db.selectFrom('users').select(['id', 'email']).where(sql<string>`lower(email)`, 'in', emails.map((e) => e.toLowerCase())).execute()
    : [];
  return {
    usernames: new Map(byName.map((r) => [r.username.toLowerCase(), Number(r.id)])),
    emails: new Map(byEmail.map((r) => [String(r.email).toLowerCase(), Number(r.id)])),
  };
}

/** `folder/name` pairs already claimed by a file of this site. */
export async function takenFileNames(db: Kysely<Database>, files: { folder: string; name: string }[]): Promise<Set<string>> {
  const out = new Set<string>();
  const folders = [...new Set(files.map((f) => f.folder))];
  if (folders.length === 0) return out;
  const names = [...new Set(files.map((f) => f.name))];
  const rows = await db.selectFrom('file_names').select(['folder', 'name']).where('folder', 'in', folders).where('name', 'in', names).execute();
  for (const r of rows) out.add(`${r.folder}/${r.name}`);
  const images = await db.selectFrom('images').select(['folder', 'name']).where('folder', 'in', folders).where('name', 'in', names).execute();
  for (const r of images) out.add(`${r.folder}/${r.name}`);
  return out;
}

/** Whether the site holds users, albums or files that did not come from this import. */
export async function hasOwnContent(db: Kysely<Database>): Promise<boolean> {
  for (const [table, kind] of [['users', 'user'], ['albums', 'album'], ['images', 'image']] as const) {
    const row = await db
      .selectFrom(table)
      .select('id')
      .where('id', 'not in', db.selectFrom('chevereto_imported').select('id').where('kind', '=', kind))
      .limit(1)
      .executeTakeFirst();
    if (row) return true;
  }
  return false;
}

export async function insertImportedUsers(db: Kysely<Database>, users: WithId<UsersTable>[]): Promise<void> {
  if (users.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('users').values(users).execute();
    await mark(trx, 'user', users.map((u) => u.id));
  });
}

export async function insertImportedCategories(db: Kysely<Database>, categories: CategoriesTable[]): Promise<void> {
  if (categories.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('categories').values(categories).execute();
    await mark(trx, 'category', categories.map((c) => c.id));
  });
}

export async function insertImportedApiKeys(db: Kysely<Database>, keys: (LegacyApiKeysTable & { chevereto_id: number })[]): Promise<void> {
  if (keys.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('legacy_api_keys').values(keys.map(({ chevereto_id: _, ...key }) => key)).execute();
    await mark(trx, 'api_key', keys.map((k) => k.chevereto_id));
  });
}

/** Albums go in without their parent first (a parent may come later in id order); linkImportedAlbums sets it. */
export async function insertImportedAlbums(db: Kysely<Database>, albums: WithId<AlbumsTable>[]): Promise<void> {
  if (albums.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('albums').values(albums).execute();
    await mark(trx, 'album', albums.map((a) => a.id));
  });
}

/** Parent and `listed` of every imported album, in one transaction (run again on every import: idempotent). */
/** Albums whose parent was not imported: made private (never more visible than before), kept at the top level. */
export async function makeAlbumsPrivate(db: Kysely<Database>, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable('albums').set({ privacy: 'private', listed: 0 }).where('id', 'in', ids).execute();
}

export async function linkImportedAlbums(db: Kysely<Database>, links: { id: number; parent_id: number | null; listed: number }[]): Promise<void> {
  if (links.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const link of links) {
      await trx.updateTable('albums').set({ parent_id: link.parent_id, listed: link.listed }).where('id', '=', link.id).execute();
    }
  });
}

/**
 * Claims the file name of image `imageId` before any of its bytes go into storage, as every
 * upload does (file_names): if the import dies while copying, the stale-claims job finds the
 * claim with no row and removes the files, so nothing is left that no row or claim accounts for.
 * The claim is recorded as the import's (an `image_claim` marker, same transaction), so a
 * stopped import run again takes its own claim back instead of taking the name for someone
 * else's. False when the name belongs to another file of this site.
 */
export async function claimImportedFileName(db: Kysely<Database>, folder: string, name: string, imageId: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const image = await trx.selectFrom('images').select('id').where('folder', '=', folder).where('name', '=', name).executeTakeFirst();
    if (image) return false;
    const ours = await trx.selectFrom('chevereto_imported').select('id').where('kind', '=', 'image_claim').where('id', '=', imageId).executeTakeFirst();
    const inserted = await trx
      .insertInto('file_names')
      .values({ folder, name, claimed_at: formatUtc(new Date()) })
      .onConflict((oc) => oc.columns(['folder', 'name']).doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) {
      if (!ours) await mark(trx, 'image_claim', [imageId]);
      return true;
    }
    if (!ours) return false;
    await trx.updateTable('file_names').set({ claimed_at: formatUtc(new Date()) }).where('folder', '=', folder).where('name', '=', name).execute();
    return true;
  });
}

/** Gives back the claim of an image that is not coming in after all (its files are already deleted). */
export async function releaseImportedFileName(db: Kysely<Database>, folder: string, name: string, imageId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('file_names').where('folder', '=', folder).where('name', '=', name).execute();
    await trx.deleteFrom('chevereto_imported').where('kind', '=', 'image_claim').where('id', '=', imageId).execute();
  });
}

/**
 * Files' rows and their tags, in one transaction, written only while every file's name claim
 * (claimImportedFileName) still stands: a claim the stale-claims job took means its files are
 * gone, and the batch fails with NameClaimLostError.
 */
export async function insertImportedImages(db: Kysely<Database>, images: WithId<ImagesTable>[], tagsOf: Map<number, string[]>): Promise<void> {
  if (images.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const image of images) {
      if (!(await refreshFileNameClaim(trx, image.folder, image.name))) throw new NameClaimLostError(image.folder, image.name);
    }
    await trx.insertInto('images').values(images).execute();
    const names = [...new Set(images.flatMap((i) => tagsOf.get(i.id) ?? []))];
    if (names.length > 0) {
      await trx.insertInto('tags').values(names.map((name) => ({ name }))).onConflict((oc) => oc.column('name').doNothing()).execute();
      const tags = await trx.selectFrom('tags').select(['id', 'name']).where('name', 'in', names).execute();
      const idOf = new Map(tags.map((t) => [t.name, Number(t.id)]));
      const links = images.flatMap((i) => [...new Set(tagsOf.get(i.id) ?? [])].map((name) => ({ image_id: i.id, tag_id: idOf.get(name)! })));
      if (links.length > 0) await trx.insertInto('image_tags').values(links).onConflict((oc) => oc.doNothing()).execute();
    }
    await trx.deleteFrom('chevereto_imported').where('kind', '=', 'image_claim').where('id', 'in', images.map((i) => i.id)).execute();
    await mark(trx, 'image', images.map((i) => i.id));
  });
}

export async function insertImportedDeletions(db: Kysely<Database>, deletions: (DeletedIdsTable & { chevereto_id: number })[]): Promise<void> {
  if (deletions.length === 0) return;
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('deleted_ids')
      .values(deletions.map(({ chevereto_id: _, ...d }) => d))
      .onConflict((oc) => oc.columns(['kind', 'id']).doNothing())
      .execute();
    await mark(trx, 'deletion', deletions.map((d) => d.chevereto_id));
  });
}

export async function maxId(db: Kysely<Database>, table: 'users' | 'albums' | 'images'): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.max<number | null>('id').as('n')).executeTakeFirstOrThrow();
  return Number(row.n ?? 0);
}

/** New rows of `table` get ids above `atLeast` (never lowers the sequence). */
export async function raiseIdSequence(handle: DatabaseHandle, table: 'users' | 'albums' | 'images', atLeast: number): Promise<void> {
  if (atLeast < 1) return;
  if (handle.dialect === 'postgres') {
    await sql`select setval(pg_get_serial_sequence(${table}, 'id'), greatest(${atLeast}::bigint, (select coalesce(max(id), 1) from ${sql.table(table)})))`.execute(handle.db);
    return;
  }
  await sql`update sqlite_sequence set seq = ${atLeast} where name = ${table} and seq < ${atLeast}`.execute(handle.db);
  await sql`insert into sqlite_sequence (name, seq) select ${table}, ${atLeast} where not exists (select 1 from sqlite_sequence where name = ${table})`.execute(handle.db);
}

export async function setVariables(db: Kysely<Database>, values: Record<string, string>): Promise<void> {
  const entries = Object.entries(values);
  if (entries.length === 0) return;
  await db.transaction().execute(async (trx) => {
    for (const [name, value] of entries) {
      await trx.insertInto('variables').values({ name, value }).onConflict((oc) => oc.column('name').doUpdateSet({ value })).execute();
    }
  });
}

/** Imported files (keyset pages by id), for `import-chevereto --verify`. */
export async function importedImagesPage(db: Kysely<Database>, afterId: number, limit: number) {
  return db
    .selectFrom('images')
    .innerJoin('chevereto_imported', (join) => join.onRef('chevereto_imported.id', '=', 'images.id').on('chevereto_imported.kind', '=', 'image'))
    .select(['images.id', 'images.album_id', 'images.user_id', 'images.folder', 'images.name', 'images.extension', 'images.derivative_extension', 'images.chain', 'images.type', 'images.md5'])
    .where('images.id', '>', afterId)
    .orderBy('images.id')
    .limit(limit)
    .execute();
}

export async function importedAlbumIds(db: Kysely<Database>): Promise<number[]> {
  const rows = await db.selectFrom('chevereto_imported').select('id').where('kind', '=', 'album').orderBy('id').execute();
  return rows.map((r) => Number(r.id));
}

export async function importedUsernames(db: Kysely<Database>): Promise<{ id: number; username: string }[]> {
  const rows = await db
    .selectFrom('users')
    .innerJoin('chevereto_imported', (join) => join.onRef('chevereto_imported.id', '=', 'users.id').on('chevereto_imported.kind', '=', 'user'))
    .select(['users.id', 'users.username'])
    .orderBy('users.id')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), username: r.username }));
}
