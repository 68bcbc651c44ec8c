import { readFileSync } from 'node:fs';
import path from 'node:path';
import { accountSettingDefinitions, parseAccountSettings, type AccountSettings } from './account-settings.js';

/**
 * Every setting Shoebox reads, with its default. The table is the single source of truth:
 * the README lists the same names (a test checks that), and the CLI and the server both
 * call `loadSettings()` so they always agree.
 */

type Env = Record<string, string | undefined>;

export interface Settings extends AccountSettings {
  port: number;
  host: string;
  dataDir: string;
  baseUrl: string;
  /** Base for direct file URLs (a CDN or public bucket); defaults to baseUrl. */
  mediaBaseUrl: string;
  /** nginx internal location that sends local files for Shoebox (X-Accel-Redirect), or '' for off. */
  accelRedirect: string;
  databaseUrl: string;
  storage: 'local' | 's3';
  s3: {
    bucket: string;
    prefix: string;
    region: string;
    endpoint: string | undefined;
    forcePathStyle: boolean;
    accessKeyId: string | undefined;
    secretAccessKey: string | undefined;
    multipartThreshold: number;
  };
  redisUrl: string | undefined;
  /** Prefix of every Redis key, so several sites (or test runs) can share one Redis. */
  redisPrefix: string;
  trustProxy: boolean | string;
  logLevel: string;
  timezone: string;
  maxUploadBytes: number;
  maxPixels: number;
  acceptedExtensions: string[];
  thumbWidth: number;
  thumbHeight: number;
  mediumWidth: number;
  cryptSalt: string | undefined;
  idPadding: number | undefined;
  checksumFields: 'both' | 'md5' | 'checksum';
  guestApiUploads: boolean;
  urlUploads: boolean;
  allowPrivateUrls: boolean;
  urlFetchTimeoutMs: number;
  refuseDuplicates: boolean;
  maxExpirationSeconds: number;
  floodUploadsPerMinute: number;
  imageRoute: string;
  videoRoute: string;
  seoUrls: boolean;
  sweepIntervalSeconds: number;
  /** A temp work folder with no write for this long belongs to a crashed upload. */
  tempMaxAgeSeconds: number;
  metricsEnabled: boolean;
  /** When set, /metrics wants `Authorization: Bearer <token>`. */
  metricsToken: string | undefined;
  loaderThresholdBytes: number;
  ffmpegPath: string | undefined;
  ffprobePath: string | undefined;
  mediaTimeoutMs: number;
  maxVideoSeconds: number;
  maxAnimationFrames: number;
  heicOutput: 'jpeg' | 'avif';
  stripMetadata: 'none' | 'gps' | 'all';
  signup: 'open' | 'invite' | 'closed';
  guestWebUploads: boolean;
  guestApiKey: string | undefined;
  guestMaxUploadBytes: number;
  guestExpirationSeconds: number;
  chunkSizeBytes: number;
  resumableExpirySeconds: number;
  cookieSecure: boolean | 'auto';
  defaultLanguage: string;
  /** Rendered viewer pages kept for visitors without a session (0: no page cache). */
  pageCacheSize: number;
  /** Moderation (issue 17): which uploads wait for approval. */
  moderation: 'off' | 'guests' | 'everyone';
  /** Uploads per hour/day/week/month per user and per address (0: no limit); per minute is floodUploadsPerMinute. */
  floodUploadsPerHour: number;
  floodUploadsPerDay: number;
  floodUploadsPerWeek: number;
  floodUploadsPerMonth: number;
  /** Most differing bits (of 64) for a perceptual hash to count as the same picture as a blocklisted one. */
  blocklistDistance: number;
  /** Flag the uploader for review when a blocklisted file is refused. */
  blocklistFlagUploader: boolean;
  /** Reports one address may send per hour. */
  reportsPerHour: number;
  /** The site's name: page titles, oEmbed provider, the ShareX uploader. */
  siteName: string;
  siteDescription: string;
  /** Text (Markdown) above the home page's listing. */
  homeIntro: string;
  /** Languages offered by the site (a subset of SITE_LANGUAGE_CODES). */
  languages: string[];
  /** Visitors without a choice of their own see NSFW thumbnails unblurred. */
  showNsfwDefault: boolean;
  /** New uploads that do not say (no `nsfw` parameter) are marked NSFW: for nobody, guests, or everyone. */
  nsfwByDefault: 'off' | 'guests' | 'everyone';
  /** Largest body of the routes that take no file (forms, JSON); file routes use the upload size. */
  formBodyLimitBytes: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  minBodyBytesPerSecond: number;
  bodyRateWindowMs: number;
  maxConnectionsPerAddress: number;
  /** An upload's name claim not refreshed for this long, with no row, belongs to a dead process. */
  uploadClaimTimeoutSeconds: number;
  resumableMaxUnfinished: number;
  resumableMaxReservedBytes: number;
  resumableMaxUnfinishedPerAddress: number;
  resumableMaxReservedBytesPerAddress: number;
}

