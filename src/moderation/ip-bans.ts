import type { Kysely } from 'kysely';
import { errors, type ShoeboxError } from '../core/errors.js';
import { deleteIpBan, insertIpBan, listActiveIpBans, updateIpBan } from '../db/repositories/moderation.js';
import type { IpBanRow } from '../db/moderation-schema.js';
import type { Database } from '../db/schema.js';
import { parseAddress, parseRange, rangeContains, type IpRange } from './ip-ranges.js';

/** How long an instance trusts its copy of the ban list before reading it again (bans made by other instances or the CLI). */
export const BAN_REFRESH_MS = 2000;

export interface ActiveBan {
  range: IpRange;
  message: string | null;
  /** Milliseconds since the epoch, or null for a ban without end. */
  expiresAt: number | null;
}

/** The 403 a banned client gets, in the API's error envelope. */
export function bannedError(ban: Pick<ActiveBan, 'message'>): ShoeboxError {
  return errors.banned(ban.message);
}

/**
 * The site's IP bans, kept in memory and read again from the database at most every
 * BAN_REFRESH_MS, so checking a request costs no query. Expiry is checked on every lookup.
 */
export class IpBanList {
  private bans: ActiveBan[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(private readonly db: Kysely<Database>) {}

  async refresh(): Promise<void> {
    const rows = await listActiveIpBans(this.db);
    this.bans = rows.map(toActive);
    this.loadedAt = Date.now();
  }

  private async current(): Promise<ActiveBan[]> {
    if (Date.now() - this.loadedAt > BAN_REFRESH_MS) {
      this.loading ??= this.refresh().finally(() => (this.loading = null));
      await this.loading;
    }
    return this.bans;
  }

  /** The ban covering this address, or null. An unparseable address is never banned. */
  async banOf(addressText: string): Promise<ActiveBan | null> {
    const bans = await this.current();
    if (bans.length === 0) return null;
    const address = parseAddress(addressText);
    if (!address) return null;
    const now = Date.now();
    return bans.find((ban) => (ban.expiresAt === null || ban.expiresAt > now) && rangeContains(ban.range, address)) ?? null;
  }

  /** Throws the 403 when the address is banned. */
  async assertNotBanned(addressText: string): Promise<void> {
    const ban = await this.banOf(addressText);
    if (ban) throw bannedError(ban);
  }

  async add(rangeText: string, options: { expiresAt?: Date | null; message?: string | null; by?: string | null } = {}): Promise<IpBanRow> {
    const range = parseRange(rangeText);
    const row = await insertIpBan(this.db, { range: range.text, message: options.message?.trim() || null, expiresAt: options.expiresAt ?? null, createdBy: options.by ?? null });
    await this.refresh();
    return row;
  }

  /** Changes an existing ban's message or end (null: no end); null when the range is not banned. */
  async update(rangeText: string, changes: { message?: string | null; expiresAt?: Date | null }): Promise<IpBanRow | null> {
    const message = changes.message === undefined ? undefined : changes.message?.trim() || null;
    const row = await updateIpBan(this.db, parseRange(rangeText).text, { message, expiresAt: changes.expiresAt });
    await this.refresh();
    return row ?? null;
  }

  async remove(rangeText: string): Promise<boolean> {
    const removed = await deleteIpBan(this.db, parseRange(rangeText).text);
    await this.refresh();
    return removed;
  }

  async list(): Promise<IpBanRow[]> {
    return listActiveIpBans(this.db);
  }
}

function toActive(row: IpBanRow): ActiveBan {
  return {
    range: parseRange(row.range),
    message: row.message,
    expiresAt: row.expires_at ? Date.parse(`${row.expires_at.replace(' ', 'T')}Z`) : null,
  };
}

const durationUnits: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800, mo: 2592000, y: 31536000 };

/** `30m`, `12h`, `7d`, `2w`, `3mo`, `1y` (or a plain number of seconds) → seconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+)\s*(s|m|h|d|w|mo|y)?\s*$/i.exec(text);
  if (!match || Number(match[1]) <= 0) throw errors.badParameter('duration', `"${text}" is not a duration like 30m, 12h, 7d, 2w, 3mo or 1y`);
  return Number(match[1]) * durationUnits[(match[2] ?? 's').toLowerCase()];
}
