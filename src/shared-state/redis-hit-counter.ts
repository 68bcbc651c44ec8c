import { Redis } from 'ioredis';
import { MemoryHitCounter, type HitCounter } from './hit-counter.js';

/**
 * Fixed-window counters in Redis, so every instance counts against the same limit. While Redis
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

  private keyOf(key: string, windowSeconds: number): string {
    return `${this.prefix}hits:${windowSeconds}:${Math.floor(Date.now() / (windowSeconds * 1000))}:${key}`;
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const redisKey = this.keyOf(key, windowSeconds);
    try {
      const [[, count]] = (await this.redis.multi().incr(redisKey).expire(redisKey, windowSeconds * 2).exec()) as [[null, number]];
      return count;
    } catch {
      return this.fallback.hit(key, windowSeconds);
    }
  }

  async peek(key: string, windowSeconds: number): Promise<number> {
    try {
      return Number((await this.redis.get(this.keyOf(key, windowSeconds))) ?? 0);
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