/** The web site's languages (web/i18n.ts has their names and catalogs). */
export const SITE_LANGUAGE_CODES = ['en', 'ko', 'zh-CN', 'nl', 'id', 'el'] as const;

export interface SettingDefinition {
  env: string;
  defaultText: string;
  description: string;
}

/** Documentation table, kept beside the parser so the two cannot drift apart silently. */
export const settingDefinitions: SettingDefinition[] = [
  { env: 'PORT', defaultText: '3000', description: 'TCP port the server listens on' },
  { env: 'HOST', defaultText: '0.0.0.0', description: 'Interface the server binds' },
  { env: 'SHOEBOX_DATA_DIR', defaultText: './data', description: 'Folder for the SQLite file, media files and temp files' },
  { env: 'SHOEBOX_BASE_URL', defaultText: 'http://localhost:$PORT', description: 'Public URL of the site; may carry a path (https://example.com/pics). Every URL Shoebox builds starts with it' },
  { env: 'SHOEBOX_ACCEL_REDIRECT', defaultText: '(off)', description: 'Behind nginx: an `internal` location such as /_shoebox_files that aliases the data dir; Shoebox checks each file request and nginx sends the bytes (docs/DEPLOY.md). Local storage only' },
  { env: 'SHOEBOX_MEDIA_BASE_URL', defaultText: '(SHOEBOX_BASE_URL)', description: 'Base URL for direct file links, e.g. a CDN or public bucket in front of the storage' },
  { env: 'SHOEBOX_DATABASE_URL', defaultText: 'sqlite:$SHOEBOX_DATA_DIR/shoebox.sqlite', description: 'sqlite:PATH or postgres://user:pass@host:5432/db' },
  { env: 'SHOEBOX_STORAGE', defaultText: 'local', description: '`local` (files under the data dir) or `s3`' },
  { env: 'SHOEBOX_S3_BUCKET', defaultText: 'shoebox', description: 'S3 bucket name' },
  { env: 'SHOEBOX_S3_PREFIX', defaultText: '(empty)', description: 'Key prefix inside the bucket' },
  { env: 'SHOEBOX_S3_REGION', defaultText: '$AWS_REGION or us-east-1', description: 'S3 region' },
  { env: 'SHOEBOX_S3_ENDPOINT', defaultText: '(AWS)', description: 'Endpoint of an S3-compatible server (MinIO, Ceph RGW, R2)' },
  { env: 'SHOEBOX_S3_FORCE_PATH_STYLE', defaultText: '1 when an endpoint is set', description: 'Path-style bucket addressing' },
  { env: 'SHOEBOX_S3_ACCESS_KEY_ID', defaultText: '$AWS_ACCESS_KEY_ID', description: 'S3 access key' },
  { env: 'SHOEBOX_S3_SECRET_ACCESS_KEY', defaultText: '$AWS_SECRET_ACCESS_KEY', description: 'S3 secret key' },
  { env: 'SHOEBOX_S3_MULTIPART_THRESHOLD', defaultText: '16MB', description: 'Files above this size go to S3 as multipart uploads' },
  { env: 'SHOEBOX_REDIS_URL', defaultText: '(none)', description: 'redis://host:6379: share rate limits and flood counters between instances' },
  { env: 'SHOEBOX_REDIS_PREFIX', defaultText: 'shoebox:', description: 'Prefix of every Redis key, so several sites can share one Redis' },
  { env: 'SHOEBOX_TRUST_PROXY', defaultText: '0', description: '1 (trust every proxy), or a comma list of proxy addresses/CIDRs, so client IPs come from X-Forwarded-For' },
  { env: 'SHOEBOX_LOG_LEVEL', defaultText: 'info', description: 'pino log level (fatal, error, warn, info, debug, silent)' },
  { env: 'SHOEBOX_TIMEZONE', defaultText: 'UTC', description: 'Site time zone (IANA name) used for the `date` field' },
  { env: 'SHOEBOX_MAX_UPLOAD_SIZE', defaultText: '100MB', description: 'Largest accepted file (decimal units: 10MB = 10,000,000 bytes)' },
  { env: 'SHOEBOX_MAX_PIXELS', defaultText: '100000000', description: 'Largest accepted image area in pixels (checked from the header, before decoding)' },
  { env: 'SHOEBOX_ACCEPTED_TYPES', defaultText: 'jpg,png,gif,webp,bmp,avif,heic,mp4,mov,webm', description: 'Accepted formats, by extension name' },
  { env: 'SHOEBOX_THUMB_SIZE', defaultText: '320x320', description: 'Thumbnail box (centre crop)' },
  { env: 'SHOEBOX_MEDIUM_WIDTH', defaultText: '500', description: 'Width of the medium derivative, made only for wider originals' },
  { env: 'SHOEBOX_CRYPT_SALT', defaultText: '(random, kept in the database)', description: 'Secret that shuffles the public id alphabet; set it to a migrated Chevereto site\'s crypt_salt to keep its links' },
  { env: 'SHOEBOX_ID_PADDING', defaultText: '999 (kept in the database)', description: 'Multiplier applied before encoding ids (Chevereto id_padding)' },
  { env: 'SHOEBOX_CHECKSUM_FIELDS', defaultText: 'both', description: 'Which checksum keys the API sends: `md5` (v4.0: md5/source_md5), `checksum` (v4.x) or `both`' },
  { env: 'SHOEBOX_GUEST_API_UPLOADS', defaultText: '0', description: '1 lets the API accept uploads with no key (guest uploads)' },
  { env: 'SHOEBOX_URL_UPLOADS', defaultText: '1', description: 'Allow `source` to be a URL fetched by the server' },
  { env: 'SHOEBOX_ALLOW_PRIVATE_URLS', defaultText: '0', description: '1 lets URL uploads reach loopback/private addresses (tests only)' },
  { env: 'SHOEBOX_URL_FETCH_TIMEOUT', defaultText: '30', description: 'Seconds a URL fetch may take in all' },
  { env: 'SHOEBOX_REFUSE_DUPLICATES', defaultText: '0', description: '1 refuses a file its uploader already has (error 101, with the existing URLs)' },
  { env: 'SHOEBOX_MAX_EXPIRATION', defaultText: '0 (no maximum)', description: 'Longest auto-delete period a client may ask for, in seconds' },
  { env: 'SHOEBOX_FLOOD_LIMIT', defaultText: '120', description: 'Uploads per minute per user and per address (0: unlimited; admins are exempt)' },
  { env: 'SHOEBOX_IMAGE_ROUTE', defaultText: 'image', description: 'Path segment of image viewer pages (/image/<slug>.<id>)' },
  { env: 'SHOEBOX_VIDEO_ROUTE', defaultText: 'video', description: 'Path segment of video viewer pages (some sites use `clip`)' },
  { env: 'SHOEBOX_SEO_URLS', defaultText: '1', description: 'Put the title slug in viewer URLs' },
  { env: 'SHOEBOX_SWEEP_INTERVAL', defaultText: '60', description: 'Seconds between expiry and cleanup sweeps' },
  { env: 'SHOEBOX_TEMP_MAX_AGE', defaultText: '3600', description: 'Seconds without a write after which a temp work folder counts as left by a crash and is removed' },
  { env: 'SHOEBOX_METRICS', defaultText: '1', description: 'Serve Prometheus metrics at /metrics' },
  { env: 'SHOEBOX_METRICS_TOKEN', defaultText: '(none)', description: 'When set, /metrics answers only requests with `Authorization: Bearer <token>`' },
  { env: 'SHOEBOX_LOADER_THRESHOLD', defaultText: '5MB', description: 'Files above this size report is_use_loader: true' },
  { env: 'SHOEBOX_FFMPEG_PATH', defaultText: '(ffmpeg on PATH, else the npm-shipped one)', description: 'ffmpeg binary used for video' },
  { env: 'SHOEBOX_FFPROBE_PATH', defaultText: '(ffprobe on PATH, else the npm-shipped one)', description: 'ffprobe binary used for video' },
  { env: 'SHOEBOX_MEDIA_TIMEOUT', defaultText: '60', description: 'Seconds any one ffmpeg/ffprobe call may run' },
  { env: 'SHOEBOX_MAX_VIDEO_DURATION', defaultText: '3600', description: 'Longest accepted video, in seconds (0: no limit)' },
  { env: 'SHOEBOX_MAX_ANIMATION_FRAMES', defaultText: '1000', description: 'Most frames an animated GIF/WebP may have' },
  { env: 'SHOEBOX_HEIC_OUTPUT', defaultText: 'jpeg', description: 'HEIC/HEIF uploads are converted to `jpeg` or `avif`' },
  { env: 'SHOEBOX_STRIP_METADATA', defaultText: 'none', description: '`none` keeps originals byte-identical, `gps` removes location, `all` removes EXIF/XMP/IPTC' },
  { env: 'SHOEBOX_SIGNUP', defaultText: 'open', description: 'Web sign-up: `open`, `invite` or `closed`' },
  { env: 'SHOEBOX_GUEST_WEB_UPLOADS', defaultText: '0', description: '1 lets visitors upload from the web uploader without an account' },
  { env: 'SHOEBOX_GUEST_API_KEY', defaultText: '(none)', description: 'A site-wide key that uploads as a guest' },
  { env: 'SHOEBOX_GUEST_MAX_UPLOAD_SIZE', defaultText: '10MB', description: 'Size limit for guest uploads' },
  { env: 'SHOEBOX_GUEST_EXPIRATION', defaultText: '604800', description: 'Guest uploads are deleted after this many seconds (0: kept)' },
  { env: 'SHOEBOX_CHUNK_SIZE', defaultText: '50MB', description: 'Chunk size of resumable (tus) uploads from the web uploader' },
  { env: 'SHOEBOX_RESUMABLE_EXPIRY', defaultText: '86400', description: 'Seconds an unfinished resumable upload is kept' },
  { env: 'SHOEBOX_RESUMABLE_MAX_UNFINISHED', defaultText: '20', description: 'Unfinished resumable uploads one account (guests: one address) may hold at once (0: no cap)' },
  { env: 'SHOEBOX_RESUMABLE_MAX_RESERVED', defaultText: '2GB', description: 'Bytes the unfinished resumable uploads of one account (guests: one address) may announce in all (0: no cap)' },
  { env: 'SHOEBOX_RESUMABLE_MAX_UNFINISHED_PER_IP', defaultText: '100', description: 'Unfinished resumable uploads all accounts and guests of one client address may hold at once (0: no cap)' },
  { env: 'SHOEBOX_RESUMABLE_MAX_RESERVED_PER_IP', defaultText: '10GB', description: 'Bytes the unfinished resumable uploads of one client address (every account and guest) may announce in all (0: no cap)' },
  { env: 'SHOEBOX_COOKIE_SECURE', defaultText: 'auto', description: 'Secure cookies: `auto` (when the base URL is https), 1 or 0' },
  { env: 'SHOEBOX_DEFAULT_LANGUAGE', defaultText: 'en', description: 'Language when the browser asks for none we have' },
  { env: 'SHOEBOX_MODERATION', defaultText: 'off', description: 'Uploads that wait for a moderator\'s approval: `off`, `guests` or `everyone` (admins never wait); see docs/MODERATION.md' },
  { env: 'SHOEBOX_FLOOD_LIMIT_HOUR', defaultText: '0 (no limit)', description: 'Uploads per hour per user and per address (admins are exempt)' },
  { env: 'SHOEBOX_FLOOD_LIMIT_DAY', defaultText: '0 (no limit)', description: 'Uploads per day per user and per address' },
  { env: 'SHOEBOX_FLOOD_LIMIT_WEEK', defaultText: '0 (no limit)', description: 'Uploads per week per user and per address' },
  { env: 'SHOEBOX_FLOOD_LIMIT_MONTH', defaultText: '0 (no limit)', description: 'Uploads per 30 days per user and per address' },
  { env: 'SHOEBOX_BLOCKLIST_DISTANCE', defaultText: '10', description: 'A new upload whose perceptual hash differs from a taken-down file\'s in at most this many of 64 bits is refused (0–15; 0: identical pictures only)' },
  { env: 'SHOEBOX_BLOCKLIST_FLAG', defaultText: '1', description: '1 flags the uploader for review when a taken-down file is uploaded again' },
  { env: 'SHOEBOX_REPORT_LIMIT', defaultText: '10', description: 'Reports one address may send per hour' },
  { env: 'SHOEBOX_SITE_NAME', defaultText: 'Shoebox', description: 'Name of the site in page titles, the header, oEmbed and the ShareX uploader' },
  { env: 'SHOEBOX_SITE_DESCRIPTION', defaultText: '(empty)', description: 'One line about the site, for search engines and link previews' },
  { env: 'SHOEBOX_HOME_INTRO', defaultText: '(empty)', description: 'Markdown shown on the home page above the newest files' },
  { env: 'SHOEBOX_LANGUAGES', defaultText: 'en,ko,zh-CN,nl,id,el', description: 'Languages the site offers (comma list); the default language must be one of them' },
  { env: 'SHOEBOX_SHOW_NSFW', defaultText: '0', description: '1 shows NSFW thumbnails unblurred to visitors who have not chosen' },
  { env: 'SHOEBOX_NSFW_BY_DEFAULT', defaultText: 'off', description: 'New uploads are marked NSFW unless the uploader says otherwise: `off`, `guests` (uploads without an account) or `everyone`; every door (API, web uploader, resumable, by URL) and the uploader\'s checkbox follow it' },
  ...accountSettingDefinitions,
  { env: 'SHOEBOX_FORM_BODY_LIMIT', defaultText: '1MB', description: 'Largest request body of the routes that take no file (sign-in, settings and album forms, JSON); larger ones get a 413 before anything is read. File routes take up to the upload size' },
  { env: 'SHOEBOX_HEADERS_TIMEOUT', defaultText: '30', description: 'Seconds a client has to send a request\'s headers' },
  { env: 'SHOEBOX_IDLE_TIMEOUT', defaultText: '30', description: 'Seconds a connection may stall while the client sends a body or reads an answer (0: never cut)' },
  { env: 'SHOEBOX_MIN_BODY_RATE', defaultText: '1KB', description: 'Slowest accepted request body, in bytes per second averaged over SHOEBOX_BODY_RATE_WINDOW (0: off); slower uploads are cut (resumable uploads resume)' },
  { env: 'SHOEBOX_BODY_RATE_WINDOW', defaultText: '30', description: 'Seconds over which SHOEBOX_MIN_BODY_RATE is measured' },
  { env: 'SHOEBOX_MAX_CONNECTIONS_PER_IP', defaultText: '64', description: 'Open connections one client address may hold (0: no cap); trusted proxies (SHOEBOX_TRUST_PROXY) are not counted' },
  { env: 'SHOEBOX_UPLOAD_CLAIM_TIMEOUT', defaultText: '300', description: 'Seconds after which the files of an upload that died between storing them and writing its row (a killed process) are deleted by the next sweep, by any instance' },
  { env: 'SHOEBOX_CONFIG_FILE', defaultText: '(none)', description: 'A JSON file of these same names; the environment wins over it' },
];

