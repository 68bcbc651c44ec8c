import { loadSettings, rememberSource, settingsSourceOf, SettingsError, type Settings } from './settings.js';

/**
 * The settings an admin may change in the dashboard while the site runs. Each is stored as
 * the text its environment variable would hold (table `site_settings`), so one parser —
 * loadSettings — validates both. A setting given in the environment or the config file wins
 * and is shown locked.
 */

export type SettingKind = 'text' | 'longtext' | 'bool' | 'choice' | 'size' | 'int' | 'list' | 'languages';

export interface EditableSetting {
  env: string;
  /** The field of Settings it sets. */
  key: keyof Settings;
  group: 'site' | 'uploads' | 'accounts' | 'languages' | 'routes' | 'limits' | 'nsfw' | 'cache';
  kind: SettingKind;
  choices?: readonly string[];
  /** Read once at start: a change would apply only after a restart (none is, any more; the dashboard says so for any that is). */
  restart?: boolean;
}

export const EDITABLE_SETTINGS: readonly EditableSetting[] = [
  { env: 'SHOEBOX_SITE_NAME', key: 'siteName', group: 'site', kind: 'text' },
  { env: 'SHOEBOX_SITE_DESCRIPTION', key: 'siteDescription', group: 'site', kind: 'text' },
  { env: 'SHOEBOX_HOME_INTRO', key: 'homeIntro', group: 'site', kind: 'longtext' },
  { env: 'SHOEBOX_ACCEPTED_TYPES', key: 'acceptedExtensions', group: 'uploads', kind: 'list' },
  { env: 'SHOEBOX_MAX_UPLOAD_SIZE', key: 'maxUploadBytes', group: 'uploads', kind: 'size' },
  { env: 'SHOEBOX_GUEST_MAX_UPLOAD_SIZE', key: 'guestMaxUploadBytes', group: 'uploads', kind: 'size' },
  { env: 'SHOEBOX_GUEST_API_UPLOADS', key: 'guestApiUploads', group: 'uploads', kind: 'bool' },
  { env: 'SHOEBOX_GUEST_WEB_UPLOADS', key: 'guestWebUploads', group: 'uploads', kind: 'bool' },
  // Read on every upload (moderation/moderation.ts `needsApproval`), so a change applies at once.
  { env: 'SHOEBOX_MODERATION', key: 'moderation', group: 'uploads', kind: 'choice', choices: ['off', 'guests', 'everyone'] },
  { env: 'SHOEBOX_GUEST_EXPIRATION', key: 'guestExpirationSeconds', group: 'uploads', kind: 'int' },
  { env: 'SHOEBOX_URL_UPLOADS', key: 'urlUploads', group: 'uploads', kind: 'bool' },
  { env: 'SHOEBOX_REFUSE_DUPLICATES', key: 'refuseDuplicates', group: 'uploads', kind: 'bool' },
  { env: 'SHOEBOX_MAX_EXPIRATION', key: 'maxExpirationSeconds', group: 'uploads', kind: 'int' },
  { env: 'SHOEBOX_STRIP_METADATA', key: 'stripMetadata', group: 'uploads', kind: 'choice', choices: ['none', 'gps', 'all'] },
  { env: 'SHOEBOX_SIGNUP', key: 'signup', group: 'accounts', kind: 'choice', choices: ['open', 'invite', 'closed'] },
  // Read on each sign-up and sign-in (web/routes/account-routes.ts, web/accounts/two-factor-login.ts); `required` needs SHOEBOX_SMTP_URL.
  { env: 'SHOEBOX_EMAIL_VERIFICATION', key: 'emailVerification', group: 'accounts', kind: 'choice', choices: ['off', 'required'] },
  // Read on every page an admin opens (web/accounts/two-factor-gate.ts).
  { env: 'SHOEBOX_REQUIRE_2FA_FOR_ADMINS', key: 'require2faForAdmins', group: 'accounts', kind: 'bool' },
  { env: 'SHOEBOX_DEFAULT_LANGUAGE', key: 'defaultLanguage', group: 'languages', kind: 'choice', choices: ['en', 'ko', 'zh-CN', 'nl', 'id', 'el'] },
  { env: 'SHOEBOX_LANGUAGES', key: 'languages', group: 'languages', kind: 'languages' },
  { env: 'SHOEBOX_IMAGE_ROUTE', key: 'imageRoute', group: 'routes', kind: 'text' },
  { env: 'SHOEBOX_VIDEO_ROUTE', key: 'videoRoute', group: 'routes', kind: 'text' },
  { env: 'SHOEBOX_SEO_URLS', key: 'seoUrls', group: 'routes', kind: 'bool' },
  { env: 'SHOEBOX_FLOOD_LIMIT', key: 'floodUploadsPerMinute', group: 'limits', kind: 'int' },
  // Read on every upload (moderation/moderation.ts `floodLimitsOf`) and every report (web/moderation/report-routes.ts).
  { env: 'SHOEBOX_FLOOD_LIMIT_HOUR', key: 'floodUploadsPerHour', group: 'limits', kind: 'int' },
  { env: 'SHOEBOX_FLOOD_LIMIT_DAY', key: 'floodUploadsPerDay', group: 'limits', kind: 'int' },
  { env: 'SHOEBOX_FLOOD_LIMIT_WEEK', key: 'floodUploadsPerWeek', group: 'limits', kind: 'int' },
  { env: 'SHOEBOX_FLOOD_LIMIT_MONTH', key: 'floodUploadsPerMonth', group: 'limits', kind: 'int' },
  { env: 'SHOEBOX_REPORT_LIMIT', key: 'reportsPerHour', group: 'limits', kind: 'int' },
  { env: 'SHOEBOX_SHOW_NSFW', key: 'showNsfwDefault', group: 'nsfw', kind: 'bool' },
  { env: 'SHOEBOX_NSFW_BY_DEFAULT', key: 'nsfwByDefault', group: 'nsfw', kind: 'choice', choices: ['off', 'guests', 'everyone'] },
  { env: 'SHOEBOX_PAGE_CACHE_SIZE', key: 'pageCacheSize', group: 'cache', kind: 'int' },
];

