import type { Generated, Insertable, Selectable, Updateable } from 'kysely';

/** Table types. Booleans are 0/1 integers and dates `YYYY-MM-DD HH:MM:SS` UTC text on both SQLite and PostgreSQL. */

export interface VariablesTable {
  name: string;
  value: string;
}

export interface UsersTable {
  id: Generated<number>;
  username: string;
  email: string | null;
  password_hash: string;
  is_admin: number;
  language: string | null;
  timezone: string | null;
  created_at: string;
  /** Web preference: show NSFW thumbnails unblurred (0002_web). */
  show_nsfw: Generated<number>;
  /** Profile fields and status a Chevereto import brings (0005_chevereto_import). */
  display_name: string | null;
  bio: string | null;
  website: string | null;
  is_private: Generated<number>;
  status: Generated<string>;
  /** `admin`, `manager` or `user` (0006_admin; src/core/roles.ts says what each may do). `is_admin` is kept equal to role = admin. */
  role: Generated<string>;
  /** When an admin disabled the account (it cannot sign in, its key stops), else null (0006_admin). */
  disabled_at: Generated<string | null>;
  signup_ip: Generated<string | null>;
  /** Profile picture (0007_accounts): storage key of the avatar (`avatars/...`), or null. */
  avatar_key: Generated<string | null>;
  /** 1 while a web sign-up waits for its emailed link (SHOEBOX_EMAIL_VERIFICATION=required). */
  email_unverified: Generated<number>;
  /** Two-factor sign-in (0007_accounts): base32 TOTP secret, on/off, last accepted 30 s step. */
  totp_secret: Generated<string | null>;
  totp_enabled: Generated<number>;
  totp_last_step: Generated<number>;
}

export interface ApiKeysTable {
  id: Generated<number>;
  user_id: number;
  key_hash: string;
  key_hint: string;
  created_at: string;
  last_used_at: string | null;
  /** 0009_management_api. */
  last_used_ip?: string | null;
}

/** A user's named key with scopes (0009_management_api); the plain key is never stored. */
export interface NamedApiKeysTable {
  id: Generated<number>;
  user_id: number;
  label: string;
  key_hash: string;
  key_hint: string;
  /** Comma list of scopes: upload, read, write, delete, admin. */
  scopes: string;
  expires_at: string | null;
  created_at: string;
  last_used_at: string | null;
  last_used_ip: string | null;
}

/** A URL told about changes (0009_management_api); `user_id` null: site-wide, every user's changes. */
export interface WebhooksTable {
  id: Generated<number>;
  user_id: number | null;
  created_by: number | null;
  url: string;
  /** Comma list of event names. */
  events: string;
  secret: string;
  created_at: string;
}

/** One event for one hook; `state` pending, delivered or failed (0009_management_api). */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  webhook_id: number;
  event: string;
  payload: string;
  state: string;
  attempts: number;
  next_attempt_at: string;
  give_up_at: string;
  claimed_by: string | null;
  claimed_until: string | null;
  last_status: number | null;
  last_response: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface AlbumsTable {
  id: Generated<number>;
  user_id: number;
  parent_id: number | null;
  name: string;
  description: string | null;
  privacy: string;
  password_hash: string | null;
  cover_image_id: number | null;
  created_at: string;
  /** 1 when this album and every album above it are public: it may be listed, and so may its files (0004_search_privacy). */
  listed: Generated<number>;
}

export interface ImagesTable {
  id: Generated<number>;
  user_id: number | null;
  album_id: number | null;
  category_id: number | null;
  /** Date folder, e.g. `2024/10/10`; object keys are `images/<folder>/<name>.<ext>`. */
  folder: string;
  name: string;
  extension: string;
  mime: string;
  type: string;
  size: number;
  width: number;
  height: number;
  md5: string;
  source_md5: string | null;
  title: string | null;
  description: string | null;
  nsfw: number;
  original_filename: string;
  exifdata: string | null;
  chain: number;
  thumb_size: number;
  medium_size: number;
  frame_size: number;
  /** Extension of thumb and medium files (`jpeg` for videos, else the image's). */
  derivative_extension: string;
  is_animated: number;
  is_approved: number;
  is_360: number;
  duration: number;
  views: number;
  likes: number;
  uploader_ip: string | null;
  date_gmt: string;
  expires_at: string | null;
  delete_hash: string;
  /** 1 when the file may appear in public listings: not in a private, unlisted or password album (0002_web). */
  listed: Generated<number>;
  /** 64-bit perceptual hash as 16 hex digits, of the picture or a video's frame (0008_moderation). */
  phash: string | null;
  /** Local date Chevereto showed (its date folder follows it); bcrypt of an old delete link's secret (0005_chevereto_import). */
  date_local: string | null;
  legacy_delete_hash: string | null;
}

export interface TagsTable {
  id: Generated<number>;
  name: string;
  /**
   * How many files with `listed = 1` carry the tag, kept by triggers on image_tags and images
   * (0019_tag_use_counts): never written by code. Expired files count until the sweep deletes them.
   */
  uses: Generated<number>;
}

export interface ImageTagsTable {
  image_id: number;
  tag_id: number;
}

/** One row per stored name in a date folder: claimed before any byte is written so two uploads never share a file. */
export interface FileNamesTable {
  folder: string;
  name: string;
  claimed_at: string;
}

