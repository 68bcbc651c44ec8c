import type { Kysely } from 'kysely';
import { imagesWithIpPrefix, insertAuditEntry } from '../db/repositories/moderation.js';
import { imagesOfUser } from '../db/repositories/user-removal.js';
import type { Database, ImageRow } from '../db/schema.js';
import type { Blocklist } from './blocklist.js';
import { addressInRange, parseRange } from './ip-ranges.js';

/**
 * Removing files as a moderator: the file's md5s and perceptual hash go on the blocklist with
 * the reason (so the same file or picture is refused later), the file goes through the one
 * removal path (`removeImage` in ingest/remove-image.ts, handed in by the caller: this layer
 * sits below ingest), and the action is written to the audit log.
 */

export interface TakedownServices {
  db: Kysely<Database>;
  blocklist: Blocklist;
  removeImage(image: ImageRow): Promise<boolean>;
}

/** Who acts and from where, for the audit log. */
export interface Actor {
  name: string;
  ip: string | null;
}

export function blocklistEntriesOf(image: Pick<ImageRow, 'md5' | 'source_md5' | 'phash'>, reason: string) {
  const entries = [{ md5: image.md5, phash: image.phash, reason }];
  if (image.source_md5 && image.source_md5 !== image.md5) entries.push({ md5: image.source_md5, phash: image.phash, reason });
  return entries;
}

export async function takeDown(
  services: TakedownServices,
  images: ImageRow[],
  options: { reason: string; actor: Actor; action?: string; blocklist?: boolean },
): Promise<number> {
  if (options.blocklist !== false && images.length > 0) {
    await services.blocklist.add(images.flatMap((image) => blocklistEntriesOf(image, options.reason)), options.actor.name);
  }
  let removed = 0;
  for (const image of images) {
    if (await services.removeImage(image)) removed++;
  }
  await insertAuditEntry(services.db, {
    actor: options.actor.name,
    action: options.action ?? 'remove',
    target: images.length === 1 ? `image:${images[0].id}` : `${images.length} images`,
    detail: options.reason,
    ip: options.actor.ip,
  });
  return removed;
}

export type PurgeTarget = { userId: number; since: string | null } | { range: string; since: string | null };

/**
 * Everything uploaded by a user, or from an address or range, optionally since a date. Ranges
 * are narrowed in SQL by the address text their fixed part starts with, then checked exactly.
 */
export async function findPurgeTargets(db: Kysely<Database>, target: PurgeTarget): Promise<ImageRow[]> {
  if ('userId' in target) return imagesOfUser(db, target.userId, { since: target.since });
  const range = parseRange(target.range);
  const prefix = textPrefixOf(range.text, range.bits, range.address.kind());
  // An IPv4 client of a dual-stack listener is recorded as ::ffff:a.b.c.d.
  const rows = await imagesWithIpPrefix(db, prefix ? [prefix, `::ffff:${prefix}`] : [], target.since);
  return rows.filter((row) => addressInRange(range.text, row.uploader_ip));
}

/** The leading characters every address in the range is written with (IPv4: whole octets fixed by the prefix). */
function textPrefixOf(rangeText: string, bits: number, kind: string): string {
  if (kind !== 'ipv4') return '';
  const octets = rangeText.split('/')[0].split('.');
  const fixed = Math.floor(bits / 8);
  if (fixed === 4) return octets.join('.');
  return fixed === 0 ? '' : `${octets.slice(0, fixed).join('.')}.`;
}
