import { errors } from '../core/errors.js';

/**
 * `expiration`: an ISO-8601 duration (`PT5M`, `P3D`, `P1Y2M`, `P2W`) or a number of seconds.
 * Returns the moment the upload expires. Years and months are calendar steps from `now`.
 */
export function parseExpiration(value: string, now: Date, maxSeconds: number): Date {
  const text = value.trim();
  let expires: Date;
  if (/^\d+$/.test(text)) {
    expires = new Date(now.getTime() + Number(text) * 1000);
  } else {
    const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(text);
    if (!m || text.toUpperCase() === 'P' || /T$/i.test(text)) {
      throw errors.badParameter('expiration', `"${value}" is not an ISO-8601 duration (PT5M, P3D) or a number of seconds`);
    }
    const [years, months, weeks, days, hours, minutes, seconds] = m.slice(1).map((v) => (v ? Number(v) : 0));
    expires = new Date(now);
    expires.setUTCFullYear(expires.getUTCFullYear() + years, expires.getUTCMonth() + months);
    expires = new Date(expires.getTime() + ((weeks * 7 + days) * 86400 + hours * 3600 + minutes * 60 + seconds) * 1000);
  }
  const seconds = (expires.getTime() - now.getTime()) / 1000;
  if (!Number.isFinite(seconds) || seconds <= 0) throw errors.badParameter('expiration', 'must be a positive duration');
  if (maxSeconds > 0 && seconds > maxSeconds) {
    throw errors.badParameter('expiration', `longer than this site allows (${maxSeconds} seconds)`);
  }
  return expires;
}
