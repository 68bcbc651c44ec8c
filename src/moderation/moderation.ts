import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import { can, roleOf } from '../core/roles.js';
import { insertModerationFlag } from '../db/repositories/moderation.js';
import type { Database, UserRow } from '../db/schema.js';
import type { HitCounter } from '../shared-state/hit-counter.js';
import { blockedError, Blocklist } from './blocklist.js';
import { checkFlood, type FloodLimits } from './flood.js';
import { IpBanList } from './ip-bans.js';
import { StopWords, stopWordRefused } from './stop-words.js';

/**
 * What the ingest pipeline asks moderation, and nothing more (a narrow interface, so the
 * pipeline does not depend on how bans, limits, words and the blocklist are kept).
 */
export interface UploadModeration {
  /**
   * Before any byte is read: the address is not banned, the flood limits hold (and this upload
   * is counted), no stop word refuses the texts. Says whether the upload must wait for approval.
   */
  beforeBytes(uploader: UploadSubject, texts: (string | null | undefined)[], options?: { countFlood?: boolean }): Promise<{ hold: boolean }>;
  /** Once the file is decoded: refuses a file on the takedown blocklist (same md5, or the same picture). */
  checkFile(uploader: UploadSubject, md5s: (string | null)[], phash: string | null): Promise<void>;
}

export interface UploadSubject {
  user: (Pick<UserRow, 'id' | 'is_admin'> & { role?: string | null }) | null;
  ip: string;
}

export type ModerationSettings = Pick<
  Settings,
  | 'moderation'
  | 'floodUploadsPerMinute'
  | 'floodUploadsPerHour'
  | 'floodUploadsPerDay'
  | 'floodUploadsPerWeek'
  | 'floodUploadsPerMonth'
  | 'blocklistDistance'
  | 'blocklistFlagUploader'
>;

export function floodLimitsOf(settings: ModerationSettings): FloodLimits {
  return {
    minute: settings.floodUploadsPerMinute,
    hour: settings.floodUploadsPerHour,
    day: settings.floodUploadsPerDay,
    week: settings.floodUploadsPerWeek,
    month: settings.floodUploadsPerMonth,
  };
}

/** Who may see and act on files waiting for approval and on reports: admins and managers (core/roles.ts). */
export function isModerator(user: { role?: string | null; is_admin?: number } | null | undefined): boolean {
  return can(roleOf(user), 'moderation.queue');
}

/** Who may read the audit log: admins. */
export function mayReadAudit(user: { role?: string | null; is_admin?: number } | null | undefined): boolean {
  return can(roleOf(user), 'moderation.audit');
}

/** The site's moderation state: one per running site (server, CLI), built in context.ts. */
export class Moderation implements UploadModeration {
  readonly bans: IpBanList;
  readonly blocklist: Blocklist;
  readonly stopWords: StopWords;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly hits: HitCounter,
    private readonly settings: ModerationSettings,
  ) {
    this.bans = new IpBanList(db);
    this.blocklist = new Blocklist(db, settings.blocklistDistance);
    this.stopWords = new StopWords(db);
  }

  /** Which uploads wait for approval (SHOEBOX_MODERATION); moderators' never do. */
  needsApproval(uploader: UploadSubject): boolean {
    if (isModerator(uploader.user)) return false;
    if (this.settings.moderation === 'everyone') return true;
    return this.settings.moderation === 'guests' && uploader.user === null;
  }

  async beforeBytes(uploader: UploadSubject, texts: (string | null | undefined)[], options: { countFlood?: boolean } = {}): Promise<{ hold: boolean }> {
    await this.bans.assertNotBanned(uploader.ip);
    const verdict = await this.stopWords.verdict(texts);
    if (verdict?.action === 'refuse') throw stopWordRefused();
    // A resumable upload was counted when it was created (web/uploader/resumable.ts).
    if (options.countFlood !== false) await this.checkFlood(uploader, true);
    return { hold: this.needsApproval(uploader) || verdict?.action === 'hold' };
  }

  /** Flood limits alone: counts this upload (`count: true`), or only looks whether one more would pass. */
  async checkFlood(uploader: UploadSubject, count: boolean): Promise<void> {
    await checkFlood(this.hits, floodLimitsOf(this.settings), { userId: uploader.user?.id ?? null, isAdmin: Boolean(uploader.user?.is_admin), ip: uploader.ip }, { count });
  }

  async checkFile(uploader: UploadSubject, md5s: (string | null)[], phash: string | null): Promise<void> {
    const hit = await this.blocklist.check(md5s, phash);
    if (!hit) return;
    if (this.settings.blocklistFlagUploader) {
      await insertModerationFlag(this.db, {
        userId: uploader.user?.id ?? null,
        ip: uploader.ip,
        reason: `uploaded a taken-down file again (blocklist entry ${hit.entryId}, by ${hit.by}${hit.by === 'phash' ? `, ${hit.distance} bits apart` : ''})`,
      }).catch(() => undefined);
    }
    throw blockedError(hit);
  }
}
