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
}

export interface ApiKeysTable {
  id: Generated<number>;
  user_id: number;
  key_hash: string;
  key_hint: string;
  created_at: string;
  last_used_at: string | null;
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
}

export interface TagsTable {
  id: Generated<number>;
  name: string;
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

export interface Database {
  variables: VariablesTable;
  users: UsersTable;
  api_keys: ApiKeysTable;
  albums: AlbumsTable;
  images: ImagesTable;
  tags: TagsTable;
  image_tags: ImageTagsTable;
  file_names: FileNamesTable;
  sessions: SessionsTable;
  invites: InvitesTable;
  job_runs: JobRunsTable;
  resumable_uploads: ResumableUploadsTable;
  resumable_locks: ResumableLocksTable;
  resumable_results: ResumableResultsTable;
}

export type ImageRow = Selectable<ImagesTable>;
export type NewImageRow = Insertable<ImagesTable>;
export type ImageUpdate = Updateable<ImagesTable>;
export type UserRow = Selectable<UsersTable>;
export type AlbumRow = Selectable<AlbumsTable>;
export type SessionRow = Selectable<SessionsTable>;
