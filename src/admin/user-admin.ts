import type { Kysely } from 'kysely';
import { deleteAccount } from '../accounts/delete-account.js';
import { isLastActiveAdmin } from '../accounts/last-admin.js';
import { errors } from '../core/errors.js';
import { canActOn, isRole, roleOf, type Role } from '../core/roles.js';
import { regenerateApiKey } from '../db/repositories/api-keys.js';
import { revokeNamedApiKey } from '../db/repositories/named-api-keys.js';
import { deleteApiKeyOfUser, deleteSessionsOfUser, setUserDisabled, setUserRole } from '../db/repositories/admin.js';
import { setUserPassword } from '../db/repositories/user-preferences.js';
import { cliAuditName, recordAdminAction, type AdminAuditAction } from './audit.js';
import type { Database, UserRow } from '../db/schema.js';
import type { Storage } from '../storage/storage.js';

/**
 * What an admin does to accounts and content, for the dashboard and the CLI alike: the
 * rules (nobody removes the last active admin: accounts/last-admin.ts; managers never touch admins) live here, the SQL in
 * db/repositories/admin.ts; an account is deleted by the one account deletion (accounts/delete-account.ts).
 */

export interface AdminServices {
  db: Kysely<Database>;
  storage: Storage;
}

export const MIN_ADMIN_PASSWORD = 8;

/** Who acts: a dashboard user's role (with name and address for the audit log), or `cli` (the operator at the console may do everything). */
export type Actor = { role: Role; userId: number; name: string; ip?: string | null } | 'cli';

/** Every change below is written to the audit log (admin/audit.ts), once, whichever door called. */
async function audit(services: AdminServices, actor: Actor, action: AdminAuditAction, target: UserRow, detail?: string): Promise<void> {
  const who = actor === 'cli' ? { name: cliAuditName() } : { name: actor.name, ip: actor.ip };
  await recordAdminAction(services.db, who, action, target.username, detail);
}

function checkActsOn(actor: Actor, target: UserRow): void {
  if (actor === 'cli') return;
  if (!canActOn(actor.role, roleOf(target)!)) throw errors.notAllowed();
}

export async function changeRole(services: AdminServices, actor: Actor, target: UserRow, role: string): Promise<void> {
  if (!isRole(role)) throw errors.badRole(role);
  checkActsOn(actor, target);
  if (role !== 'admin' && (await isLastActiveAdmin(services.db, target))) {
    throw errors.lastAdmin(target.username, 'make another admin first');
  }
  await setUserRole(services.db, target.id, role);
  await audit(services, actor, 'user.role', target, `${roleOf(target)} → ${role}`);
}

/** A disabled account cannot sign in, its sessions end now, and its API key stops working. */
export async function disableUser(services: AdminServices, actor: Actor, target: UserRow): Promise<void> {
  checkActsOn(actor, target);
  if (await isLastActiveAdmin(services.db, target)) throw errors.lastAdmin(target.username, 'it cannot be disabled');
  await setUserDisabled(services.db, target.id, true);
  await audit(services, actor, 'user.disable', target);
}

export async function enableUser(services: AdminServices, actor: Actor, target: UserRow): Promise<void> {
  checkActsOn(actor, target);
  await setUserDisabled(services.db, target.id, false);
  await audit(services, actor, 'user.enable', target);
}

/** Deletes the account; its files are deleted too (storage included) unless `keepFiles`, which leaves them as guest files. Returns how many files were deleted. */
export async function deleteUser(services: AdminServices, actor: Actor, target: UserRow, options: { keepFiles: boolean }): Promise<number> {
  checkActsOn(actor, target);
  if (await isLastActiveAdmin(services.db, target)) throw errors.lastAdmin(target.username, 'it cannot be deleted');
  // The one account deletion (accounts/delete-account.ts): access first, files, avatar, albums, row.
  const deleted = (await deleteAccount(services, target.id, options)) ?? 0;
  await audit(services, actor, 'user.delete', target, options.keepFiles ? 'files kept as guest files' : `${deleted} files deleted`);
  return deleted;
}

/** Sets the password and signs the account out everywhere. */
export async function setPassword(services: AdminServices, actor: Actor, target: UserRow, password: string): Promise<void> {
  checkActsOn(actor, target);
  if (password.length < MIN_ADMIN_PASSWORD || password.length > 1024) {
    throw errors.adminPasswordTooShort(MIN_ADMIN_PASSWORD);
  }
  await setUserPassword(services.db, target.id, password);
  await deleteSessionsOfUser(services.db, target.id);
  await audit(services, actor, 'user.password', target);
}

export async function revokeApiKey(services: AdminServices, actor: Actor, target: UserRow): Promise<boolean> {
  checkActsOn(actor, target);
  const revoked = await deleteApiKeyOfUser(services.db, target.id);
  await audit(services, actor, 'user.key-revoke', target, revoked ? undefined : 'no key');
  return revoked;
}

/** Revokes one of the account's named keys (Settings → API access); false when it is not theirs. */
export async function revokeNamedKey(services: AdminServices, actor: Actor, target: UserRow, keyId: number): Promise<boolean> {
  checkActsOn(actor, target);
  return revokeNamedApiKey(services.db, target.id, keyId);
}

/** A new key for the account (the old one stops); returned once, never stored in plain. */
export async function newApiKey(services: AdminServices, actor: Actor, target: UserRow): Promise<string> {
  checkActsOn(actor, target);
  const key = await regenerateApiKey(services.db, target.id);
  await audit(services, actor, 'user.key-new', target);
  return key;
}

export async function signOutEverywhere(services: AdminServices, actor: Actor, target: UserRow): Promise<number> {
  checkActsOn(actor, target);
  const ended = await deleteSessionsOfUser(services.db, target.id);
  await audit(services, actor, 'user.sign-out', target, `${ended} sessions`);
  return ended;
}
