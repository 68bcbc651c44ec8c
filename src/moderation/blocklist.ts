import type { Kysely } from 'kysely';
import { errors, type ShoeboxError } from '../core/errors.js';
import { blocklistEntriesAfter, deleteBlocklistEntry, insertBlocklistEntries } from '../db/repositories/moderation.js';
import type { BlocklistRow } from '../db/moderation-schema.js';
import type { Database } from '../db/schema.js';
import { isPerceptualHash } from '../media/perceptual-hash.js';
import { HashIndex } from './hash-index.js';

/**
 * The takedown blocklist: md5s and perceptual hashes of removed files. Every instance keeps
 * the whole list in memory (an md5 map and a multi-index of the hashes, hash-index.ts) and
 * picks up entries other instances (or the CLI) added with one indexed query (`id > last seen`)
 * before every check, so no upload slips past a takedown committed before it; a full reload
 * every RELOAD_MS (looked at every SYNC_MS) drops entries deleted elsewhere.
 */

const SYNC_MS = 2000;
const RELOAD_MS = 60_000;

export interface BlocklistHit {
  entryId: number;
  reason: string;
  /** 'md5' for the same bytes, 'phash' for the same picture. */
  by: 'md5' | 'phash';
  distance: number;
}

export interface BlocklistEntryInput {
  md5: string | null;
  phash: string | null;
  reason: string;
  createdAt?: string;
}

/** The JSON a site exports and another imports. */
export interface BlocklistExport {
  format: 'shoebox-blocklist';
  version: 1;
  entries: { md5: string | null; phash: string | null; reason: string; created_at: string }[];
}

export function blockedError(hit: BlocklistHit): ShoeboxError {
  return errors.blocklisted(hit.reason);
}

