import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import { can, roleOf } from '../core/roles.js';
import { insertModerationFlag } from '../db/repositories/moderation.js';
import type { Database, UserRow } from '../db/schema.js';
import type { HitCounter } from '../shared-state/hit-counter.js';
import { blockedError, Blocklist } from './blocklist.js';
import { checkFlood, type FloodLimits } from './flood.js';
import { IpBanList } from './ip-bans.js';
import { StopWords, stopWordRefused, type StopWordVerdict } from './stop-words.js';
import { errors } from '../core/errors.js';

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

/**
 * Who stop words never apply to: admins, as flood limits exempt them (flood.ts), and the
 * operator at the shell (the CLI). Managers are checked like everyone else.
 */
export function isStopWordExempt(actor: { role?: string | null; is_admin?: number } | null | 'operator'): boolean {
  if (actor === 'operator') return true;
  return Boolean(actor?.is_admin) || roleOf(actor) === 'admin';
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

  /**
   * The stop-word check the edit services (library/) call for every door: `actor` is who makes
   * the change (a user, null for a guest, 'operator' for the CLI); admins and the operator are
   * exempt (isStopWordExempt). A refused field throws `errors.stopWord(field)`.
   */
  screenFor(actor: { role?: string | null; is_admin?: number } | null | 'operator'): { check(fields: Record<string, (string | null | undefined)[]>, options?: { holdable?: boolean; anywhere?: boolean }): Promise<{ hold: boolean }> } {
    const exempt = isStopWordExempt(actor);
    return {
      check: async (fields, options = {}) => {
        if (exempt) return { hold: false };
        let hold = false;
        for (const [field, texts] of Object.entries(fields)) {
          const verdict: StopWordVerdict | null = await this.stopWords.verdict(texts, { anywhere: options.anywhere });
          if (!verdict) continue;
          if (verdict.action === 'refuse' || options.holdable === false) throw errors.stopWord(field);
          hold = true;
        }
        return { hold };
      },
    };
  }

  /**
   * A new account's username (sign-up, the management API's admin/users): any listed word
   * refuses, whoever creates the account — the name is the new person's, shown everywhere,
   * so the admins' exemption does not carry over to it. The CLI (`shoebox user create`) does not ask.
   * A username has no spaces, so a word matches anywhere in it ("viagrakid").
   */
  async checkUsername(username: string): Promise<void> {
    await this.screenFor(null).check({ username: [username] }, { holdable: false, anywhere: true });
  }

  async beforeBytes(uploader: UploadSubject, texts: (string | null | undefined)[], options: { countFlood?: boolean } = {}): Promise<{ hold: boolean }> {
    await this.bans.assertNotBanned(uploader.ip);
    const verdict = isStopWordExempt(uploader.user) ? null : await this.stopWords.verdict(texts);
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
