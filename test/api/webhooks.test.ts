import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createWebhook, listDeliveries } from '../../src/db/repositories/webhooks.js';
import { findImageById } from '../../src/db/repositories/images.js';
import { sweepExpiredImages } from '../../src/jobs/expiry-sweep.js';
import { deliverDueWebhooks } from '../../src/webhooks/deliver-webhooks.js';
import { queueChange } from '../../src/webhooks/webhook-queue.js';
import { uploadFile } from '../support/api.js';
import { createPostgresDatabase, postgresSkipReason } from '../support/databases.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Webhooks end to end: a real receiver (node:http on loopback) gets signed JSON POSTs for
 * changes made through the API, retries after a receiver error, gives up after a day, keeps
 * the last 50 deliveries, and delivers each exactly once with two instances on one PostgreSQL.
 */

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  json: any;
}

class Receiver {
  readonly received: Received[] = [];
  /** Statuses to answer with, in turn; 200 once they run out. */
  statuses: number[] = [];
  private server!: Server;
  url = '';

  async start() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ headers: req.headers, body, json: JSON.parse(body) });
        const status = this.statuses.shift() ?? 200;
        res.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'thanks' : 'receiver broke');
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
    return this;
  }

  async waitFor(count: number, timeoutMs = 10_000) {
    const until = Date.now() + timeoutMs;
    while (this.received.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    return this.received;
  }

  close() {
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** What a receiver does (docs/API.md): HMAC-SHA256 of `<timestamp>.<body>`, compared in constant time, timestamp fresh. */
function verify(secret: string, received: Received): boolean {
  const timestamp = String(received.headers['x-shoebox-timestamp']);
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.${received.body}`).digest('hex')}`);
  const given = Buffer.from(String(received.headers['x-shoebox-signature']));
  return expected.length === given.length && timingSafeEqual(expected, given);
}

async function v4(server: TestServer, method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, { method, headers: { 'X-API-Key': key, ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: await res.json() };
}

describe('webhooks', () => {
  let server: TestServer;
  let receiver: Receiver;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(async () => {
    await receiver?.close();
  });

  it('POSTs signed JSON for every change, from every door, and only the owner\'s changes', async () => {
    receiver = await new Receiver().start();
    const owner = await server.createUserWithKey('hooked');
    const other = await server.createUserWithKey('stranger');
    const secret = 'whsec_test_secret';
    await createWebhook(server.ctx.db, { userId: owner.userId, createdBy: owner.userId, url: receiver.url, events: ['image.created', 'image.updated', 'image.deleted', 'album.created', 'album.updated', 'album.deleted'], secret });

    const image = (await uploadFile(server.url, await makePng(30, 30, '#123'), 'a.png', { title: 'hello' }, { 'X-API-Key': owner.key })).body.image;
    await uploadFile(server.url, await makePng(30, 30, '#124'), 'b.png', {}, { 'X-API-Key': other.key });
    const album = (await v4(server, 'POST', '/api/4/user/albums/', owner.key, { name: 'Hooked album' })).body.album;
    await v4(server, 'PATCH', `/api/4/user/images/${image.id_encoded}/`, owner.key, { title: 'changed', album_id: album.id_encoded });
    await v4(server, 'PATCH', `/api/4/user/albums/${album.id_encoded}/`, owner.key, { name: 'Renamed album' });
    await v4(server, 'DELETE', `/api/4/user/images/${image.id_encoded}/`, owner.key);
    await v4(server, 'DELETE', `/api/4/user/albums/${album.id_encoded}/`, owner.key);

    const got = await receiver.waitFor(6);
    await new Promise((r) => setTimeout(r, 200));
    expect(receiver.received.map((r) => r.json.event)).toEqual(['image.created', 'album.created', 'image.updated', 'album.updated', 'image.deleted', 'album.deleted']);
    for (const delivery of got) {
      expect(verify(secret, delivery)).toBe(true);
      expect(verify('whsec_wrong', delivery)).toBe(false);
      expect(delivery.headers['content-type']).toMatch(/^application\/json/);
      expect(delivery.headers['x-shoebox-event']).toBe(delivery.json.event);
      expect(delivery.json.user).toEqual({ username: 'hooked' });
    }
    expect(got[0].json.data.image).toMatchObject({ id_encoded: image.id_encoded, title: 'hello', url: image.url });
    expect(got[2].json.data.image.title).toBe('changed');
    expect(got[2].json.data.album_id_encoded).toBe(album.id_encoded);
    expect(got[3].json.data.album.name).toBe('Renamed album');
    // A body changed in transit no longer verifies.
    expect(verify(secret, { ...got[0], body: got[0].body.replace('hello', 'HELLO') })).toBe(false);

    const hookLog = await server.ctx.db.selectFrom('webhook_deliveries').select(['state', 'last_status']).execute();
    expect(hookLog.every((d) => d.state === 'delivered' && d.last_status === 200)).toBe(true);
  });

  it('retries after a receiver error with back-off, then gives up after a day', async () => {
    receiver = await new Receiver().start();
    receiver.statuses = [500];
    const owner = await server.createUserWithKey('retrying');
    const hook = await createWebhook(server.ctx.db, { userId: owner.userId, createdBy: owner.userId, url: receiver.url, events: ['image.created'], secret: 's1' });
    const image = (await uploadFile(server.url, await makePng(30, 30, '#200'), 'r.png', {}, { 'X-API-Key': owner.key })).body.image;
    await receiver.waitFor(1);
    await new Promise((r) => setTimeout(r, 200));
    let [delivery] = await listDeliveries(server.ctx.db, hook.id);
    expect(delivery).toMatchObject({ state: 'pending', attempts: 1, last_status: 500, last_response: 'receiver broke' });

    // Not yet due: nothing is sent.
    expect(await deliverDueWebhooks(server.ctx, { now: () => new Date() })).toBe(0);
    // Due after the back-off: sent again, same delivery, same body, and this time taken.
    expect(await deliverDueWebhooks(server.ctx, { now: () => new Date(Date.now() + 60_000) })).toBe(1);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[1].headers['x-shoebox-delivery']).toBe(receiver.received[0].headers['x-shoebox-delivery']);
    expect(receiver.received[1].body).toBe(receiver.received[0].body);
    expect(receiver.received[1].json.data.image.id_encoded).toBe(image.id_encoded);
    [delivery] = await listDeliveries(server.ctx.db, hook.id);
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 2, last_status: 200 });

    // A receiver that is down for good: retried until the day is over, then given up.
    await receiver.close();
    const row = (await findImageById(server.ctx.db, server.ctx.ids.decode(image.id_encoded)!))!;
    await queueChange(server.ctx, { type: 'image.created', image: row });
    const start = Date.now();
    let attempts = 0;
    for (let hours = 0; hours <= 26; hours += 2) attempts += await deliverDueWebhooks(server.ctx, { now: () => new Date(start + hours * 3_600_000) });
    const [failed] = await listDeliveries(server.ctx.db, hook.id);
    expect(failed.state).toBe('failed');
    expect(failed.last_status).toBeNull();
    expect(failed.last_response).toMatch(/connection refused/);
    expect(attempts).toBeGreaterThan(3);
  });

  it('keeps the last 50 deliveries of a hook', async () => {
    receiver = await new Receiver().start();
    const owner = await server.createUserWithKey('chatty');
    const hook = await createWebhook(server.ctx.db, { userId: owner.userId, createdBy: owner.userId, url: receiver.url, events: ['album.created'], secret: 's2' });
    const album = { id: 1, user_id: owner.userId, parent_id: null, name: 'x', description: null, privacy: 'public', password_hash: null, cover_image_id: null, created_at: '2024-01-01 00:00:00', listed: 1 };
    for (let i = 0; i < 60; i++) await queueChange(server.ctx, { type: 'album.created', album: { ...album, id: i + 1 } });
    await deliverDueWebhooks(server.ctx);
    expect(receiver.received).toHaveLength(60);
    const kept = await listDeliveries(server.ctx.db, hook.id, 100);
    expect(kept).toHaveLength(50);
  });

  it('tells of files the expiry sweep removed', async () => {
    receiver = await new Receiver().start();
    const owner = await server.createUserWithKey('expiring');
    await createWebhook(server.ctx.db, { userId: owner.userId, createdBy: owner.userId, url: receiver.url, events: ['image.deleted'], secret: 'exp' });
    const image = (await uploadFile(server.url, await makePng(30, 30, '#5a5'), 'e.png', { expiration: 'PT5M' }, { 'X-API-Key': owner.key })).body.image;
    expect(await sweepExpiredImages(server.ctx.db, server.ctx.storage, new Date(Date.now() + 10 * 60_000))).toBeGreaterThanOrEqual(1);
    await deliverDueWebhooks(server.ctx);
    const [delivery] = await receiver.waitFor(1);
    expect(delivery.json).toMatchObject({ event: 'image.deleted', data: { image: { id_encoded: image.id_encoded } } });
  });

  it('sends a site-wide hook every user\'s changes', async () => {
    receiver = await new Receiver().start();
    const siteAdmin = await server.createUserWithKey('hookadmin', { admin: true });
    const someone = await server.createUserWithKey('someone');
    await createWebhook(server.ctx.db, { userId: null, createdBy: siteAdmin.userId, url: receiver.url, events: ['album.created'], secret: 'site' });
    await v4(server, 'POST', '/api/4/user/albums/', someone.key, { name: 'Seen site-wide', privacy: 'private' });
    const [delivery] = await receiver.waitFor(1);
    expect(delivery.json).toMatchObject({ event: 'album.created', user: { username: 'someone' }, data: { album: { name: 'Seen site-wide', privacy: 'private' } } });
    expect(verify('site', delivery)).toBe(true);
  });

  it('refuses private addresses unless SHOEBOX_ALLOW_PRIVATE_URLS is on', async () => {
    receiver = await new Receiver().start();
    const strict = await startTestServer({ SHOEBOX_ALLOW_PRIVATE_URLS: '0' });
    try {
      const owner = await strict.createUserWithKey('strict');
      const hook = await createWebhook(strict.ctx.db, { userId: owner.userId, createdBy: owner.userId, url: receiver.url, events: ['image.created'], secret: 's3' });
      await uploadFile(strict.url, await makePng(30, 30, '#300'), 's.png', {}, { 'X-API-Key': owner.key });
      // The server's prompt delivery may hold the claim: wait until the attempt is recorded.
      let delivery;
      for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 50))) {
        await deliverDueWebhooks(strict.ctx);
        [delivery] = await listDeliveries(strict.ctx.db, hook.id);
        if (delivery?.attempts) break;
      }
      expect(delivery!.last_response).toMatch(/not public/);
      expect(receiver.received).toHaveLength(0);
    } finally {
      await strict.close();
    }
  });
});

