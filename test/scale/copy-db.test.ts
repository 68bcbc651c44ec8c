import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { copyDatabase, CopyDbError } from '../../src/cli/copy-db.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { listImages } from '../../src/db/repositories/listings.js';
import { textGrams } from '../../src/db/title-fold.js';
import { createSession, findSessionByToken } from '../../src/db/repositories/sessions.js';
import { uploadFile } from '../support/api.js';
import { runShoebox } from '../support/cli.js';
import { createPostgresDatabase, postgresSkipReason, type TestPostgresDatabase } from '../support/databases.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

const pgSkip = await postgresSkipReason();

/** Each tag's running count (tags.uses). */
async function tagCounts(db: DatabaseHandle['db']): Promise<[string, number][]> {
  return (await db.selectFrom('tags').select(['name', 'uses']).orderBy('name').execute()).map((t) => [t.name, Number(t.uses)]);
}

/** What /tags shows: each tag and its number of files. */
async function tagCloud(baseUrl: string): Promise<[string, number][]> {
  const page = await (await fetch(`${baseUrl}/tags`)).text();
  return [...page.matchAll(/<a href="\/tag\/([^"]+)">#[^<]*<\/a> <span class="muted small">(\d+) files?<\/span>/g)].map((m) => [m[1], Number(m[2])]);
}

/** A small but varied SQLite site: users, keys, nested albums, tagged uploads, a session. */
async function buildSqliteSite(dataDir: string) {
  const server = await startTestServer({ SHOEBOX_DATA_DIR: dataDir, SHOEBOX_DATABASE_URL: `sqlite:${dataDir}/shoebox.sqlite` });
  const { key, userId } = await server.createUserWithKey('alice');
  await server.createUserWithKey('bob', { admin: true });
  // A child album made before its parent: its parent's id is higher than its own.
  const child = await createAlbum(server.ctx.db, { userId, name: 'Child' });
  const parent = await createAlbum(server.ctx.db, { userId, name: 'Parent ✓ «ünïcödé»' });
  await server.ctx.db.updateTable('albums').set({ parent_id: parent.id }).where('id', '=', child.id).execute();
  const uploads = [];
  uploads.push((await uploadFile(server.url, await makeJpeg(640, 480), 'Holiday photo.jpg', { tags: 'sea,sun', title: 'Ça va? 東京' }, { 'X-API-Key': key })).body);
  uploads.push((await uploadFile(server.url, await makePng(100, 80), 'b.png', { album_id: server.ctx.ids.encode(child.id) }, { 'X-API-Key': key })).body);
  uploads.push((await uploadFile(server.url, await makePng(30, 30), 'later.png', { expiration: 'P3D', tags: 'sea' }, { 'X-API-Key': key })).body);
  expect(uploads.every((u) => u.status_code === 200)).toBe(true);
  const { token } = await createSession(server.ctx.db, userId, { ip: '127.0.0.1', userAgent: 'test' });
  // Stop the site (writes must stop before a copy), keeping its folder.
  await server.app.close();
  await server.ctx.close();
  return { key, token, uploads, childId: child.id, parentId: parent.id, sqliteUrl: `sqlite:${dataDir}/shoebox.sqlite` };
}

