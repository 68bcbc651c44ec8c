import { sql, type Kysely } from 'kysely';
import type { AlbumRow, Database, ImageRow } from '../schema.js';
import { albumListed } from './albums.js';

/**
 * Changes to albums from the web site. Every change that moves a file into or out of an
 * album, or changes an album's privacy or parent, also sets `images.listed`, the copy of "may
 * appear in public listings" that the listings read. Privacy is inherited: `albums.listed` is 1
 * only when the album and every album above it are public, and a file copies its album's.
 */

export type AlbumPrivacy = 'public' | 'private' | 'unlisted' | 'password';
export const ALBUM_PRIVACIES: readonly AlbumPrivacy[] = ['public', 'private', 'unlisted', 'password'];

/** `listed` as an SQL value that keeps files waiting for approval (is_approved = 0) out of listings (moderation). */
function listedUnlessWaiting(listed: number) {
  return listed === 1 ? sql<number>`case when is_approved = 1 then 1 else 0 end` : 0;
}

/** `images.listed` of a file in `album` (null: in no album). */
export function listedFor(album: Pick<AlbumRow, 'listed'> | null): number {
  return !album || album.listed === 1 ? 1 : 0;
}

/**
 * Recomputes `listed` of an album and everything below it (albums and their files) from the
 * album's own privacy and its parent's `listed`: after a privacy change, a move under another
 * album, or the deletion of an album above.
 */
export async function refreshListed(db: Kysely<Database>, albumId: number): Promise<void> {
  const album = await db.selectFrom('albums').select(['id', 'privacy', 'parent_id']).where('id', '=', albumId).executeTakeFirst();
  if (!album) return;
  const parent = album.parent_id ? await db.selectFrom('albums').select('listed').where('id', '=', album.parent_id).executeTakeFirst() : undefined;
  const seen = new Set<number>([album.id]);
  let level = [{ id: album.id, listed: albumListed(album.privacy, parent) }];
  while (level.length > 0) {
    for (const listed of [0, 1]) {
      const ids = level.filter((a) => a.listed === listed).map((a) => a.id);
      if (ids.length === 0) continue;
      await db.updateTable('albums').set({ listed }).where('id', 'in', ids).where('listed', '<>', listed).execute();
      const files = db.updateTable('images').set({ listed }).where('album_id', 'in', ids).where('listed', '<>', listed);
      // Files waiting for approval stay unlisted whatever their album becomes (moderation).
      await (listed === 1 ? files.where('is_approved', '=', 1) : files).execute();
    }
    const listedOf = new Map(level.map((a) => [a.id, a.listed]));
    const children = await db.selectFrom('albums').select(['id', 'privacy', 'parent_id']).where('parent_id', 'in', [...listedOf.keys()]).execute();
    level = children
      .filter((c) => !seen.has(c.id))
      .map((c) => ({ id: c.id, listed: albumListed(c.privacy, { listed: listedOf.get(c.parent_id!)! }) }));
    level.forEach((c) => seen.add(c.id));
  }
}

/** Every album of a user, by name: for album pickers. */
export async function listAllAlbumsOfUser(db: Kysely<Database>, userId: number): Promise<AlbumRow[]> {
  return db.selectFrom('albums').selectAll().where('user_id', '=', userId).orderBy('name').orderBy('id').limit(1000).execute();
}

/** Ids of the album's sub-albums at any depth (a new parent must not be one of them). */
export async function descendantIds(db: Kysely<Database>, albumId: number): Promise<Set<number>> {
  const found = new Set<number>();
  let frontier = [albumId];
  while (frontier.length > 0) {
    const rows = await db.selectFrom('albums').select('id').where('parent_id', 'in', frontier).execute();
    frontier = rows.map((r) => r.id).filter((id) => !found.has(id) && id !== albumId);
    frontier.forEach((id) => found.add(id));
  }
  return found;
}

/** The chain from the top-level album down to `album` (for breadcrumbs). */
export async function ancestorsOf(db: Kysely<Database>, album: AlbumRow): Promise<AlbumRow[]> {
  const chain: AlbumRow[] = [];
  const seen = new Set([album.id]);
  let parentId = album.parent_id;
  while (parentId !== null && !seen.has(parentId) && chain.length < 50) {
    seen.add(parentId);
    const parent = await db.selectFrom('albums').selectAll().where('id', '=', parentId).executeTakeFirst();
    if (!parent) break;
    chain.unshift(parent);
    parentId = parent.parent_id;
  }
  return chain;
}

export interface AlbumChanges {
  name: string;
  description: string | null;
  privacy: AlbumPrivacy;
  /** Only applied when given: keeps the current password when the form leaves it empty. */
  passwordHash?: string | null;
  parentId: number | null;
}

