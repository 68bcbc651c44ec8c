/** Date helpers for the `YYYY-MM-DD HH:MM:SS` strings the API and the database use. */

const pad = (n: number) => String(n).padStart(2, '0');

export function formatUtc(date: Date): string {
  return (
    `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ` +
    `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`
  );
}

export function parseUtc(text: string): Date {
  return new Date(`${text.replace(' ', 'T')}Z`);
}

const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time in an IANA zone, formatted like formatUtc. */
export function formatInZone(date: Date, timeZone: string): string {
  let f = zoneFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    zoneFormatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second}`;
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Chevereto's time_elapsed_string: the largest non-zero unit, "N units ago", else "moments ago". */
export function howLongAgo(then: Date, now = new Date()): string {
  if (now <= then) return 'moments ago';
  // Calendar difference, as PHP's DateTime::diff gives it.
  let years = now.getUTCFullYear() - then.getUTCFullYear();
  let months = now.getUTCMonth() - then.getUTCMonth();
  let days = now.getUTCDate() - then.getUTCDate();
  const secondsOfDay = (d: Date) => d.getUTCHours() * 3600 + d.getUTCMinutes() * 60 + d.getUTCSeconds();
  let seconds = secondsOfDay(now) - secondsOfDay(then);
  if (seconds < 0) { seconds += 86400; days--; }
  if (days < 0) {
    const daysInPrevMonth = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 0)).getUTCDate();
    days += daysInPrevMonth; months--;
  }
  if (months < 0) { months += 12; years--; }
  const weeks = Math.floor(days / 7);
  days -= weeks * 7;
  const units: [number, string][] = [
    [years, 'year'], [months, 'month'], [weeks, 'week'], [days, 'day'],
    [Math.floor(seconds / 3600), 'hour'], [Math.floor((seconds % 3600) / 60), 'minute'], [seconds % 60, 'second'],
  ];
  const first = units.find(([n]) => n > 0);
  return first ? `${first[0]} ${first[1]}${first[0] > 1 ? 's' : ''} ago` : 'moments ago';
}
