import { userInfo } from 'node:os';
import type { Kysely } from 'kysely';
import { insertAuditEntry } from '../db/repositories/moderation.js';
import type { Database } from '../db/schema.js';

/**
 * The audit log of admin actions (issue 17): who, what, on what, details, when and from where,
 * in the one `audit_log` the moderation actions write too (shown at /moderation/audit and as CSV).
 * The admin services call this after a change succeeded, so every door (dashboard, management
 * API, CLI) records it once. Secret values (passwords, keys, reset links) are never written.
 */
export interface AuditWho {
  /** The acting account's username, or `cli:<os user>` for the console. */
  name: string;
  /** The client address, when the action came over HTTP. */
  ip?: string | null;
}

/** The action names the audit page translates (`moderation.audit.action.<name>`, dots as dashes). */
export type AdminAuditAction =
  | 'user.create' | 'user.role' | 'user.disable' | 'user.enable' | 'user.delete' | 'user.password'
  | 'user.reset-link' | 'user.reset-email' | 'user.key-revoke' | 'user.key-new' | 'user.sign-out'
  | 'settings.save' | 'asset.save' | 'asset.remove' | 'page.create' | 'page.edit' | 'page.delete'
  | 'files.delete' | 'files.nsfw' | 'files.sfw' | 'files.expiry' | 'files.move' | 'album.delete';

export async function recordAdminAction(
  db: Kysely<Database>,
  who: AuditWho,
  action: AdminAuditAction,
  target?: string | null,
  detail?: string | null,
): Promise<void> {
  await insertAuditEntry(db, { actor: who.name, action, target: target ?? null, detail: detail ?? null, ip: who.ip ?? null });
}

/** The console's name in the log: `cli:<os user>`, as the CLI moderation commands write it. */
export function cliAuditName(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}
