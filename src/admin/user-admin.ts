import type { Kysely } from 'kysely';
import { canActOn, isRole, roleOf, type Role } from '../core/roles.js';
import { regenerateApiKey } from '../db/repositories/api-keys.js';
import {
  countActiveAdmins, deleteApiKeyOfUser, deleteSessionsOfUser, deleteUserRow, imagesOfUser, setUserDisabled, setUserRole,
} from '../db/repositories/admin.js';
import { deleteAlbumKeepingContents, deleteAlbumRow, imagesOfAlbum } from '../db/repositories/album-edits.js';
import { setUserPassword } from '../db/repositories/user-preferences.js';
import type { AlbumRow, Database, UserRow } from '../db/schema.js';
import { removeImage } from '../ingest/remove-image.js';
import type { Storage } from '../storage/storage.js';

/**
 * What an admin does to accounts and content, for the dashboard and the CLI alike: the
 * rules (nobody removes the last admin, managers never touch admins) live here, the SQL in
 * db/repositories/admin.ts, and files are always deleted through removeImage.
 */

export interface AdminServices {
  db: Kysely<Database>;
  storage: Storage;
}

/** A refused admin action. `key` names its message in the dashboard's catalog (dashboard.error.<key>). */
export class AdminError extends Error {
  constructor(readonly key: string, message: string, readonly httpStatus = 400) {
    super(message);
    this.name = 'AdminError';
  }
}

export const MIN_ADMIN_PASSWORD = 8;

/** Who acts: a dashboard user's role, or `cli` (the operator at the console may do everything). */
export type Actor = { role: Role; userId: number } | 'cli';

function checkActsOn(actor: Actor, target: UserRow): void {
  if (actor === 'cli') return;
  if (!canActOn(actor.role, roleOf(target)!)) throw new AdminError('not-allowed', 'Only an admin may change an admin\'s account', 403);
}

async function isLastAdmin(db: Kysely<Database>, target: UserRow): Promise<boolean> {
  return roleOf(target) === 'admin' && target.disabled_at === null && (await countActiveAdmins(db)) <= 1;
}

export async function changeRole(services: AdminServices, actor: Actor, target: UserRow, role: string): Promise<void> {
  if (!isRole(role)) throw new AdminError('bad-role', `Role must be admin, manager or user, not "${role}"`);
  checkActsOn(actor, target);
  if (role !== 'admin' && (await isLastAdmin(services.db, target))) {
    throw new AdminError('last-admin', `${target.username} is the only admin; make another admin first`, 409);
  }
  await setUserRole(services.db, target.id, role);
}

/** A disabled account cannot sign in, its sessions end now, and its API key stops working. */
export async function disableUser(services: AdminServices, actor: Actor, target: UserRow): Promise<void> {
  checkActsOn(actor, target);
  if (await isLastAdmin(services.db, target)) throw new AdminError('last-admin', `${target.username} is the only admin; it cannot be disabled`, 409);
  await setUserDisabled(services.db, target.id, true);
}

export async function enableUser(services: AdminServices, actor: Actor, target: UserRow): Promise<void> {
  checkActsOn(actor, target);
  await setUserDisabled(services.db, target.id, false);
}

/** Deletes the account; its files are deleted too (storage included) unless `keepFiles`, which leaves them as guest files. Returns how many files were deleted. */
export async function deleteUser(services: AdminServices, actor: Actor, target: UserRow, options: { keepFiles: boolean }): Promise<number> {
  checkActsOn(actor, target);
  if (await isLastAdmin(services.db, target)) throw new AdminError('last-admin', `${target.username} is the only admin; it cannot be deleted`, 409);
  let deleted = 0;
  if (!options.keepFiles) {
    // Sessions end first, so no upload of theirs lands while the files go.
    await deleteSessionsOfUser(services.db, target.id);
    await deleteApiKeyOfUser(services.db, target.id);
    for (let batch = await imagesOfUser(services.db, target.id, 100); batch.length > 0; batch = await imagesOfUser(services.db, target.id, 100)) {
      for (const image of batch) if (await removeImage(services.db, services.storage, image)) deleted++;
    }
  }
  await deleteUserRow(services.db, target.id);
  return deleted;
}

/** Sets the password and signs the account out everywhere. */
export async function setPassword(services: AdminServices, actor: Actor, target: UserRow, password: string): Promise<void> {
  checkActsOn(actor, target);
  if (password.length < MIN_ADMIN_PASSWORD || password.length > 1024) {
    throw new AdminError('password-too-short', `The password needs at least ${MIN_ADMIN_PASSWORD} characters`);
  }
  await setUserPassword(services.db, target.id, password);
  await deleteSessionsOfUser(services.db, target.id);
}

export async function revokeApiKey(services: AdminServices, actor: Actor, target: UserRow): Promise<boolean> {
  checkActsOn(actor, target);
  return deleteApiKeyOfUser(services.db, target.id);
}

/** A new key for the account (the old one stops); returned once, never stored in plain. */
export async function newApiKey(services: AdminServices, actor: Actor, target: UserRow): Promise<string> {
  checkActsOn(actor, target);
  return regenerateApiKey(services.db, target.id);
}

export async function signOutEverywhere(services: AdminServices, actor: Actor, target: UserRow): Promise<number> {
  checkActsOn(actor, target);
  return deleteSessionsOfUser(services.db, target.id);
}

/**
 * Deletes an album: its files too (through removeImage; sub-albums move up), or, with
 * `keepFiles`, its files and sub-albums are kept and never become more visible than they were
 * (deleteAlbumKeepingContents: up to the parent, or into a private album of the owner).
 */
export async function deleteAlbumAsAdmin(services: AdminServices, album: AlbumRow, options: { keepFiles: boolean }): Promise<{ deleted: number; madePrivate: boolean }> {
  if (options.keepFiles) return { deleted: 0, madePrivate: (await deleteAlbumKeepingContents(services.db, album)).madePrivate };
  let deleted = 0;
  for (let batch = await imagesOfAlbum(services.db, album.id, 100); batch.length > 0; batch = await imagesOfAlbum(services.db, album.id, 100)) {
    for (const image of batch) if (await removeImage(services.db, services.storage, image)) deleted++;
  }
  await deleteAlbumRow(services.db, album);
  return { deleted, madePrivate: false };
}
