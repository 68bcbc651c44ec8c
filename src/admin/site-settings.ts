import { sniffImageHeader } from './asset-sniff.js';
import { editableSetting, lockOf, resolveSettings, SettingsError } from '../config/runtime-settings.js';
import type { Settings } from '../config/settings.js';
import { readStoredSettings, writeSiteAsset, writeStoredSettings } from '../db/repositories/site-settings.js';
import { FORMATS } from '../media/formats.js';
import { SITE_PATH_SEGMENTS } from '../core/site-urls.js';
import { findUserByUsername } from '../db/repositories/users.js';
import type { LiveSite } from './live-settings.js';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { errors } from '../core/errors.js';
import { recordAdminAction, type AuditWho } from './audit.js';

export interface SiteSettingsServices {
  db: Kysely<Database>;
  settings: Settings;
  live: LiveSite;
}

/**
 * Saves settings from the dashboard: every value is checked by the same parser the
 * environment goes through, and against each other (e.g. the default language must be
 * offered); one bad value refuses the whole change, with a message naming the setting.
 * `changes` maps env names to text, or null for "back to the default". The audit log gets
 * the names of the changed settings, never their values (some are secrets).
 */
export async function saveSiteSettings(services: SiteSettingsServices, changes: Record<string, string | null>, who: AuditWho): Promise<void> {
  for (const [env, value] of Object.entries(changes)) {
    if (!editableSetting(env)) throw errors.unknownSetting(env);
    const lock = lockOf(services.settings, env);
    if (lock) throw errors.settingLocked(env, lock === 'environment' ? 'environment' : 'config file');
    if (env === 'SHOEBOX_ACCEPTED_TYPES' && value !== null) {
      const names = value.split(',').map((s) => s.trim().toLowerCase().replace(/^jpeg$/, 'jpg').replace(/^heif$/, 'heic')).filter(Boolean);
      const unknown = names.filter((n) => !(n in FORMATS));
      if (names.length === 0) throw errors.invalidSetting('SHOEBOX_ACCEPTED_TYPES: name at least one format');
      if (unknown.length) throw errors.invalidSetting(`SHOEBOX_ACCEPTED_TYPES: unknown format ${unknown.join(', ')} (known: ${Object.keys(FORMATS).join(', ')})`);
    }
  }
  await checkViewerRoutes(services, changes);
  const stored = await readStoredSettings(services.db);
  const next: Record<string, string> = { ...stored };
  for (const [env, value] of Object.entries(changes)) {
    if (value === null) delete next[env];
    else next[env] = value;
  }
  try {
    resolveSettings(services.settings, next);
  } catch (error) {
    if (error instanceof SettingsError) throw errors.invalidSetting(error.message);
    throw error;
  }
  await writeStoredSettings(services.db, changes);
  await services.live.reload();
  const names = Object.keys(changes);
  const reset = names.filter((env) => changes[env] === null);
  const set = names.filter((env) => changes[env] !== null);
  const detail = [set.length ? `changed: ${set.join(', ')}` : '', reset.length ? `back to default: ${reset.join(', ')}` : ''].filter(Boolean).join('; ');
  await recordAdminAction(services.db, who, 'settings.save', null, detail);
}

/**
 * A viewer route is the first segment of every viewer address (web/live-routes.ts): it must not
 * take over a path the site uses (`/dashboard`, `/api`...) or an account's profile (/<username>).
 */
async function checkViewerRoutes(services: SiteSettingsServices, changes: Record<string, string | null>): Promise<void> {
  for (const env of ['SHOEBOX_IMAGE_ROUTE', 'SHOEBOX_VIDEO_ROUTE']) {
    const value = changes[env]?.trim();
    if (!value) continue;
    const lower = value.toLowerCase();
    if (SITE_PATH_SEGMENTS.includes(lower) && lower !== 'image' && lower !== 'video') {
      throw errors.invalidSetting(`${env}: "${value}" is a path the site already uses (/${lower})`);
    }
    if (await findUserByUsername(services.db, value)) throw errors.invalidSetting(`${env}: "${value}" is an account's name (its profile is at /${value})`);
  }
}

export const ASSET_NAMES = ['logo', 'favicon'] as const;
export type AssetName = (typeof ASSET_NAMES)[number];
export const MAX_ASSET_BYTES = 512 * 1024;

/** Stores a logo or favicon after checking it is a small PNG, JPEG, GIF, WebP, ICO or SVG-free image. */
export async function saveSiteAsset(services: SiteSettingsServices, name: AssetName, data: Buffer, who: AuditWho): Promise<void> {
  if (data.length === 0) throw errors.noAssetFile();
  if (data.length > MAX_ASSET_BYTES) throw errors.assetTooBig(MAX_ASSET_BYTES);
  const mime = sniffImageHeader(data);
  if (!mime) throw errors.assetType();
  await writeSiteAsset(services.db, name, { mime, data });
  await services.live.reload();
  await recordAdminAction(services.db, who, 'asset.save', name, `${mime}, ${data.length} bytes`);
}

export async function removeSiteAsset(services: SiteSettingsServices, name: AssetName, who: AuditWho): Promise<void> {
  await writeSiteAsset(services.db, name, null);
  await services.live.reload();
  await recordAdminAction(services.db, who, 'asset.remove', name);
}
