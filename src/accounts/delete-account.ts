import { findUserById } from '../db/repositories/users.js';
import { deleteUserRow, imagesOfUser, revokeAccess } from '../db/repositories/user-removal.js';
import { removeImage } from '../ingest/remove-image.js';
import type { AccountStorageServices } from './account-services.js';

const BATCH = 100;

export interface DeleteAccountOptions {
  /** Leave the files as guest files (out of any album) instead of deleting them: the dashboard's and the management API's choice. */
  keepFiles?: boolean;
}

/**
 * THE one way an account is deleted: by its owner (/settings/security), an administrator (the
 * dashboard, the management API, the CLI, through admin/user-admin.ts `deleteUser`, which adds
 * its rules first). In this order, so nothing is left half-owned:
 * 1. its sessions and API keys go, so it can't sign in or upload while this runs;
 * 2. every file through removeImage (row, then files, then the name: the same path as every
 *    other deletion), batch by batch until none is left, unless `keepFiles`;
 * 3. the avatar file;
 * 4. one transaction: kept files become guest files, its albums go, then the user row
 *    (`deleteUserRow`; tokens, recovery codes and invites follow by the foreign keys).
 * An upload that was already past its checks when access was revoked fails at its insert (the
 * user row is gone) and cleans its own files up, as every failed upload does.
 * Returns the number of files removed, or null when there was no such account.
 */
export async function deleteAccount(services: AccountStorageServices, userId: number, options: DeleteAccountOptions = {}): Promise<number | null> {
  const user = await findUserById(services.db, userId);
  if (!user) return null;
  await revokeAccess(services.db, userId);
  let removed = 0;
  if (!options.keepFiles) {
    for (;;) {
      const images = await imagesOfUser(services.db, userId, { limit: BATCH });
      if (images.length === 0) break;
      for (const image of images) if (await removeImage(services.db, services.storage, image)) removed += 1;
    }
  }
  if (user.avatar_key) await services.storage.delete([user.avatar_key]);
  await deleteUserRow(services.db, userId);
  return removed;
}
