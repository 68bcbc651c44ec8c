import type { Kysely } from 'kysely';
import { createAlbum, findAlbumById, type NewAlbum } from '../db/repositories/albums.js';
import {
  deleteAlbumKeepingContents, deleteAlbumRow, descendantIds, imagesOfAlbum, moveAlbumContents, setAlbumCover, updateAlbum, type AlbumChanges,
} from '../db/repositories/album-edits.js';
import type { AlbumRow, Database } from '../db/schema.js';
import { reportChange } from '../ingest/change-events.js';
import { removeImage } from '../ingest/remove-image.js';
import type { Storage } from '../storage/storage.js';
import { moveIntoNewAlbum } from '../db/repositories/bulk-edits.js';
import type { TextScreen } from './text-screen.js';

/**
 * The one place albums are created, changed and deleted (the web pages, the API, the
 * uploader's "new album" and the CLI call these), so each change reports its event once.
 */

/** Stop words in an album's name and description: albums have no approval queue, so any listed word refuses. */
async function screenAlbum(screen: TextScreen, name: string | null | undefined, description: string | null | undefined): Promise<void> {
  await screen.check({ name: [name], description: [description] }, { holdable: false });
}

/** Creates an album (with its password hash when it has one) and reports `album.created`; stop words first (`screen`). */
export async function createAlbumOf(db: Kysely<Database>, album: NewAlbum & { passwordHash?: string | null }, screen: TextScreen): Promise<AlbumRow> {
  await screenAlbum(screen, album.name, album.description);
  let created = await createAlbum(db, album);
  if (album.passwordHash) {
    await updateAlbum(db, created, {
      name: created.name, description: created.description, privacy: created.privacy as AlbumChanges['privacy'], parentId: created.parent_id, passwordHash: album.passwordHash,
    });
    created = (await findAlbumById(db, created.id)) ?? created;
  }
  await reportChange(db, { type: 'album.created', album: created });
  return created;
}

/** Whether `parent` may become the parent of `album`: the same owner, and not the album itself or one below it. */
export async function isValidParent(db: Kysely<Database>, album: AlbumRow | null, parent: AlbumRow, ownerId: number): Promise<boolean> {
  if (parent.user_id !== ownerId) return false;
  if (!album) return true;
  return parent.id !== album.id && !(await descendantIds(db, album.id)).has(parent.id);
}

/**
 * Creates an album of `album.userId` and moves their files among `imageIds` into it, in one
 * transaction (the bulk selection's "new album"); stop words first. Reports `album.created`.
 */
export async function createAlbumWithFiles(db: Kysely<Database>, album: NewAlbum, imageIds: number[], screen: TextScreen): Promise<AlbumRow> {
  await screenAlbum(screen, album.name, album.description);
  const created = await moveIntoNewAlbum(db, album, imageIds);
  await reportChange(db, { type: 'album.created', album: created });
  return created;
}

/**
 * Applies `changes` (and a new cover when given: an image id, or null for none); reports
 * `album.updated`. Stop words are checked in a name or description this edit changes.
 */
export async function editAlbum(db: Kysely<Database>, album: AlbumRow, changes: AlbumChanges, screen: TextScreen, cover?: number | null): Promise<AlbumRow> {
  await screenAlbum(screen, changes.name !== album.name ? changes.name : null, changes.description !== album.description ? changes.description : null);
  await updateAlbum(db, album, changes);
  if (cover !== undefined) await setAlbumCover(db, album.id, cover);
  const updated = (await findAlbumById(db, album.id)) ?? album;
  await reportChange(db, { type: 'album.updated', album: updated });
  return updated;
}

/**
 * THE one way an album is deleted (its owner on the site, the management API, the dashboard):
 * its files are deleted (`files: 'delete'`, each through removeImage and reported) or moved to
 * `target` (null: out of any album); its sub-albums move up to its parent. Reports
 * `album.deleted`. Returns how many files were deleted.
 */
export async function deleteAlbum(
  db: Kysely<Database>,
  storage: Storage,
  album: AlbumRow,
  files: { kind: 'delete' } | { kind: 'move'; target: AlbumRow | null },
): Promise<number> {
  let deleted = 0;
  if (files.kind === 'delete') {
    for (let batch = await imagesOfAlbum(db, album.id, 100); batch.length > 0; batch = await imagesOfAlbum(db, album.id, 100)) {
      for (const image of batch) if (await removeImage(db, storage, image)) deleted++;
    }
  } else {
    await moveAlbumContents(db, album, files.target);
  }
  await deleteAlbumRow(db, album);
  await reportChange(db, { type: 'album.deleted', album });
  return deleted;
}

/**
 * The admin's "delete album, keep files": the album goes, what was in it stays and never becomes
 * more visible than it was (db/repositories/album-edits.ts, deleteAlbumKeepingContents): up into
 * its parent, or into a new private album of the same owner and name. Reports `album.created`
 * for that album and `album.deleted`.
 */
export async function deleteAlbumKeepingFiles(db: Kysely<Database>, album: AlbumRow): Promise<{ madePrivate: boolean }> {
  const { keptIn, madePrivate } = await deleteAlbumKeepingContents(db, album);
  if (madePrivate && keptIn) await reportChange(db, { type: 'album.created', album: keptIn });
  await reportChange(db, { type: 'album.deleted', album });
  return { madePrivate };
}
