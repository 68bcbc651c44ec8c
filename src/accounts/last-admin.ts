import type { Kysely } from 'kysely';
import { roleOf } from '../core/roles.js';
import { countActiveAdmins } from '../db/repositories/admin.js';
import type { Database, UserRow } from '../db/schema.js';

/**
 * THE "last admin" rule: a site always keeps one active (not disabled) admin to run it. True
 * when `user` is an active admin and no other active admin exists; then the account may not be
 * deleted (by its owner, web/accounts/security-routes.ts, or an administrator), demoted or
 * disabled (admin/user-admin.ts). A disabled admin does not count: they cannot sign in.
 */
export async function isLastActiveAdmin(db: Kysely<Database>, user: Pick<UserRow, 'role' | 'is_admin' | 'disabled_at'>): Promise<boolean> {
  return roleOf(user) === 'admin' && user.disabled_at === null && (await countActiveAdmins(db)) <= 1;
}