describe.skipIf(pgSkip)('shoebox copy-db (SQLite → PostgreSQL)', () => {
  let dataDir: string;
  let site: Awaited<ReturnType<typeof buildSqliteSite>>;
  const databases: TestPostgresDatabase[] = [];
  const freshDatabase = async () => {
    const database = await createPostgresDatabase();
    databases.push(database);
    return database;
  };

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-copydb-'));
    site = await buildSqliteSite(dataDir);
  });
  afterAll(async () => {
    await Promise.all(databases.map((d) => d.drop()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('moves the site: same links, same key, same session, and new ids continue after the copied ones', async () => {
    const target = await freshDatabase();
    const run = await runShoebox(['copy-db', '--to', target.url], { SHOEBOX_DATA_DIR: dataDir });
    expect(run.stderr).toContain('copy-db [');
    expect(run.stderr).toContain('100%');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Verified');
    expect(run.stdout).toMatch(/^images: 3 rows \(3 copied in this run\)$/m);

    let server: TestServer | null = null;
    try {
      // The same folder of files, now with the PostgreSQL database.
      server = await startTestServer({ SHOEBOX_DATA_DIR: dataDir, SHOEBOX_DATABASE_URL: target.url });
      for (const upload of site.uploads) {
        const origin = new URL(upload.image.url).origin;
        const file = await fetch(upload.image.url.replace(origin, server.url));
        expect(file.status).toBe(200);
        expect(Number(file.headers.get('content-length'))).toBe(upload.image.size);
        expect((await fetch(upload.image.url_viewer.replace(origin, server.url))).status).toBe(200);
      }
      const next = await uploadFile(server.url, await makePng(10, 10), 'after.png', {}, { 'X-API-Key': site.key });
      expect(next.status).toBe(200);
      const ids = site.uploads.map((u) => server!.ctx.ids.decode(u.image.id_encoded)!);
      expect(server.ctx.ids.decode(next.body.image.id_encoded)).toBeGreaterThan(Math.max(...ids));
      expect((await findSessionByToken(server.ctx.db, site.token))?.user.username).toBe('alice');
      const child = await server.ctx.db.selectFrom('albums').selectAll().where('id', '=', site.childId).executeTakeFirstOrThrow();
      expect(child.parent_id).toBe(site.parentId);
      // Tag counts (kept by triggers, 0019_tag_use_counts) are the source's: counted once as the links arrived, not copied too.
      const tags = await server.ctx.db.selectFrom('tags').select(['name', 'uses']).orderBy('name').execute();
      expect(tags.map((t) => [t.name, Number(t.uses)])).toEqual([['sea', 2], ['sun', 1]]);
      expect(await tagCloud(server.url)).toEqual([['sea', 2], ['sun', 1]]);
      // Title search works on the copy (pg_trgm index on the target, built as rows arrive).
      const found = await listImages(server.ctx.db, { kind: 'search', text: 'ÇA VA' }, { limit: 10 });
      expect(found.items.map((i) => i.title)).toEqual(['Ça va? 東京']);
      const page = await (await fetch(`${server.url}/search?q=${encodeURIComponent('ça va')}`)).text();
      expect(page).toContain('Ça va? 東京');
      // The title grams (0020_title_grams) are refilled by the target's trigger, one set per copied title.
      const titled = server.ctx.ids.decode(site.uploads[0].image.id_encoded)!;
      const grams = await sql<{ gram: string }>`select gram from title_grams where image_id = ${titled}`.execute(server.ctx.db);
      expect(grams.rows.map((r) => r.gram).sort()).toEqual(textGrams('ça va? 東京').sort());
    } finally {
      if (server) {
        await server.app.close();
        await server.ctx.close();
      }
    }
    // The target now holds a site: a second copy into it is refused.
    const again = await runShoebox(['copy-db', '--to', target.url], { SHOEBOX_DATA_DIR: dataDir });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('not empty');
  });

  it('resumes an interrupted copy where it stopped', async () => {
    const target = await freshDatabase();
    const stopAt = new Error('connection lost');
    await expect(
      copyDatabase({
        sourceUrl: site.sqliteUrl,
        targetUrl: target.url,
        batchSize: 1,
        progress: false,
        log: () => undefined,
        onBatch: (table, rows) => {
          if (table === 'images' && rows === 2) throw stopAt;
        },
      }),
    ).rejects.toBe(stopAt);
    const partial = openDatabase(target.url);
    try {
      expect((await partial.db.selectFrom('images').select('id').execute()).length).toBe(2);
    } finally {
      await partial.close();
    }
    const report = await copyDatabase({ sourceUrl: site.sqliteUrl, targetUrl: target.url, progress: false, log: () => undefined });
    expect(report.resumed).toBe(true);
    expect(report.tables.find((t) => t.name === 'images')).toEqual({ name: 'images', rows: 3, copied: 1 });
    expect(report.tables.find((t) => t.name === 'users')).toEqual({ name: 'users', rows: 2, copied: 0 });
    const resumed = openDatabase(target.url);
    try {
      expect(await tagCounts(resumed.db)).toEqual([['sea', 2], ['sun', 1]]);
    } finally {
      await resumed.close();
    }
  });

  it('copies the other way too, PostgreSQL → SQLite, checked the same way', async () => {
    const middle = await freshDatabase();
    await copyDatabase({ sourceUrl: site.sqliteUrl, targetUrl: middle.url, progress: false, log: () => undefined });
    const backUrl = `sqlite:${dataDir}/back.sqlite`;
    const report = await copyDatabase({ sourceUrl: middle.url, targetUrl: backUrl, progress: false, log: () => undefined });
    expect(report.tables.find((t) => t.name === 'images')?.copied).toBe(3);
    const back = openDatabase(backUrl);
    try {
      const child = await back.db.selectFrom('albums').selectAll().where('id', '=', site.childId).executeTakeFirstOrThrow();
      expect(child.parent_id).toBe(site.parentId);
      expect((await findSessionByToken(back.db, site.token))?.user.username).toBe('alice');
      expect(await tagCounts(back.db)).toEqual([['sea', 2], ['sun', 1]]);
      // copy-db leaves SQLite's search tables alone; the target's triggers index every copied title.
      const found = await listImages(back.db, { kind: 'search', text: 'ça va' }, { limit: 10 });
      expect(found.items.map((i) => i.title)).toEqual(['Ça va? 東京']);
    } finally {
      await back.close();
    }
  });

  it('refuses to call a copy good when the source changed under it', async () => {
    const target = await freshDatabase();
    await expect(
      copyDatabase({
        sourceUrl: site.sqliteUrl, targetUrl: target.url, batchSize: 1, progress: false, log: () => undefined,
        onBatch: (table) => {
          if (table === 'images') throw new Error('stop');
        },
      }),
    ).rejects.toThrow('stop');
    // The site was started again and someone edited a row that was already copied.
    const source = openDatabase(site.sqliteUrl);
    const before = await source.db.selectFrom('users').select('email').where('username', '=', 'alice').executeTakeFirstOrThrow();
    try {
      await source.db.updateTable('users').set({ email: 'changed@example.test' }).where('username', '=', 'alice').execute();
      const error = await copyDatabase({ sourceUrl: site.sqliteUrl, targetUrl: target.url, progress: false, log: () => undefined }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CopyDbError);
      expect((error as Error).message).toContain('users (same 2 rows, different contents)');
      // Running again resumes and finds the same difference; --restart starts the copy over.
      await expect(copyDatabase({ sourceUrl: site.sqliteUrl, targetUrl: target.url, progress: false, log: () => undefined })).rejects.toThrow(/different contents/);
      const redone = await copyDatabase({ sourceUrl: site.sqliteUrl, targetUrl: target.url, restart: true, progress: false, log: () => undefined });
      expect(redone.resumed).toBe(false);
      expect(redone.tables.find((t) => t.name === 'users')).toEqual({ name: 'users', rows: 2, copied: 2 });
    } finally {
      await source.db.updateTable('users').set({ email: before.email }).where('username', '=', 'alice').execute();
      await source.close();
    }
  });

  it('never copies into a different unfinished copy, nor into the source itself', async () => {
    const target = await freshDatabase();
    await expect(
      copyDatabase({ sourceUrl: site.sqliteUrl, targetUrl: target.url, progress: false, log: () => undefined, onBatch: () => { throw new Error('stop'); } }),
    ).rejects.toThrow('stop');
    const otherDir = await mkdtemp(path.join(tmpdir(), 'shoebox-copydb-other-'));
    try {
      const other = `sqlite:${otherDir}/other.sqlite`;
      await expect(copyDatabase({ sourceUrl: other, targetUrl: target.url, progress: false, log: () => undefined })).rejects.toThrow(/unfinished copy of sqlite:/);
      await expect(copyDatabase({ sourceUrl: site.sqliteUrl, targetUrl: site.sqliteUrl, progress: false, log: () => undefined })).rejects.toThrow(/same database/);
    } finally {
      await rm(otherDir, { recursive: true, force: true });
    }
    const usage = await runShoebox(['copy-db'], { SHOEBOX_DATA_DIR: dataDir });
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain('--to');
  });
});
