import type { Kysely } from 'kysely';
import { formatUtc } from '../core/dates.js';
import { errors } from '../core/errors.js';
import { insertAuditEntry } from '../db/repositories/moderation.js';
import type { IpBanRow } from '../db/moderation-schema.js';
import type { Database, ImageRow } from '../db/schema.js';
import type { Blocklist } from './blocklist.js';
import { parseDuration, type IpBanList } from './ip-bans.js';
import type { StopWordAction, StopWords } from './stop-words.js';
import { findPurgeTargets, takeDown, type Actor, type PurgeTarget } from './takedown.js';

/**
 * The moderation actions of the dashboard (web/dashboard/moderation-routes.ts), each one call
 * that does the change and writes its audit entry, so no screen can forget the log. The CLI
 * (cli/moderation-commands.ts) does the same changes from the command line.
 */

export interface ModerationAdminServices {
  db: Kysely<Database>;
  bans: IpBanList;
  stopWords: StopWords;
  blocklist: Blocklist;
  removeImage(image: ImageRow): Promise<boolean>;
}

/** Bans an address or CIDR range; `expires` is a duration (30m, 12h, 7d, 2w, 3mo, 1y) or empty for no end. */
export async function addBan(services: ModerationAdminServices, input: { range: string; expires: string; message: string }, actor: Actor): Promise<IpBanRow> {
  const expiresAt = input.expires.trim() ? new Date(Date.now() + parseDuration(input.expires) * 1000) : null;
  const row = await services.bans.add(input.range, { expiresAt, message: input.message.slice(0, 500), by: actor.name });
  await insertAuditEntry(services.db, {
    actor: actor.name, action: 'ban.add', target: row.range, ip: actor.ip,
    detail: [row.message, row.expires_at && `until ${row.expires_at}`].filter(Boolean).join('; ') || null,
  });
  return row;
}

export async function removeBan(services: ModerationAdminServices, range: string, actor: Actor): Promise<boolean> {
  const removed = await services.bans.remove(range);
  if (removed) await insertAuditEntry(services.db, { actor: actor.name, action: 'ban.remove', target: range, ip: actor.ip });
  return removed;
}

/** Adds a stop word, or changes what an existing one does. */
export async function setStopWord(services: ModerationAdminServices, word: string, action: StopWordAction, actor: Actor): Promise<string> {
  const saved = await services.stopWords.add(word, action);
  await insertAuditEntry(services.db, { actor: actor.name, action: 'stopword.set', target: saved, detail: action, ip: actor.ip });
  return saved;
}

export async function removeStopWord(services: ModerationAdminServices, word: string, actor: Actor): Promise<boolean> {
  const removed = await services.stopWords.remove(word);
  if (removed) await insertAuditEntry(services.db, { actor: actor.name, action: 'stopword.remove', target: word, ip: actor.ip });
  return removed;
}

/** A purge's `since` (YYYY-MM-DD, or a date with a time) as the database's UTC text; empty: no limit. */
export function parsePurgeSince(text: string | undefined): string | null {
  if (!text?.trim()) return null;
  const date = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text.trim()) ? `${text.trim()}T00:00:00Z` : text.trim());
  if (Number.isNaN(date.getTime())) throw errors.badParameter('since', `"${text}" is not a date like 2026-12-01`);
  return formatUtc(date);
}

/** How many uploads a purge would remove (the count shown before it is confirmed). */
export async function countPurge(services: Pick<ModerationAdminServices, 'db'>, target: PurgeTarget): Promise<number> {
  return (await findPurgeTargets(services.db, target)).length;
}

/**
 * Removes everything a purge finds, each file on the blocklist, as one audited action. When the
 * purge now finds more than the `confirmed` count (uploads arrived since it was shown), it
 * removes nothing and answers the new count, to be confirmed again.
 */
export async function runPurge(
  services: ModerationAdminServices,
  target: PurgeTarget,
  options: { confirmed: number; label: string; reason?: string; blocklist?: boolean },
  actor: Actor,
): Promise<{ removed: number } | { changed: number }> {
  const images = await findPurgeTargets(services.db, target);
  if (images.length > options.confirmed) return { changed: images.length };
  const removed = await takeDown(services, images, {
    reason: options.reason?.trim() || `purge of ${options.label}`, actor, action: 'purge', blocklist: options.blocklist !== false,
  });
  return { removed };
}

export async function exportBlocklist(services: ModerationAdminServices, actor: Actor) {
  const data = await services.blocklist.exportAll();
  await insertAuditEntry(services.db, { actor: actor.name, action: 'blocklist.export', detail: `${data.entries.length} entries`, ip: actor.ip });
  return data;
}

/** Imports another site's export (JSON already parsed); throws `notABlocklist` for anything else. */
export async function importBlocklist(services: ModerationAdminServices, data: unknown, actor: Actor): Promise<{ added: number; skipped: number }> {
  const result = await services.blocklist.importJson(data, actor.name);
  await insertAuditEntry(services.db, { actor: actor.name, action: 'blocklist.import', detail: `${result.added} added, ${result.skipped} already listed`, ip: actor.ip });
  return result;
}
