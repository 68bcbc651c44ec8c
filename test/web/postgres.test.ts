import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createApiKey, inputValue, tileLinks, WebClient } from './web-client.js';

/**
 * The web site on PostgreSQL: migration 0002, sessions, albums and the keyset listings run
 * there exactly as on SQLite. Needs a PostgreSQL server (SHOEBOX_TEST_POSTGRES_URL, default
 * the local one); skipped when none answers, except under CI=true, where it must run.
 */
const adminUrl = process.env.SHOEBOX_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresSkipReason(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return undefined;
  } catch (error) {
    const reason = `no PostgreSQL at ${adminUrl} (${(error as Error).message}); set SHOEBOX_TEST_POSTGRES_URL`;
    if (process.env.CI === 'true') throw new Error(`CI needs PostgreSQL: ${reason}`);
    return reason;
  }
}

const skipReason = await postgresSkipReason();

describe.skipIf(skipReason !== undefined)(`the web site on PostgreSQL${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  const database = `shoebox_web_${randomBytes(6).toString('hex')}`;
  let server: TestServer;

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`create database ${database}`);
    await admin.end();
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    server = await startTestServer({ SHOEBOX_DATABASE_URL: url.toString(), SHOEBOX_FLOOD_LIMIT: '0' });
  });
  afterAll(async () => {
    await server?.close();
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  });

  it('signs up, keeps the session, makes a key, keeps a private album private and pages through explore', async () => {
    const browser = new WebClient(server.url);
    expect((await browser.signup('pguser')).status).toBe(303);
    expect((await browser.get('/settings')).status).toBe(200);
    const key = await createApiKey(browser);

    await browser.get('/albums/new');
    const albumId = /\/album\/([A-Za-z0-9]+)/.exec((await browser.post('/albums', { name: 'Hidden', privacy: 'private' })).location!)![1];
    const hidden = (await uploadFile(server.url, await makePng(), 'hidden.png', { album_id: albumId, title: 'Hidden one' }, { 'X-API-Key': key })).body.image;
    const publicPaths: string[] = [];
    for (let i = 0; i < 26; i++) {
      const res = await uploadFile(server.url, await makePng(10 + i, 10), `p${i}.png`, { tags: 'pg', title: `Public ${i}` }, { 'X-API-Key': key });
      publicPaths.unshift(res.body.image.path_viewer);
    }

    const guest = new WebClient(server.url);
    const first = await guest.get('/explore');
    expect(tileLinks(first.text)).toEqual(publicPaths.slice(0, 24));
    const older = /rel="next" href="([^"]+)"/.exec(first.text)![1];
    expect(tileLinks((await guest.get(older)).text)).toEqual(publicPaths.slice(24));
    expect(tileLinks((await guest.get('/tag/pg')).text)).toEqual(publicPaths.slice(0, 24));
    expect(tileLinks((await guest.get('/search?q=public')).text)).toEqual(publicPaths.slice(0, 24));
    expect((await guest.get(hidden.path_viewer)).status).toBe(404);
    expect((await browser.get(hidden.path_viewer)).status).toBe(200);

    await browser.post('/logout');
    expect((await browser.get('/settings')).status).toBe(303);
  });
});
