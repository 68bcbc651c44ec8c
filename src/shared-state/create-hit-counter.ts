import type { Settings } from '../config/settings.js';
import { MemoryHitCounter, type HitCounter } from './hit-counter.js';

export async function createHitCounter(settings: Pick<Settings, 'redisUrl'> & Partial<Pick<Settings, 'redisPrefix'>>): Promise<HitCounter> {
  if (settings.redisUrl) {
    const { RedisHitCounter } = await import('./redis-hit-counter.js');
    return RedisHitCounter.connect(settings.redisUrl, settings.redisPrefix);
  }
  return new MemoryHitCounter();
}
