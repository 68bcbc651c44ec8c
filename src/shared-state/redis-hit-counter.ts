import { Redis } from 'ioredis';
import type { HitCounter } from './hit-counter.js';

/** Fixed-window counters in Redis, so every instance counts against the same limit. */
export class RedisHitCounter implements HitCounter {
  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  static async connect(url: string, prefix = 'shoebox:'): Promise<RedisHitCounter> {
    const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true, enableOfflineQueue: false });
    await redis.connect();
    return new RedisHitCounter(redis, prefix);
  }

  private keyOf(key: string, windowSeconds: number): string {
    return `${this.prefix}hits:${windowSeconds}:${Math.floor(Date.now() / (windowSeconds * 1000))}:${key}`;
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const redisKey = this.keyOf(key, windowSeconds);
    const [[, count]] = (await this.redis.multi().incr(redisKey).expire(redisKey, windowSeconds * 2).exec()) as [[null, number]];
    return count;
  }

  async peek(key: string, windowSeconds: number): Promise<number> {
    return Number((await this.redis.get(this.keyOf(key, windowSeconds))) ?? 0);
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