/** A signed-in browser (0002_web). Only the sha256 of the cookie's token is stored. */
export interface SessionsTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  ip: string | null;
  user_agent: string | null;
}

/** Sign-up invites for SHOEBOX_SIGNUP=invite (0002_web). Only the sha256 of the code is stored. */
export interface InvitesTable {
  id: Generated<number>;
  code_hash: string;
  created_by: number | null;
  created_at: string;
  used_by: number | null;
  used_at: string | null;
}

/** One row per periodic cluster-wide job; claimed with a conditional UPDATE (0003_scale_out). */
export interface JobRunsTable {
  name: string;
  next_run_at: string;
  holder: string | null;
  started_at: string | null;
  finished_at: string | null;
}

/** Old Chevereto API keys, bcrypt as stored there, by the encoded id in `chv_<id>_<secret>` (0005_chevereto_import). */
export interface LegacyApiKeysTable {
  public_id: string;
  user_id: number;
  key_hash: string;
  created_at: string;
}

export interface CategoriesTable {
  id: number;
  name: string;
  url_key: string;
  description: string | null;
}

/** Ids deleted on the old site: never handed out again (0005_chevereto_import). */
export interface DeletedIdsTable {
  kind: string;
  id: number;
  deleted_at: string;
  md5: string | null;
  original_filename: string | null;
}

/** One row per row a Chevereto import wrote, in the same transaction (0005_chevereto_import). */
export interface CheveretoImportedTable {
  kind: string;
  id: number;
}

/** A setting changed in the dashboard, as the text its environment variable would hold (0006_admin). */
export interface SiteSettingsTable {
  name: string;
  value: string;
  updated_at: string;
}

/** The logo and favicon uploaded in the dashboard, base64 (0006_admin). */
export interface SiteAssetsTable {
  name: string;
  mime: string;
  data: string;
  updated_at: string;
}

/** Markdown pages written by admins: Terms, Privacy, About... (0006_admin). */
export interface SitePagesTable {
  id: Generated<number>;
  slug: string;
  title: string;
  body: string;
  in_footer: number;
  position: number;
  created_at: string;
  updated_at: string;
}

/** Single-use emailed links and pending two-factor sign-ins (0007_accounts); sha256 of the token only. */
export interface AccountTokensTable {
  id: Generated<number>;
  token_hash: string;
  user_id: number;
  purpose: string;
  /** The address a verify/change link is for. */
  email: string | null;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

/** Two-factor recovery codes (0007_accounts): sha256 only, each used once. */
export interface RecoveryCodesTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  used_at: string | null;
}

/** What tus knows of an unfinished resumable upload kept in the bucket (0013_resumable_shared). */
export interface ResumableUploadsTable {
  id: string;
  /** tus' metadata value as JSON: the upload (size, metadata, creation date) and the S3 multipart upload id. */
  info: string;
  /** ISO 8601, from tus. */
  created_at: string;
}

/** A lease on one resumable upload: who writes to it, until when (epoch ms), and whether another request waits for it. */
export interface ResumableLocksTable {
  id: string;
  holder: string;
  expires_at: number | string;
  release_requested: Generated<number>;
}

/** The answer of a finished resumable upload; `status` is null while `holder` is ingesting it. */
export interface ResumableResultsTable {
  id: string;
  owner: string;
  holder: string | null;
  claimed_at: number | string;
  status: number | null;
  body: string | null;
  finished_at: number | string | null;
}

export * from './moderation-schema.js';
import type { ModerationTables } from './moderation-schema.js';

export interface Database extends ModerationTables {
  variables: VariablesTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  albums: AlbumsTable;
  images: ImagesTable;
  tags: TagsTable;
  image_tags: ImageTagsTable;
  /** Pairs of adjacent CJK characters of titles, for two-character search (0011_site_browse). */
  cjk_title_grams: { gram: string; image_id: number };
  /** PostgreSQL only: every three-character run of every lower-cased title, walked newest first by title search (0020_title_grams). */
  title_grams: { gram: string; image_id: number };
  file_names: FileNamesTable;
  sessions: SessionsTable;
  invites: InvitesTable;
  job_runs: JobRunsTable;
  legacy_api_keys: LegacyApiKeysTable;
  categories: CategoriesTable;
  deleted_ids: DeletedIdsTable;
  chevereto_imported: CheveretoImportedTable;
  site_settings: SiteSettingsTable;
  site_assets: SiteAssetsTable;
  site_pages: SitePagesTable;
  account_tokens: AccountTokensTable;
  recovery_codes: RecoveryCodesTable;
  resumable_uploads: ResumableUploadsTable;
  resumable_locks: ResumableLocksTable;
  resumable_results: ResumableResultsTable;
  named_api_keys: NamedApiKeysTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
}

export type ImageRow = Selectable<ImagesTable>;
export type NewImageRow = Insertable<ImagesTable>;
export type ImageUpdate = Updateable<ImagesTable>;
export type UserRow = Selectable<UsersTable>;
export type AlbumRow = Selectable<AlbumsTable>;
export type SessionRow = Selectable<SessionsTable>;
export type SitePageRow = Selectable<SitePagesTable>;
export type NamedApiKeyRow = Selectable<NamedApiKeysTable>;
export type WebhookRow = Selectable<WebhooksTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
