import type { Kysely } from 'kysely';
import type { PublicIdCodec } from '../core/public-id.js';
import { moveImagesForAdmin, setImagesExpiry, setImagesNsfw } from '../db/repositories/admin.js';
import type { AlbumRow, Database, ImageRow } from '../db/schema.js';
import { removeImage } from '../ingest/remove-image.js';
import { deleteAlbum, deleteAlbumKeepingFiles } from '../library/album-edits.js';
import type { Storage } from '../storage/storage.js';
import { recordAdminAction, type AuditWho } from './audit.js';

/**
 * The dashboard's actions on other people's files and albums (issue 17): each does the change
 * through the one service for it and writes one audit entry naming the files (public ids).
 */
export interface FileAdminServices {
  db: Kysely<Database>;
  storage: Storage;
  ids: PublicIdCodec;
}

const MAX_LISTED = 50;

function filesTarget(services: FileAdminServices, images: ImageRow[]): string {
  const ids = images.slice(0, MAX_LISTED).map((i) => services.ids.encode(i.id));
  const more = images.length > MAX_LISTED ? ` +${images.length - MAX_LISTED}` : '';
  return `${images.length} files: ${ids.join(' ')}${more}`;
}

export async function deleteFiles(services: FileAdminServices, who: AuditWho, images: ImageRow[]): Promise<number> {
  let deleted = 0;
  for (const image of images) if (await removeImage(services.db, services.storage, image)) deleted += 1;
  await recordAdminAction(services.db, who, 'files.delete', filesTarget(services, images), `${deleted} deleted`);
  return deleted;
}

export async function markFilesNsfw(services: FileAdminServices, who: AuditWho, images: ImageRow[], nsfw: boolean): Promise<void> {
  await setImagesNsfw(services.db, images.map((i) => i.id), nsfw);
  await recordAdminAction(services.db, who, nsfw ? 'files.nsfw' : 'files.sfw', filesTarget(services, images));
}

/** `expiresAt` null: the files never expire. */
export async function setFilesExpiry(services: FileAdminServices, who: AuditWho, images: ImageRow[], expiresAt: string | null, choice: string): Promise<void> {
  await setImagesExpiry(services.db, images.map((i) => i.id), expiresAt);
  await recordAdminAction(services.db, who, 'files.expiry', filesTarget(services, images), expiresAt ? `${choice} (until ${expiresAt} UTC)` : 'never');
}

/** Into `album` (of the files' own uploader, checked by the caller), or out of any album. */
export async function moveFiles(services: FileAdminServices, who: AuditWho, images: ImageRow[], album: AlbumRow | null): Promise<void> {
  await moveImagesForAdmin(services.db, images.map((i) => i.id), album);
  await recordAdminAction(services.db, who, 'files.move', filesTarget(services, images), album ? `into album ${services.ids.encode(album.id)} (${album.name})` : 'out of any album');
}

/** The one album deletion (library/album-edits.ts): with its files, or keeping them (never more visible). */
export async function deleteAlbumAsAdmin(services: FileAdminServices, who: AuditWho, album: AlbumRow, keepFiles: boolean): Promise<{ madePrivate: boolean; deleted: number }> {
  const target = `${services.ids.encode(album.id)} (${album.name})`;
  if (keepFiles) {
    const { madePrivate } = await deleteAlbumKeepingFiles(services.db, album);
    await recordAdminAction(services.db, who, 'album.delete', target, madePrivate ? 'files kept, made private' : 'files kept');
    return { madePrivate, deleted: 0 };
  }
  const deleted = await deleteAlbum(services.db, services.storage, album, { kind: 'delete' });
  await recordAdminAction(services.db, who, 'album.delete', target, `${deleted} files deleted`);
  return { madePrivate: false, deleted };
}
