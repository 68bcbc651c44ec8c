import { Redis } from 'ioredis';
import { MemoryHitCounter, slidingCount, windowPosition, type HitCounter } from './hit-counter.js';

/**
 * Sliding-window counters (hit-counter.ts) in Redis, a key per clock window, so every instance counts against the same limit. While Redis
 * cannot be reached, each instance counts on its own in memory (the limits still hold per
 * instance; uploads and sign-ins keep working) and /healthz reports the outage.
 */
export class RedisHitCounter implements HitCounter {
  private readonly fallback = new MemoryHitCounter();

  private constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  static async connect(url: string, prefix = 'shoebox:'): Promise<RedisHitCounter> {
    const redis = new Redis(url, { maxRetriesPerRequest: 2, lazyConnect: true, enableOfflineQueue: false });
    await redis.connect();
    // Connection errors while Redis is down show in the failing commands (the in-memory fallback
    // takes over) and in /healthz; ioredis keeps reconnecting on its own.
    redis.on('error', () => undefined);
    return new RedisHitCounter(redis, prefix);
  }

  private keyOf(key: string, windowSeconds: number, window: number): string {
    return `${this.prefix}hits:${windowSeconds}:${window}:${key}`;
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const { window, elapsed } = windowPosition(windowSeconds);
    const redisKey = this.keyOf(key, windowSeconds, window);
    try {
      const replies = (await this.redis
        .multi()
        .incr(redisKey)
        .expire(redisKey, windowSeconds * 2)
        .get(this.keyOf(key, windowSeconds, window - 1))
        .exec()) as [[null, number], [null, number], [null, string | null]];
      return slidingCount(replies[0][1], Number(replies[2][1] ?? 0), elapsed);
    } catch {
      return this.fallback.hit(key, windowSeconds);
    }
  }

  async peek(key: string, windowSeconds: number): Promise<number> {
    const { window, elapsed } = windowPosition(windowSeconds);
    try {
      const [current, previous] = await this.redis.mget(this.keyOf(key, windowSeconds, window), this.keyOf(key, windowSeconds, window - 1));
      return slidingCount(Number(current ?? 0), Number(previous ?? 0), elapsed);
    } catch {
      return this.fallback.peek(key, windowSeconds);
    }
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async checkHealth(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