const byEnv = new Map(EDITABLE_SETTINGS.map((s) => [s.env, s]));

export function editableSetting(env: string): EditableSetting | undefined {
  return byEnv.get(env);
}

export type LockReason = 'environment' | 'config-file';

/** Why a setting cannot be changed in the dashboard, or null when it can. */
export function lockOf(settings: Settings, env: string): LockReason | null {
  const source = settingsSourceOf(settings);
  const present = (from: Record<string, string | undefined>) => from[env] !== undefined && from[env] !== '';
  if (present(source.processEnv)) return 'environment';
  if (present(source.fileEnv)) return 'config-file';
  return null;
}

/** The text of a setting as an environment variable would give it (for the form). */
export function settingText(settings: Settings, setting: EditableSetting): string {
  const value = settings[setting.key];
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'boolean') return value ? '1' : '0';
  // Sizes as people write them (100MB), when that is exact.
  if (setting.kind === 'size' && typeof value === 'number' && value > 0) {
    for (const [unit, bytes] of [['GB', 1e9], ['MB', 1e6], ['KB', 1e3]] as const) if (value % bytes === 0) return `${value / bytes}${unit}`;
  }
  return String(value);
}

/**
 * The settings with `stored` (dashboard values, by env name) under the environment and config
 * file. Throws SettingsError, naming the setting, when a value does not parse; then nothing
 * of `stored` applies.
 */
export function resolveSettings(current: Settings, stored: Record<string, string>): Settings {
  const source = settingsSourceOf(current);
  const editable: Record<string, string> = {};
  for (const [env, value] of Object.entries(stored)) if (byEnv.has(env)) editable[env] = value;
  // The environment and the file win over the database; their own SHOEBOX_CONFIG_FILE is not read twice.
  const { SHOEBOX_CONFIG_FILE: _file, ...processEnv } = source.processEnv;
  const next = loadSettings({ ...editable, ...source.fileEnv, ...processEnv }, source.cwd);
  return next;
}

/** Puts the editable values of `next` into `target` in place, so every holder of the object sees them. */
export function applyEditable(target: Settings, next: Settings): void {
  const source = settingsSourceOf(target);
  for (const setting of EDITABLE_SETTINGS) {
    if (setting.restart) continue;
    (target as unknown as Record<string, unknown>)[setting.key] = next[setting.key];
  }
  rememberSource(target, source);
}

export { SettingsError };