export async function updateAlbum(db: Kysely<Database>, album: AlbumRow, changes: AlbumChanges): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('albums')
      .set({
        name: changes.name,
        description: changes.description,
        privacy: changes.privacy,
        parent_id: changes.parentId,
        ...(changes.passwordHash !== undefined ? { password_hash: changes.passwordHash } : {}),
      })
      .where('id', '=', album.id)
      .execute();
    if (album.privacy !== changes.privacy || album.parent_id !== changes.parentId) await refreshListed(trx, album.id);
  });
}

export async function setAlbumCover(db: Kysely<Database>, albumId: number, imageId: number | null): Promise<void> {
  await db.updateTable('albums').set({ cover_image_id: imageId }).where('id', '=', albumId).execute();
}

/** Moves the user's own files among `imageIds` into `target` (null: out of any album). Returns how many moved. */
export async function moveImages(db: Kysely<Database>, userId: number, imageIds: number[], target: AlbumRow | null): Promise<number> {
  if (imageIds.length === 0) return 0;
  const result = await db
    .updateTable('images')
    .set({ album_id: target?.id ?? null, listed: listedUnlessWaiting(listedFor(target)) })
    .where('user_id', '=', userId)
    .where('id', 'in', imageIds)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Moves every file of one album into another (or out of any album). */
export async function moveAlbumContents(db: Kysely<Database>, from: AlbumRow, target: AlbumRow | null): Promise<void> {
  await db.updateTable('images').set({ album_id: target?.id ?? null, listed: listedUnlessWaiting(listedFor(target)) }).where('album_id', '=', from.id).execute();
}

/** A batch of the album's files, for deleting them one by one (files first need their storage removed). */
export async function imagesOfAlbum(db: Kysely<Database>, albumId: number, limit: number): Promise<ImageRow[]> {
  return db.selectFrom('images').selectAll().where('album_id', '=', albumId).orderBy('id').limit(limit).execute();
}

/** Deletes the album row; its sub-albums move up to its parent. Its files must have been moved or deleted first. */
export async function deleteAlbumRow(db: Kysely<Database>, album: AlbumRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const children = await trx.selectFrom('albums').select('id').where('parent_id', '=', album.id).execute();
    await trx.updateTable('albums').set({ parent_id: album.parent_id }).where('parent_id', '=', album.id).execute();
    await trx.updateTable('images').set({ album_id: null, listed: listedUnlessWaiting(1) }).where('album_id', '=', album.id).execute();
    await trx.deleteFrom('albums').where('id', '=', album.id).execute();
    // The sub-albums now inherit from the album's parent instead.
    for (const child of children) await refreshListed(trx, child.id);
  });
}

const PRIVACY_RANK: Record<string, number> = { public: 0, unlisted: 1, password: 2, private: 3 };

/**
 * Deletes an album and keeps what is in it, never more visible than it was (the admin's
 * "delete album, keep files"). Files and sub-albums move up to the album's parent (top level
 * when it has none) when the albums above are at least as closed as it was; otherwise (a
 * private, password or unlisted album under more open ones, or at the top) they move into a
 * new **private** album of the same owner and name, in its place, so nobody but the owner
 * (and admins) sees them. One transaction. Returns the album they are in now (null: none).
 */
export async function deleteAlbumKeepingContents(db: Kysely<Database>, album: AlbumRow): Promise<{ keptIn: AlbumRow | null; madePrivate: boolean }> {
  return db.transaction().execute(async (trx) => {
    const above = await ancestorsOf(trx, album);
    const aboveRank = Math.max(0, ...above.map((a) => PRIVACY_RANK[a.privacy] ?? 3));
    const ownRank = PRIVACY_RANK[album.privacy] ?? 3;
    let keptIn: AlbumRow | null = above.length ? above[above.length - 1] : null;
    const madePrivate = ownRank > aboveRank;
    if (madePrivate) {
      keptIn = await trx.insertInto('albums').values({
        user_id: album.user_id,
        parent_id: album.parent_id,
        name: album.name,
        description: null,
        privacy: 'private',
        password_hash: null,
        cover_image_id: null,
        created_at: album.created_at,
        listed: 0,
      }).returningAll().executeTakeFirstOrThrow();
    }
    await trx.updateTable('albums').set({ parent_id: keptIn?.id ?? null }).where('parent_id', '=', album.id).execute();
    await trx.updateTable('images').set({ album_id: keptIn?.id ?? null, listed: listedUnlessWaiting(listedFor(keptIn)) }).where('album_id', '=', album.id).execute();
    await trx.deleteFrom('albums').where('id', '=', album.id).execute();
    if (keptIn) await refreshListed(trx, keptIn.id);
    return { keptIn, madePrivate };
  });
}