export class Blocklist {
  private index: HashIndex;
  private md5s = new Map<string, number>();
  private reasons = new Map<number, string>();
  private lastId = 0;
  private syncedAt = 0;
  private reloadedAt = 0;
  private syncing: Promise<void> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    readonly maxDistance: number,
  ) {
    this.index = new HashIndex(maxDistance);
  }

  get size(): number {
    return this.reasons.size;
  }

  /** Adds rows already read from the database (also used by the bench to fill the index). */
  load(rows: Pick<BlocklistRow, 'id' | 'md5' | 'phash' | 'reason'>[]): void {
    for (const row of rows) {
      // (Two catch-ups running at once may both read a new row: it is taken once.)
      if (this.reasons.has(row.id)) continue;
      this.reasons.set(row.id, row.reason);
      if (row.md5) this.md5s.set(row.md5, row.id);
      if (row.phash && isPerceptualHash(row.phash)) this.index.add(row.id, row.phash);
      if (row.id > this.lastId) this.lastId = row.id;
    }
  }

  private async pull(): Promise<void> {
    if (Date.now() - this.reloadedAt > RELOAD_MS) {
      this.index = new HashIndex(this.maxDistance);
      this.md5s = new Map();
      this.reasons = new Map();
      this.lastId = 0;
      this.reloadedAt = Date.now();
    }
    await this.catchUp();
    this.syncedAt = Date.now();
  }

  /** Brings the in-memory copy up to date (now, or only when it is older than SYNC_MS). */
  async sync(force = false): Promise<void> {
    if (!force && Date.now() - this.syncedAt < SYNC_MS) return;
    this.syncing ??= this.pull().finally(() => (this.syncing = null));
    await this.syncing;
  }

  /** In-memory lookup, no I/O: the same bytes, or a picture within maxDistance bits. */
  lookup(md5s: (string | null)[], phash: string | null): BlocklistHit | null {
    for (const md5 of md5s) {
      const id = md5 ? this.md5s.get(md5) : undefined;
      if (id !== undefined) return { entryId: id, reason: this.reasons.get(id) ?? '', by: 'md5', distance: 0 };
    }
    if (phash && isPerceptualHash(phash)) {
      const match = this.index.nearest(phash);
      if (match) return { entryId: match.id, reason: this.reasons.get(match.id) ?? '', by: 'phash', distance: match.distance };
    }
    return null;
  }

  /**
   * Takes in every entry added since the last one known (one read along the primary key, empty
   * almost always), so an upload is checked against every takedown committed before it, made
   * by this instance, another one or the CLI. The periodic sync also notices removals.
   */
  private async catchUp(): Promise<void> {
    for (;;) {
      const rows = await blocklistEntriesAfter(this.db, this.lastId);
      this.load(rows);
      if (rows.length < 10_000) break;
    }
  }

  async check(md5s: (string | null)[], phash: string | null): Promise<BlocklistHit | null> {
    await this.sync();
    await this.catchUp();
    return this.lookup(md5s, phash);
  }

  async add(entries: BlocklistEntryInput[], by: string | null): Promise<number> {
    const clean = entries.filter((e) => e.md5 || e.phash).map((e) => ({ ...e, createdBy: by }));
    const n = await insertBlocklistEntries(this.db, clean);
    await this.sync(true);
    return n;
  }

  async remove(id: number): Promise<boolean> {
    const removed = await deleteBlocklistEntry(this.db, id);
    this.reloadedAt = 0;
    await this.sync(true);
    return removed;
  }

  async exportAll(): Promise<BlocklistExport> {
    const entries: BlocklistExport['entries'] = [];
    let after = 0;
    for (;;) {
      const rows = await blocklistEntriesAfter(this.db, after);
      for (const row of rows) entries.push({ md5: row.md5, phash: row.phash, reason: row.reason, created_at: row.created_at });
      if (rows.length < 10_000) break;
      after = rows[rows.length - 1].id;
    }
    return { format: 'shoebox-blocklist', version: 1, entries };
  }

  /** Imports another site's export; entries already on this list (same md5 and hash) are skipped. */
  async importJson(data: unknown, by: string | null): Promise<{ added: number; skipped: number }> {
    const parsed = parseBlocklistExport(data);
    await this.sync(true);
    const fresh = parsed.entries.filter((e) => {
      const sameMd5 = e.md5 ? this.md5s.has(e.md5) : true;
      const samePicture = e.phash ? this.index.nearest(e.phash)?.distance === 0 : true;
      return !(sameMd5 && samePicture);
    });
    const added = await this.add(fresh.map((e) => ({ md5: e.md5, phash: e.phash, reason: e.reason, createdAt: e.created_at || undefined })), by);
    return { added, skipped: parsed.entries.length - added };
  }
}

const MD5 = /^[0-9a-f]{32}$/;
const DATE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

export function parseBlocklistExport(data: unknown): BlocklistExport {
  const fail = (why: string) => errors.notABlocklist(why);
  if (!data || typeof data !== 'object') throw fail('expected a JSON object');
  const object = data as Record<string, unknown>;
  if (object.format !== 'shoebox-blocklist' || object.version !== 1) throw fail('expected "format": "shoebox-blocklist", "version": 1');
  if (!Array.isArray(object.entries)) throw fail('"entries" must be a list');
  const entries = object.entries.map((raw, i) => {
    const e = (raw ?? {}) as Record<string, unknown>;
    const md5 = e.md5 === null || e.md5 === undefined ? null : String(e.md5).toLowerCase();
    const phash = e.phash === null || e.phash === undefined ? null : String(e.phash).toLowerCase();
    if (md5 !== null && !MD5.test(md5)) throw fail(`entry ${i + 1}: md5 must be 32 hex digits`);
    if (phash !== null && !isPerceptualHash(phash)) throw fail(`entry ${i + 1}: phash must be 16 hex digits`);
    if (md5 === null && phash === null) throw fail(`entry ${i + 1}: needs an md5 or a phash`);
    const reason = typeof e.reason === 'string' && e.reason.trim() ? e.reason.trim().slice(0, 500) : 'imported';
    const created = typeof e.created_at === 'string' && DATE.test(e.created_at) ? e.created_at : undefined;
    return { md5, phash, reason, created_at: created ?? '' };
  });
  return { format: 'shoebox-blocklist', version: 1, entries };
}