export class SettingsError extends Error {}

const sizeUnits: Record<string, number> = {
  '': 1, B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3,
};

/** "100MB", "512KiB", "1000" → bytes. Decimal units, as Chevereto shows sizes. */
export function parseByteSize(text: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = match ? sizeUnits[match[2].toUpperCase()] : undefined;
  if (!match || unit === undefined) throw new SettingsError(`${name}: "${text}" is not a size like 100MB`);
  return Math.round(Number(match[1]) * unit);
}

function parseBool(text: string, name: string): boolean {
  const t = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  throw new SettingsError(`${name}: "${text}" is not 0 or 1`);
}

function parseIntSetting(text: string, name: string, min = 0): number {
  if (!/^\s*-?\d+\s*$/.test(text)) throw new SettingsError(`${name}: "${text}" is not a whole number`);
  const n = Number(text);
  if (n < min) throw new SettingsError(`${name}: must be at least ${min}`);
  return n;
}

function oneOf<T extends string>(text: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(text)) {
    throw new SettingsError(`${name}: "${text}" must be one of ${allowed.join(', ')}`);
  }
  return text as T;
}

function routeSegment(text: string, name: string): string {
  if (!/^[a-z0-9_-]+$/i.test(text)) throw new SettingsError(`${name}: "${text}" must be a single path segment`);
  return text;
}

