/** Text formats shared by the API's image object and the pages (Chevereto's own helpers). */

/** Chevereto's format_bytes: decimal units, "N B" under 1000, else one decimal, trailing .0 dropped. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const rounded = Math.round(value * 10) / 10;
  return `${rounded} ${units[unit]}`;
}

/** PHP rawurlencode: everything but A-Z a-z 0-9 - _ . ~ is percent-encoded. */
export function rawUrlEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** htmlspecialchars(ENT_QUOTES | ENT_HTML5). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** Chevereto's truncate(title, 28): longer titles keep 25 characters and get "...". */
export function truncateForDisplay(text: string | null, length = 28): string {
  if (!text) return '';
  const chars = [...text];
  return chars.length > length ? `${chars.slice(0, length - 3).join('').trimEnd()}...` : text;
}

/** MM:SS, minutes not capped at 60 (as Chevereto's sprintf does). */
export function durationTime(seconds: number): string {
  if (seconds <= 0) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(Math.floor(seconds / 60))}:${pad(seconds % 60)}`;
}
