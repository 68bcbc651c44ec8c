import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_TEST_URL } from './databases.js';

export { REDIS_TEST_URL };

let reachable: Promise<string | undefined> | undefined;

/**
 * Why the Redis suites cannot run here, or undefined when they can (the Redis on this machine,
 * or SHOEBOX_TEST_REDIS_URL). Under CI=true it throws instead: CI must never pass by skipping.
 */
export async function redisSkipReason(): Promise<string | undefined> {
  reachable ??= (async () => {
    const redis = new Redis(REDIS_TEST_URL, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0, retryStrategy: () => null });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      await redis.ping();
      return undefined;
    } catch (error) {
      return `Redis at ${REDIS_TEST_URL} is not reachable (${(error as Error).message})`;
    } finally {
      redis.disconnect();
    }
  })();
  const reason = await reachable;
  if (reason && process.env.CI === 'true') throw new Error(`CI=true, so the Redis suites must run: ${reason}. Set SHOEBOX_TEST_REDIS_URL.`);
  if (reason) console.warn(`skipping Redis tests: ${reason}`);
  return reason;
}

/** A key prefix no other test (or test run) shares, so counters never meet by accident. */
export function uniqueRedisPrefix(): string {
  return `shoebox-test:${randomBytes(6).toString('hex')}:`;
}
