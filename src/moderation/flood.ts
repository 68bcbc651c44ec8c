import { errors, type ShoeboxError } from '../core/errors.js';
import type { HitCounter } from '../shared-state/hit-counter.js';

/**
 * Flood limits: uploads per minute, hour, day, week and month, counted per user and per
 * address in the site's hit counter (shared through Redis when SHOEBOX_REDIS_URL is set).
 * A signed-in uploader is held to both its own counts and its address's; a guest to its
 * address's. Admins are exempt. Windows slide (the counter's: the last minute, hour…), a month being 30 days.
 */

export const FLOOD_PERIODS = ['minute', 'hour', 'day', 'week', 'month'] as const;
export type FloodPeriod = (typeof FLOOD_PERIODS)[number];
export type FloodLimits = Record<FloodPeriod, number>;

const periodSeconds: Record<FloodPeriod, number> = { minute: 60, hour: 3600, day: 86400, week: 604800, month: 2592000 };

export interface FloodSubject {
  userId: number | null;
  isAdmin: boolean;
  ip: string;
}

/** Chevereto's wording and code (130), with HTTP 429. */
export function floodingError(limit: number, period: FloodPeriod): ShoeboxError {
  return errors.flooding(limit, period);
}

function keysOf(subject: FloodSubject): string[] {
  const keys = [`upload:ip:${subject.ip}`];
  if (subject.userId !== null) keys.unshift(`upload:user:${subject.userId}`);
  return keys;
}

/**
 * Counts one upload (`count: true`, the pipeline) or only looks (`count: false`, e.g. when a
 * resumable upload is created, so the upload is counted once, when it is stored); throws the
 * flooding error when a limit is passed.
 */
export async function checkFlood(hits: HitCounter, limits: FloodLimits, subject: FloodSubject, options: { count: boolean }): Promise<void> {
  if (subject.isAdmin) return;
  for (const period of FLOOD_PERIODS) {
    const limit = limits[period];
    if (limit <= 0) continue;
    for (const key of keysOf(subject)) {
      const n = options.count ? await hits.hit(key, periodSeconds[period]) : (await hits.peek(key, periodSeconds[period])) + 1;
      if (n > limit) throw floodingError(limit, period);
    }
  }
}
