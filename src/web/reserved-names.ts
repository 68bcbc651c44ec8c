import type { Settings } from '../config/settings.js';
import { SITE_PATH_SEGMENTS } from '../core/site-urls.js';

/**
 * Profiles live at /<username>, so a username must not be a path the site already uses
 * (or may use soon). Checked case-insensitively at sign-up.
 */
const RESERVED = SITE_PATH_SEGMENTS;

export function isReservedUsername(username: string, settings: Pick<Settings, 'imageRoute' | 'videoRoute'>): boolean {
  const lower = username.toLowerCase();
  return RESERVED.includes(lower) || lower === settings.imageRoute.toLowerCase() || lower === settings.videoRoute.toLowerCase();
}
