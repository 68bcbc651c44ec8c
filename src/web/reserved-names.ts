import type { Settings } from '../config/settings.js';

/**
 * Profiles live at /<username>, so a username must not be a path the site already uses
 * (or may use soon). Checked case-insensitively at sign-up.
 */
const RESERVED = [
  'about', 'account', 'admin', 'album', 'albums', 'api', 'dashboard', 'delete', 'embed', 'explore', 'favicon.ico',
  'feed', 'healthz', 'help', 'image', 'images', 'json', 'language', 'login', 'logout', 'me', 'metrics', 'nsfw',
  'oembed', 'page', 'pages', 'password', 'plugin', 'robots.txt', 'search', 'settings', 'signup', 'site', 'sitemap.xml',
  'static', 'tag', 'tags', 'category', 'categories', 'tus', 'upload', 'uploads', 'user', 'users', 'video', 'videos',
];

export function isReservedUsername(username: string, settings: Pick<Settings, 'imageRoute' | 'videoRoute'>): boolean {
  const lower = username.toLowerCase();
  return RESERVED.includes(lower) || lower === settings.imageRoute.toLowerCase() || lower === settings.videoRoute.toLowerCase();
}