const pgSkip = await postgresSkipReason();

describe.skipIf(pgSkip)('webhooks with two instances on one PostgreSQL', () => {
  it('delivers each event exactly once', async () => {
    const receiver = await new Receiver().start();
    const database = await createPostgresDatabase();
    const a = await startTestServer({ SHOEBOX_DATABASE_URL: database.url });
    const b = await startTestServer({ SHOEBOX_DATABASE_URL: database.url });
    try {
      const owner = await a.createUserWithKey('shared');
      await createWebhook(a.ctx.db, { userId: owner.userId, createdBy: owner.userId, url: receiver.url, events: ['image.created', 'album.created'], secret: 's4' });
      // Changes on both instances (each also tries to deliver at once)...
      const uploads = [];
      for (let i = 0; i < 10; i++) uploads.push(uploadFile((i % 2 ? a : b).url, await makePng(20, 20, `#4${String(i).padStart(2, '0')}`), 'p.png', {}, { 'X-API-Key': owner.key }));
      await Promise.all(uploads);
      // ...and a backlog queued without delivery, then drained by both instances at the same time.
      const album = { id: 1, user_id: owner.userId, parent_id: null, name: 'x', description: null, privacy: 'public', password_hash: null, cover_image_id: null, created_at: '2024-01-01 00:00:00', listed: 1 };
      for (let i = 0; i < 60; i++) await queueChange(a.ctx, { type: 'album.created', album: { ...album, id: i + 1 } });
      await Promise.all([deliverDueWebhooks(a.ctx, { holder: 'a' }), deliverDueWebhooks(b.ctx, { holder: 'b' }), deliverDueWebhooks(a.ctx, { holder: 'a2' }), deliverDueWebhooks(b.ctx, { holder: 'b2' })]);
      await receiver.waitFor(70);
      await new Promise((r) => setTimeout(r, 300));
      const ids = receiver.received.map((r) => r.headers['x-shoebox-delivery']);
      expect(ids).toHaveLength(70);
      expect(new Set(ids).size).toBe(70);
      const states = await a.ctx.db.selectFrom('webhook_deliveries').select('state').execute();
      expect(states.filter((s) => s.state === 'delivered')).toHaveLength(50);
    } finally {
      await a.close();
      await b.close();
      await database.drop();
      await receiver.close();
    }
  });
});
