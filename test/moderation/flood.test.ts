import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkFlood } from '../../src/moderation/flood.js';
import { MemoryHitCounter } from '../../src/shared-state/hit-counter.js';
import { REDIS_TEST_URL, redisSkipReason, uniqueRedisPrefix } from '../support/redis.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { FileOrigin, uploadVia, WAYS_IN, type WayIn } from './ways-in.js';

let seed = 100;
const picture = () => makeVariedImage(seed++, { width: 160, height: 120 });

describe('flood limits on one instance', () => {
  let origin: FileOrigin;
  beforeAll(async () => {
    origin = await new FileOrigin().start();
  });
  afterAll(() => origin.stop());

  it.each(WAYS_IN)('refuse the upload past the per-minute limit through %s, with Chevereto\'s message and code', async (way: WayIn) => {
    const server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '2' });
    try {
      const { key } = await server.createUserWithKey('alice');
      for (let i = 0; i < 2; i++) expect((await uploadVia(way, server.url, origin, await picture(), { key })).status).toBe(200);
      const refused = await uploadVia(way, server.url, origin, await picture(), { key });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe(130);
      expect(refused.body.error.message).toBe('Flooding detected. You can only upload 2 images per minute');
      expect(await server.ctx.db.selectFrom('images').select('id').execute()).toHaveLength(2);
    } finally {
      await server.close();
    }
  }, 120_000);

  it('count every way in together, per user and per address; resumable creation is refused before any byte; admins are exempt', async () => {
    const server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_FLOOD_LIMIT_HOUR: '3' });
    try {
      const { key: alice } = await server.createUserWithKey('alice');
      const { key: bob } = await server.createUserWithKey('bob');
      const { key: admin } = await server.createUserWithKey('root', { admin: true });
      expect((await uploadVia('api', server.url, origin, await picture(), { key: alice })).status).toBe(200);
      expect((await uploadVia('web-url', server.url, origin, await picture(), { key: alice })).status).toBe(200);
      expect((await uploadVia('resumable', server.url, origin, await picture(), { key: alice })).status).toBe(200);
      for (const way of WAYS_IN) {
        const out = await uploadVia(way, server.url, origin, await picture(), { key: alice });
        expect(out.status, way).toBe(429);
        expect(out.body.error.message).toBe('Flooding detected. You can only upload 3 images per hour');
      }
      // Bob has uploaded nothing, but his address (the same loopback) has used up its hour.
      expect((await uploadVia('api', server.url, origin, await picture(), { key: bob })).status).toBe(429);
      expect((await uploadVia('api', server.url, origin, await picture(), { key: admin })).status).toBe(200);
      const stored = await server.ctx.db.selectFrom('images').select('id').execute();
      expect(stored).toHaveLength(4);
    } finally {
      await server.close();
    }
  }, 60_000);

  it('the address limit holds for guests behind a trusted proxy, each client address on its own', async () => {
    const server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_FLOOD_LIMIT_DAY: '1', SHOEBOX_GUEST_API_UPLOADS: '1', SHOEBOX_TRUST_PROXY: '1' });
    try {
      const from = (ip: string) => ({ headers: { 'X-Forwarded-For': ip } });
      expect((await uploadVia('api', server.url, origin, await picture(), from('198.51.100.1'))).status).toBe(200);
      const second = await uploadVia('api', server.url, origin, await picture(), from('198.51.100.1'));
      expect(second.status).toBe(429);
      expect(second.body.error.message).toBe('Flooding detected. You can only upload 1 images per day');
      expect((await uploadVia('api', server.url, origin, await picture(), from('198.51.100.2'))).status).toBe(200);
    } finally {
      await server.close();
    }
  }, 30_000);
});

const redisSkip = await redisSkipReason();

describe.skipIf(redisSkip)('flood limits across two instances sharing Redis', () => {
  let one: TestServer;
  let two: TestServer;
  let origin: FileOrigin;

  beforeAll(async () => {
    const env = { SHOEBOX_REDIS_URL: REDIS_TEST_URL, SHOEBOX_REDIS_PREFIX: uniqueRedisPrefix(), SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_FLOOD_LIMIT_WEEK: '3', SHOEBOX_GUEST_API_UPLOADS: '1', SHOEBOX_GUEST_WEB_UPLOADS: '1' };
    [one, two] = await Promise.all([startTestServer(env), startTestServer(env)]);
    origin = await new FileOrigin().start();
  });
  afterAll(async () => {
    await origin.stop();
    await Promise.all([one.close(), two.close()]);
  });

  it('count an address\'s uploads on both together', async () => {
    expect((await uploadVia('api', one.url, origin, await picture())).status).toBe(200);
    expect((await uploadVia('api', two.url, origin, await picture())).status).toBe(200);
    expect((await uploadVia('resumable', one.url, origin, await picture())).status).toBe(200);
    for (const [server, way] of [[two, 'web-url'], [one, 'api'], [two, 'resumable']] as const) {
      const out = await uploadVia(way, server.url, origin, await picture());
      expect(out.status, way).toBe(429);
      expect(out.body.error.message).toBe('Flooding detected. You can only upload 3 images per week');
    }
  }, 30_000);
});

describe('the window slides', () => {
  it('refuses a burst that straddles the turn of a minute as if it fell inside one', async () => {
    const counter = new MemoryHitCounter();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const turn = Math.ceil(Date.now() / 60_000) * 60_000;
      vi.setSystemTime(turn - 1_000);
      const limits = { minute: 3, hour: 0, day: 0, week: 0, month: 0 };
      const subject = { userId: 7, isAdmin: false, ip: '203.0.113.5' };
      for (let i = 0; i < 3; i++) await checkFlood(counter, limits, subject, { count: true });
      vi.setSystemTime(turn + 1_000);
      await expect(checkFlood(counter, limits, subject, { count: true })).rejects.toMatchObject({ message: 'Flooding detected. You can only upload 3 images per minute' });
      // A minute after the burst, uploads are welcome again.
      vi.setSystemTime(turn + 60_000);
      await expect(checkFlood(counter, limits, subject, { count: true })).resolves.toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });
});
