/**
 * "Date taken" as cameras write it: EXIF `2019:03:04 05:06:07` (wall-clock time, its offset
 * in a separate tag when there is one), XMP/ISO `2019-03-04T05:06:07+02:00`, IPTC
 * `20190304` + `050607+0200`. Turned into one UTC instant: with the offset when the file has
 * one, else read as wall-clock time in the site's time zone.
 */

export interface DateTaken {
  /** Wall-clock time, `YYYY-MM-DD HH:MM:SS`. */
  wall: string;
  /** Minutes east of UTC, when the file says. */
  offsetMinutes: number | null;
}

const DATE_TIME = /^(\d{4})[:-](\d{2})[:-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/;
const IPTC_DATE = /^(\d{4})(\d{2})(\d{2})$/;
const IPTC_TIME = /^(\d{2})(\d{2})(\d{2})([+-]\d{4})?$/;

export function parseOffset(text: string | undefined | null): number | null {
  if (!text) return null;
  const trimmed = text.trim();
  if (trimmed === 'Z') return 0;
  const match = /^([+-])(\d{2}):?(\d{2})$/.exec(trimmed);
  if (!match) return null;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  if (minutes > 14 * 60) return null;
  return match[1] === '-' ? -minutes : minutes;
}

function build(y: string, mo: string, d: string, h = '00', mi = '00', s = '00', offset: number | null = null): DateTaken | null {
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  // 0000:00:00 and other placeholders cameras write when their clock was never set.
  if (year < 1800 || year > 2200 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 60) return null;
  const probe = new Date(Date.UTC(year, month - 1, day));
  if (probe.getUTCDate() !== day) return null;
  return { wall: `${y}-${mo}-${d} ${h}:${mi}:${s === '60' ? '59' : s}`, offsetMinutes: offset };
}

/** An EXIF or XMP date-time; `offsetText` is EXIF's OffsetTime* tag when the value has none. */
export function parseDateTime(value: unknown, offsetText?: unknown): DateTaken | null {
  if (typeof value !== 'string') return null;
  const match = DATE_TIME.exec(value.trim().replace(/\0+$/, ''));
  if (!match) return null;
  const [, y, mo, d, h, mi, s, zone] = match;
  const offset = parseOffset(zone) ?? parseOffset(typeof offsetText === 'string' ? offsetText : null);
  return build(y, mo, d, h ?? '00', mi ?? '00', s ?? '00', offset);
}

/** IPTC DateCreated (CCYYMMDD) with TimeCreated (HHMMSS±HHMM). */
export function parseIptcDate(date: unknown, time: unknown): DateTaken | null {
  if (typeof date !== 'string') return null;
  const d = IPTC_DATE.exec(date.trim());
  if (!d) return null;
  const t = typeof time === 'string' ? IPTC_TIME.exec(time.trim()) : null;
  return t ? build(d[1], d[2], d[3], t[1], t[2], t[3], parseOffset(t[4])) : build(d[1], d[2], d[3]);
}

/** Minutes a time zone is ahead of UTC at a given instant. */
function zoneOffsetMinutes(instant: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    }).formatToParts(new Date(instant)).map((p) => [p.type, p.value]),
  );
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60000);
}

/** The UTC instant of a date taken; wall-clock times without an offset are read in `timeZone`. */
export function dateTakenToUtc(taken: DateTaken, timeZone: string): Date {
  const [date, time] = taken.wall.split(' ');
  const [y, mo, d] = date.split('-').map(Number);
  const [h, mi, s] = time.split(':').map(Number);
  const wallAsUtc = Date.UTC(y, mo - 1, d, h, mi, s);
  if (taken.offsetMinutes !== null) return new Date(wallAsUtc - taken.offsetMinutes * 60000);
  // Two passes settle the offset across a daylight-saving change.
  let instant = wallAsUtc - zoneOffsetMinutes(wallAsUtc, timeZone) * 60000;
  instant = wallAsUtc - zoneOffsetMinutes(instant, timeZone) * 60000;
  return new Date(instant);
}