function blocklistDistance(text: string): number {
  const n = parseIntSetting(text, 'SHOEBOX_BLOCKLIST_DISTANCE');
  if (n > 15) throw new SettingsError('SHOEBOX_BLOCKLIST_DISTANCE: must be 0 to 15');
  return n;
}

function readConfigFile(file: string | undefined): Env {
  if (!file) return {};
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const env: Env = {};
  for (const [k, v] of Object.entries(parsed)) env[k] = v === null || v === undefined ? undefined : String(v);
  return env;
}

export function normalizeBaseUrl(text: string, name = 'SHOEBOX_BASE_URL'): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SettingsError(`${name}: "${text}" is not an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new SettingsError(`${name}: must be http(s)`);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** Where a Settings object came from: the environment and the config file it was read from (runtime-settings.ts). */
export interface SettingsSource {
  processEnv: Env;
  fileEnv: Env;
  cwd: string;
}
const sources = new WeakMap<Settings, SettingsSource>();

export function settingsSourceOf(settings: Settings): SettingsSource {
  return sources.get(settings) ?? { processEnv: {}, fileEnv: {}, cwd: process.cwd() };
}

/** Keeps the source of `target` when its values are replaced by those of a newer Settings. */
export function rememberSource(target: Settings, source: SettingsSource): void {
  sources.set(target, source);
}

function parseLanguages(text: string, name: string): string[] {
  const codes = text.split(',').map((c) => c.trim()).filter(Boolean);
  if (codes.length === 0) throw new SettingsError(`${name}: name at least one language`);
  for (const code of codes) {
    if (!(SITE_LANGUAGE_CODES as readonly string[]).includes(code)) throw new SettingsError(`${name}: "${code}" must be one of ${SITE_LANGUAGE_CODES.join(', ')}`);
  }
  return [...new Set(codes)];
}

function plainText(text: string, name: string, max: number): string {
  if (text.length > max) throw new SettingsError(`${name}: at most ${max} characters`);
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(text)) throw new SettingsError(`${name}: control characters are not allowed`);
  return text;
}

export function loadSettings(processEnv: Env = process.env, cwd = process.cwd()): Settings {
  const fileEnv = readConfigFile(processEnv.SHOEBOX_CONFIG_FILE);
  const settings = readSettings({ ...fileEnv, ...processEnv }, cwd);
  sources.set(settings, { processEnv, fileEnv, cwd });
  return settings;
}

function readSettings(env: Env, cwd: string): Settings {
  const get = (name: string): string | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : v;
  };
  const port = parseIntSetting(get('PORT') ?? '3000', 'PORT');
  const dataDir = path.resolve(cwd, get('SHOEBOX_DATA_DIR') ?? './data');
  const baseUrl = normalizeBaseUrl(get('SHOEBOX_BASE_URL') ?? `http://localhost:${port}`);
  const mediaBaseUrl = get('SHOEBOX_MEDIA_BASE_URL')
    ? normalizeBaseUrl(get('SHOEBOX_MEDIA_BASE_URL')!, 'SHOEBOX_MEDIA_BASE_URL')
    : baseUrl;
  const accelRedirect = (get('SHOEBOX_ACCEL_REDIRECT') ?? '').replace(/\/+$/, '');
  if (accelRedirect && !/^\/[A-Za-z0-9._~\/-]+$/.test(accelRedirect)) {
    throw new SettingsError('SHOEBOX_ACCEL_REDIRECT: expected an nginx location path such as /_shoebox_files');
  }
  if (accelRedirect && get('SHOEBOX_STORAGE') === 's3') {
    throw new SettingsError('SHOEBOX_ACCEL_REDIRECT sends files from the local data folder; with SHOEBOX_STORAGE=s3 leave it unset');
  }
  const thumb = /^(\d+)x(\d+)$/.exec(get('SHOEBOX_THUMB_SIZE') ?? '320x320');
  if (!thumb) throw new SettingsError('SHOEBOX_THUMB_SIZE: expected WIDTHxHEIGHT such as 320x320');
  const endpoint = get('SHOEBOX_S3_ENDPOINT');
  const trustProxyText = get('SHOEBOX_TRUST_PROXY') ?? '0';
  const trustProxy = /^(0|1|true|false)$/i.test(trustProxyText) ? parseBool(trustProxyText, 'SHOEBOX_TRUST_PROXY') : trustProxyText;
  const idPaddingText = get('SHOEBOX_ID_PADDING');
  const cookieSecureText = get('SHOEBOX_COOKIE_SECURE') ?? 'auto';
  const languages = parseLanguages(get('SHOEBOX_LANGUAGES') ?? SITE_LANGUAGE_CODES.join(','), 'SHOEBOX_LANGUAGES');
  const defaultLanguage = get('SHOEBOX_DEFAULT_LANGUAGE') ?? 'en';
  if (get('SHOEBOX_LANGUAGES') && !languages.includes(defaultLanguage)) {
    throw new SettingsError(`SHOEBOX_DEFAULT_LANGUAGE: "${defaultLanguage}" is not one of SHOEBOX_LANGUAGES (${languages.join(', ')})`);
  }

  return {
    port,
    host: get('HOST') ?? '0.0.0.0',
    dataDir,
    baseUrl,
    mediaBaseUrl,
    accelRedirect,
    databaseUrl: get('SHOEBOX_DATABASE_URL') ?? `sqlite:${path.join(dataDir, 'shoebox.sqlite')}`,
    storage: oneOf(get('SHOEBOX_STORAGE') ?? 'local', ['local', 's3'] as const, 'SHOEBOX_STORAGE'),
    s3: {
      bucket: get('SHOEBOX_S3_BUCKET') ?? 'shoebox',
      prefix: (get('SHOEBOX_S3_PREFIX') ?? '').replace(/^\/+|\/+$/g, ''),
      region: get('SHOEBOX_S3_REGION') ?? get('AWS_REGION') ?? get('AWS_DEFAULT_REGION') ?? 'us-east-1',
      endpoint,
      forcePathStyle: parseBool(get('SHOEBOX_S3_FORCE_PATH_STYLE') ?? (endpoint ? '1' : '0'), 'SHOEBOX_S3_FORCE_PATH_STYLE'),
      accessKeyId: get('SHOEBOX_S3_ACCESS_KEY_ID') ?? get('AWS_ACCESS_KEY_ID'),
      secretAccessKey: get('SHOEBOX_S3_SECRET_ACCESS_KEY') ?? get('AWS_SECRET_ACCESS_KEY'),
      multipartThreshold: parseByteSize(get('SHOEBOX_S3_MULTIPART_THRESHOLD') ?? '16MB', 'SHOEBOX_S3_MULTIPART_THRESHOLD'),
    },
    redisUrl: get('SHOEBOX_REDIS_URL'),
    redisPrefix: get('SHOEBOX_REDIS_PREFIX') ?? 'shoebox:',
    trustProxy,
    logLevel: get('SHOEBOX_LOG_LEVEL') ?? 'info',
    timezone: get('SHOEBOX_TIMEZONE') ?? 'UTC',
    maxUploadBytes: parseByteSize(get('SHOEBOX_MAX_UPLOAD_SIZE') ?? '100MB', 'SHOEBOX_MAX_UPLOAD_SIZE'),
    maxPixels: parseIntSetting(get('SHOEBOX_MAX_PIXELS') ?? '100000000', 'SHOEBOX_MAX_PIXELS', 1),
    acceptedExtensions: (get('SHOEBOX_ACCEPTED_TYPES') ?? 'jpg,png,gif,webp,bmp,avif,heic,mp4,mov,webm')
      .split(',')
      .map((s) => s.trim().toLowerCase().replace(/^jpeg$/, 'jpg').replace(/^heif$/, 'heic'))
      .filter(Boolean),
    thumbWidth: Number(thumb[1]),
    thumbHeight: Number(thumb[2]),
    mediumWidth: parseIntSetting(get('SHOEBOX_MEDIUM_WIDTH') ?? '500', 'SHOEBOX_MEDIUM_WIDTH', 1),
    cryptSalt: get('SHOEBOX_CRYPT_SALT'),
    idPadding: idPaddingText === undefined ? undefined : parseIntSetting(idPaddingText, 'SHOEBOX_ID_PADDING'),
    checksumFields: oneOf(get('SHOEBOX_CHECKSUM_FIELDS') ?? 'both', ['both', 'md5', 'checksum'] as const, 'SHOEBOX_CHECKSUM_FIELDS'),
    guestApiUploads: parseBool(get('SHOEBOX_GUEST_API_UPLOADS') ?? '0', 'SHOEBOX_GUEST_API_UPLOADS'),
    urlUploads: parseBool(get('SHOEBOX_URL_UPLOADS') ?? '1', 'SHOEBOX_URL_UPLOADS'),
    allowPrivateUrls: parseBool(get('SHOEBOX_ALLOW_PRIVATE_URLS') ?? '0', 'SHOEBOX_ALLOW_PRIVATE_URLS'),
    urlFetchTimeoutMs: parseIntSetting(get('SHOEBOX_URL_FETCH_TIMEOUT') ?? '30', 'SHOEBOX_URL_FETCH_TIMEOUT', 1) * 1000,
    refuseDuplicates: parseBool(get('SHOEBOX_REFUSE_DUPLICATES') ?? '0', 'SHOEBOX_REFUSE_DUPLICATES'),
    maxExpirationSeconds: parseIntSetting(get('SHOEBOX_MAX_EXPIRATION') ?? '0', 'SHOEBOX_MAX_EXPIRATION'),
    floodUploadsPerMinute: parseIntSetting(get('SHOEBOX_FLOOD_LIMIT') ?? '120', 'SHOEBOX_FLOOD_LIMIT'),
    imageRoute: routeSegment(get('SHOEBOX_IMAGE_ROUTE') ?? 'image', 'SHOEBOX_IMAGE_ROUTE'),
    videoRoute: routeSegment(get('SHOEBOX_VIDEO_ROUTE') ?? 'video', 'SHOEBOX_VIDEO_ROUTE'),
    seoUrls: parseBool(get('SHOEBOX_SEO_URLS') ?? '1', 'SHOEBOX_SEO_URLS'),
    sweepIntervalSeconds: parseIntSetting(get('SHOEBOX_SWEEP_INTERVAL') ?? '60', 'SHOEBOX_SWEEP_INTERVAL', 1),
    tempMaxAgeSeconds: parseIntSetting(get('SHOEBOX_TEMP_MAX_AGE') ?? '3600', 'SHOEBOX_TEMP_MAX_AGE', 1),
    metricsEnabled: parseBool(get('SHOEBOX_METRICS') ?? '1', 'SHOEBOX_METRICS'),
    metricsToken: get('SHOEBOX_METRICS_TOKEN'),
    loaderThresholdBytes: parseByteSize(get('SHOEBOX_LOADER_THRESHOLD') ?? '5MB', 'SHOEBOX_LOADER_THRESHOLD'),
    ffmpegPath: get('SHOEBOX_FFMPEG_PATH'),
    ffprobePath: get('SHOEBOX_FFPROBE_PATH'),
    mediaTimeoutMs: parseIntSetting(get('SHOEBOX_MEDIA_TIMEOUT') ?? '60', 'SHOEBOX_MEDIA_TIMEOUT', 1) * 1000,
    maxVideoSeconds: parseIntSetting(get('SHOEBOX_MAX_VIDEO_DURATION') ?? '3600', 'SHOEBOX_MAX_VIDEO_DURATION'),
    maxAnimationFrames: parseIntSetting(get('SHOEBOX_MAX_ANIMATION_FRAMES') ?? '1000', 'SHOEBOX_MAX_ANIMATION_FRAMES', 1),
    heicOutput: oneOf(get('SHOEBOX_HEIC_OUTPUT') ?? 'jpeg', ['jpeg', 'avif'] as const, 'SHOEBOX_HEIC_OUTPUT'),
    stripMetadata: oneOf(get('SHOEBOX_STRIP_METADATA') ?? 'none', ['none', 'gps', 'all'] as const, 'SHOEBOX_STRIP_METADATA'),
    signup: oneOf(get('SHOEBOX_SIGNUP') ?? 'open', ['open', 'invite', 'closed'] as const, 'SHOEBOX_SIGNUP'),
    guestWebUploads: parseBool(get('SHOEBOX_GUEST_WEB_UPLOADS') ?? '0', 'SHOEBOX_GUEST_WEB_UPLOADS'),
    guestApiKey: get('SHOEBOX_GUEST_API_KEY'),
    guestMaxUploadBytes: parseByteSize(get('SHOEBOX_GUEST_MAX_UPLOAD_SIZE') ?? '10MB', 'SHOEBOX_GUEST_MAX_UPLOAD_SIZE'),
    guestExpirationSeconds: parseIntSetting(get('SHOEBOX_GUEST_EXPIRATION') ?? '604800', 'SHOEBOX_GUEST_EXPIRATION'),
    chunkSizeBytes: parseByteSize(get('SHOEBOX_CHUNK_SIZE') ?? '50MB', 'SHOEBOX_CHUNK_SIZE'),
    resumableExpirySeconds: parseIntSetting(get('SHOEBOX_RESUMABLE_EXPIRY') ?? '86400', 'SHOEBOX_RESUMABLE_EXPIRY', 60),
    cookieSecure: cookieSecureText === 'auto' ? 'auto' : parseBool(cookieSecureText, 'SHOEBOX_COOKIE_SECURE'),
    defaultLanguage,
    pageCacheSize: parseIntSetting(get('SHOEBOX_PAGE_CACHE_SIZE') ?? '1000', 'SHOEBOX_PAGE_CACHE_SIZE'),
    moderation: oneOf(get('SHOEBOX_MODERATION') ?? 'off', ['off', 'guests', 'everyone'] as const, 'SHOEBOX_MODERATION'),
    floodUploadsPerHour: parseIntSetting(get('SHOEBOX_FLOOD_LIMIT_HOUR') ?? '0', 'SHOEBOX_FLOOD_LIMIT_HOUR'),
    floodUploadsPerDay: parseIntSetting(get('SHOEBOX_FLOOD_LIMIT_DAY') ?? '0', 'SHOEBOX_FLOOD_LIMIT_DAY'),
    floodUploadsPerWeek: parseIntSetting(get('SHOEBOX_FLOOD_LIMIT_WEEK') ?? '0', 'SHOEBOX_FLOOD_LIMIT_WEEK'),
    floodUploadsPerMonth: parseIntSetting(get('SHOEBOX_FLOOD_LIMIT_MONTH') ?? '0', 'SHOEBOX_FLOOD_LIMIT_MONTH'),
    blocklistDistance: blocklistDistance(get('SHOEBOX_BLOCKLIST_DISTANCE') ?? '10'),
    blocklistFlagUploader: parseBool(get('SHOEBOX_BLOCKLIST_FLAG') ?? '1', 'SHOEBOX_BLOCKLIST_FLAG'),
    reportsPerHour: parseIntSetting(get('SHOEBOX_REPORT_LIMIT') ?? '10', 'SHOEBOX_REPORT_LIMIT'),
    siteName: plainText((get('SHOEBOX_SITE_NAME') ?? 'Shoebox').trim(), 'SHOEBOX_SITE_NAME', 80) || 'Shoebox',
    siteDescription: plainText(get('SHOEBOX_SITE_DESCRIPTION') ?? '', 'SHOEBOX_SITE_DESCRIPTION', 300),
    homeIntro: plainText(get('SHOEBOX_HOME_INTRO') ?? '', 'SHOEBOX_HOME_INTRO', 5000),
    languages,
    showNsfwDefault: parseBool(get('SHOEBOX_SHOW_NSFW') ?? '0', 'SHOEBOX_SHOW_NSFW'),
    nsfwByDefault: oneOf(get('SHOEBOX_NSFW_BY_DEFAULT') ?? 'off', ['off', 'guests', 'everyone'] as const, 'SHOEBOX_NSFW_BY_DEFAULT'),
    ...parseAccountSettings(get, baseUrl),
    formBodyLimitBytes: parseByteSize(get('SHOEBOX_FORM_BODY_LIMIT') ?? '1MB', 'SHOEBOX_FORM_BODY_LIMIT'),
    headersTimeoutMs: parseIntSetting(get('SHOEBOX_HEADERS_TIMEOUT') ?? '30', 'SHOEBOX_HEADERS_TIMEOUT', 1) * 1000,
    idleTimeoutMs: parseIntSetting(get('SHOEBOX_IDLE_TIMEOUT') ?? '30', 'SHOEBOX_IDLE_TIMEOUT') * 1000,
    minBodyBytesPerSecond: parseByteSize(get('SHOEBOX_MIN_BODY_RATE') ?? '1KB', 'SHOEBOX_MIN_BODY_RATE'),
    bodyRateWindowMs: parseIntSetting(get('SHOEBOX_BODY_RATE_WINDOW') ?? '30', 'SHOEBOX_BODY_RATE_WINDOW', 1) * 1000,
    maxConnectionsPerAddress: parseIntSetting(get('SHOEBOX_MAX_CONNECTIONS_PER_IP') ?? '64', 'SHOEBOX_MAX_CONNECTIONS_PER_IP'),
    resumableMaxUnfinished: parseIntSetting(get('SHOEBOX_RESUMABLE_MAX_UNFINISHED') ?? '20', 'SHOEBOX_RESUMABLE_MAX_UNFINISHED'),
    resumableMaxReservedBytes: parseByteSize(get('SHOEBOX_RESUMABLE_MAX_RESERVED') ?? '2GB', 'SHOEBOX_RESUMABLE_MAX_RESERVED'),
    resumableMaxUnfinishedPerAddress: parseIntSetting(get('SHOEBOX_RESUMABLE_MAX_UNFINISHED_PER_IP') ?? '100', 'SHOEBOX_RESUMABLE_MAX_UNFINISHED_PER_IP'),
    resumableMaxReservedBytesPerAddress: parseByteSize(get('SHOEBOX_RESUMABLE_MAX_RESERVED_PER_IP') ?? '10GB', 'SHOEBOX_RESUMABLE_MAX_RESERVED_PER_IP'),
    uploadClaimTimeoutSeconds: parseIntSetting(get('SHOEBOX_UPLOAD_CLAIM_TIMEOUT') ?? '300', 'SHOEBOX_UPLOAD_CLAIM_TIMEOUT', 3),
  };
}
