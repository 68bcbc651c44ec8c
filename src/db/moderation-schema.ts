import type { Generated, Selectable } from 'kysely';

/** Tables of moderation (0008_moderation). Dates are `YYYY-MM-DD HH:MM:SS` UTC text. */

/** An address or range that may not write to the site. `range` is a normalized CIDR (an address is /32 or /128). */
export interface IpBansTable {
  id: Generated<number>;
  range: string;
  message: string | null;
  expires_at: string | null;
  created_at: string;
  created_by: string | null;
}

/** Files taken down: a later upload with the same md5, or a perceptual hash close to `phash`, is refused. */
export interface BlocklistTable {
  id: Generated<number>;
  md5: string | null;
  phash: string | null;
  reason: string;
  created_at: string;
  created_by: string | null;
}

/** A word refused (`refuse`) or sent to the approval queue (`hold`) in titles, descriptions, tags, album names and usernames. */
export interface StopWordsTable {
  id: Generated<number>;
  word: string;
  action: string;
  created_at: string;
}

/** An uploader marked for a moderator's attention (e.g. tried to upload a blocklisted file). */
export interface ModerationFlagsTable {
  id: Generated<number>;
  user_id: number | null;
  ip: string | null;
  reason: string;
  created_at: string;
}

export interface ReportsTable {
  id: Generated<number>;
  image_id: number | null;
  album_id: number | null;
  reason: string;
  note: string | null;
  reporter_id: number | null;
  reporter_ip: string | null;
  created_at: string;
  resolved_at: string | null;
}

/** Every moderator and admin action: who (`actor`), what, on what, from where, when. */
export interface AuditLogTable {
  id: Generated<number>;
  actor: string;
  action: string;
  target: string | null;
  detail: string | null;
  ip: string | null;
  created_at: string;
}

export interface ModerationTables {
  ip_bans: IpBansTable;
  blocklist: BlocklistTable;
  stop_words: StopWordsTable;
  moderation_flags: ModerationFlagsTable;
  reports: ReportsTable;
  audit_log: AuditLogTable;
}

export type IpBanRow = Selectable<IpBansTable>;
export type BlocklistRow = Selectable<BlocklistTable>;
export type StopWordRow = Selectable<StopWordsTable>;
export type ReportRow = Selectable<ReportsTable>;
export type AuditRow = Selectable<AuditLogTable>;
