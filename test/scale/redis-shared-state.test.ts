import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RedisHitCounter } from '../../src/shared-state/redis-hit-counter.js';
import { uploadFile } from '../support/api.js';
import { createPostgresDatabase, postgresSkipReason, type TestPostgresDatabase } from '../support/databases.js';
import { makePng } from '../support/media.js';
import { REDIS_TEST_URL, redisSkipReason, uniqueRedisPrefix } from '../support/redis.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';

const redisSkip = await redisSkipReason();

describe.skipIf(redisSkip)('Redis hit counters', () => {
  it('count one window together across connections (instances), apart across prefixes (sites)', async () => {
    const prefix = uniqueRedisPrefix();
    const a = await RedisHitCounter.connect(REDIS_TEST_URL, prefix);
    const b = await RedisHitCounter.connect(REDIS_TEST_URL, prefix);
    const otherSite = await RedisHitCounter.connect(REDIS_TEST_URL, uniqueRedisPrefix());
    try {
      const counts = await Promise.all([a.hit('k', 3600), b.hit('k', 3600), a.hit('k', 3600), b.hit('k', 3600)]);
      expect(counts.sort()).toEqual([1, 2, 3, 4]);
      expect(await b.peek('k', 3600)).toBe(4);
      expect(await otherSite.peek('k', 3600)).toBe(0);
      expect(await otherSite.hit('k', 3600)).toBe(1);
    } finally {
      await Promise.all([a.close(), b.close(), otherSite.close()]);
    }
  });

  it('hold a limit across the turn of a window: hits just before it still count just after', async () => {
    const counter = await RedisHitCounter.connect(REDIS_TEST_URL, uniqueRedisPrefix());
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const turn = Math.ceil(Date.now() / 60_000) * 60_000;
      vi.setSystemTime(turn - 2_000);
      for (let i = 1; i <= 3; i++) expect(await counter.hit('burst', 60)).toBe(i);
      vi.setSystemTime(turn + 2_000);
      expect(await counter.peek('burst', 60)).toBe(3);
      expect(await counter.hit('burst', 60)).toBe(4);
      vi.setSystemTime(turn + 60_000 + 2_000);
      expect(await counter.peek('burst', 60)).toBe(1);
    } finally {
      vi.useRealTimers();
      await counter.close();
    }
  });

  it('let their keys expire, so Redis does not fill up with old windows', async () => {
    const prefix = uniqueRedisPrefix();
    const counter = await RedisHitCounter.connect(REDIS_TEST_URL, prefix);
    const redis = new Redis(REDIS_TEST_URL);
    try {
      await counter.hit('ttl', 60);
      const [key] = await redis.keys(`${prefix}*`);
      expect(key).toContain('ttl');
      const ttl = await redis.ttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(120);
    } finally {
      await counter.close();
      redis.disconnect();
    }
  });
});

const pgSkip = redisSkip ?? (await postgresSkipReason());

describe.skipIf(pgSkip)('two servers on one PostgreSQL database and one Redis', () => {
  let database: TestPostgresDatabase;
  let one: TestServer;
  let two: TestServer;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    // Floods are counted per user and per address; the tests tell their clients apart by
    // X-Forwarded-For (trusted from loopback), so one test's uploads don't spend another's budget.
    const env = { SHOEBOX_DATABASE_URL: database.url, SHOEBOX_REDIS_URL: REDIS_TEST_URL, SHOEBOX_REDIS_PREFIX: uniqueRedisPrefix(), SHOEBOX_FLOOD_LIMIT: '3', SHOEBOX_TRUST_PROXY: '127.0.0.1' };
    [one, two] = await Promise.all([startTestServer(env), startTestServer(env)]);
  });
  afterAll(async () => {
    await Promise.all([one?.close(), two?.close()]);
    await database?.drop();
  });

  it('count one flood limit for both: the fourth upload in a minute is refused, whichever server takes it', async () => {
    // The limit slides with time: however the four uploads fall on the clock, the fourth is refused.
    const { key } = await one.createUserWithKey('flooder');
    const statuses = [];
    for (const server of [one, two, one, two]) {
      statuses.push((await uploadFile(server.url, await makePng(), 'f.png', {}, { 'X-API-Key': key })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('share uploads: a file stored through one has its viewer page on the other', async () => {
    const { key } = await two.createUserWithKey('sharer');
    const { body } = await uploadFile(one.url, await makePng(30, 20), 'shared.png', {}, { 'X-API-Key': key, 'X-Forwarded-For': '203.0.113.9' });
    const viewer = new URL(new URL(body.image.url_viewer).pathname, two.url);
    expect((await fetch(viewer)).status).toBe(200);
  });
});

const redisServerBinary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
if (!redisServerBinary && process.env.CI === 'true') throw new Error('CI=true, so the Redis outage suite must run: no redis-server binary (apt-get install redis-server)');

describe.skipIf(!redisServerBinary)(`a Redis outage${redisServerBinary ? '' : ' (skipped: no redis-server binary)'}`, () => {
  let redisProcess: ChildProcess | undefined;
  let server: TestServer;
  let key: string;

  beforeAll(async () => {
    const port = await freePort();
    redisProcess = spawn(redisServerBinary!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => 50 });
    probe.on('error', () => undefined);
    for (let tries = 0; (await probe.ping().catch(() => 'down')) !== 'PONG'; tries++) {
      if (tries > 200) throw new Error('the test redis-server did not start');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    probe.disconnect();
    server = await startTestServer({ SHOEBOX_REDIS_URL: `redis://127.0.0.1:${port}`, SHOEBOX_FLOOD_LIMIT: '3' });
    ({ key } = await server.createUserWithKey('outage'));
  });
  afterAll(async () => {
    redisProcess?.kill('SIGKILL');
    await server?.close();
  });

  it('keeps uploads working and the flood limit holding, and /healthz says Redis is down', async () => {
    const health = await (await fetch(`${server.url}/healthz`)).json();
    expect(health.checks.redis).toBe('ok');
    expect((await uploadFile(server.url, await makePng(), 'before.png', {}, { 'X-API-Key': key })).status).toBe(200);

    redisProcess!.kill('SIGKILL');
    await new Promise((resolve) => redisProcess!.once('exit', resolve));
    const down = await fetch(`${server.url}/healthz`);
    expect(down.status).toBe(503);
    expect((await down.json()).checks.redis).not.toBe('ok');
    // Counted in this instance's memory meanwhile: three uploads a minute still, then the Chevereto flood error.
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await uploadFile(server.url, await makePng(20 + i), `during-${i}.png`, {}, { 'X-API-Key': key })).status);
    expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
    expect(statuses[3]).toBe(429);
  });
});
