import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { registerTitleFunctions } from '../../src/db/title-fold.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { listAlbums, listImages, listImagesWithTag, neighboursIn } from '../../src/db/repositories/listings.js';
import { listPopular, listPublicAlbums } from '../../src/db/repositories/browse.js';
import type { Database } from '../../src/db/schema.js';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { tileLinks, WebClient } from './web-client.js';

describe('keyset pagination of the listings', () => {
  let server: TestServer;
  const uploaded: string[] = [];
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0' });
    const { key } = await server.createUserWithKey('prolific');
    for (let i = 0; i < 30; i++) {
      const res = await uploadFile(server.url, await makePng(20 + i, 20), `file-${i}.png`, { tags: 'many' }, { 'X-API-Key': key });
      uploaded.push(res.body.image.path_viewer);
    }
    uploaded.reverse(); // newest first, as the listings show them
  });
  afterAll(async () => {
    await server.close();
  });

  /** Follows "Older" links from `start` to the end, then "Newer" links back. */
  async function walk(start: string) {
    const browser = new WebClient(server.url);
    const pages: string[][] = [];
    let page = await browser.get(start);
    let html = page.text;
    for (;;) {
      expect(page.status).toBe(200);
      pages.push(tileLinks(html));
      const older = /<a class="button" rel="next" href="([^"]+)"/.exec(html);
      if (!older) break;
      page = await browser.get(older[1].replace(/&amp;/g, '&'));
      html = page.text;
    }
    const back: string[][] = [];
    for (let newer = /<a class="button" rel="prev" href="([^"]+)"/.exec(html); newer; newer = /<a class="button" rel="prev" href="([^"]+)"/.exec(html)) {
      html = (await browser.get(newer[1].replace(/&amp;/g, '&'))).text;
      back.unshift(tileLinks(html));
    }
    return { pages, back };
  }

  for (const start of ['/explore', '/prolific', '/tag/many', '/search?q=file']) {
    it(`walks ${start} 24 at a time, newest first, without gaps or repeats, and back`, async () => {
      const { pages, back } = await walk(start);
      expect(pages.map((p) => p.length)).toEqual([24, 6]);
      expect(pages.flat()).toEqual(uploaded);
      expect(back).toEqual([pages[0]]);
    });
  }

  it('walks /explore?sort=popular by views (ties newest first) 24 at a time, past any page limit, without gaps or repeats, and back', async () => {
    // Views 0..6 over the 30 files: the five files with one view straddle the page edge (4 on the first page, 1 on the second).
    const rows = await server.ctx.db.selectFrom('images').select('id').orderBy('id').execute();
    for (const [i, row] of rows.entries()) await server.ctx.db.updateTable('images').set({ views: i % 7 }).where('id', '=', row.id).execute();
    const byViews = rows.map((row, i) => ({ id: row.id, views: i % 7 })).sort((a, b) => b.views - a.views || b.id - a.id);
    const { pages, back } = await walk('/explore?sort=popular');
    expect(pages.map((p) => p.length)).toEqual([24, 6]);
    const idOf = (viewerPath: string) => server.ctx.ids.decode(viewerPath.split('.').pop()!.split('/').pop()!);
    expect(pages.flat().map(idOf)).toEqual(byViews.map((r) => r.id));
    expect(back).toEqual([pages[0]]);
    // The next page's link names views and id, not a page number.
    const html = (await new WebClient(server.url).get('/explore?sort=popular')).text;
    const last = byViews[23];
    expect([last.views, byViews[24].views]).toEqual([1, 1]);
    expect(html).toContain(`rel="next" href="/explore?sort=popular&amp;before=${last.views}.${server.ctx.ids.encode(last.id)}"`);
    expect((await new WebClient(server.url).get('/explore?sort=popular&before=nonsense')).status).toBe(200);
  });

  it('shows the first page for a cursor past the newest item, and an empty last page cleanly', async () => {
    const browser = new WebClient(server.url);
    const first = tileLinks((await browser.get('/explore')).text);
    const newest = server.ctx.ids.encode(999_999);
    expect(tileLinks((await browser.get(`/explore?after=${newest}`)).text)).toEqual(first);
    const oldest = server.ctx.ids.encode(1);
    const empty = await browser.get(`/explore?before=${oldest}`);
    expect(empty.status).toBe(200);
    expect(tileLinks(empty.text)).toEqual([]);
    expect((await browser.get('/explore?before=not-an-id!')).status).toBe(200);
  });
});

describe('listing queries at scale', () => {
  let dir: string;
  let raw: SqliteDatabase.Database;
  let db: Kysely<Database>;
  const captured: CompiledQuery[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'shoebox-plan-'));
    const file = path.join(dir, 'plan.sqlite');
    const handle = openDatabase(`sqlite:${file}`);
    await migrateToLatest(handle);
    await handle.close();
    raw = new SqliteDatabase(file);
    // As database.ts does for every connection: title search's check (title-fold.ts).
    registerTitleFunctions(raw);
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }), log: (event) => {
      captured.push(event.query);
    } });
  });
  afterAll(async () => {
    await db.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  /** SQLite's plan for the last query a listing ran: every step must use an index, none may sort. */
  async function planOf(run: () => Promise<unknown>, which = /order by/i): Promise<string> {
    captured.length = 0;
    await run();
    const query = captured.find((q) => which.test(q.sql))!;
    const rows = raw.prepare(`explain query plan ${query.sql}`).all(...(query.parameters as unknown[])) as { detail: string }[];
    return rows.map((r) => r.detail).join('\n');
  }

  const page = { before: 1000, limit: 24 };
  it.each([
    ['explore', () => listImages(db, { kind: 'explore' }, page), 'images_listed_id'],
    ['a profile, as a visitor', () => listImages(db, { kind: 'user', userId: 1, includeUnlisted: false }, page), 'images_user_listed_id'],
    ['a profile, as its owner', () => listImages(db, { kind: 'user', userId: 1, includeUnlisted: true }, page), 'images_user'],
    ['an album', () => listImages(db, { kind: 'album', albumId: 1 }, page), 'images_album_id'],
    ['a tag', () => listImagesWithTag(db, 1, page), 'image_tags_tag_id'],
    ['albums of a user', () => listAlbums(db, { kind: 'user', userId: 1, includeHidden: false }, page), 'albums_user_listed_id'],
    ['sub-albums', () => listAlbums(db, { kind: 'children', parentId: 1, includeHidden: true }, page), 'albums_parent_id'],
    ['popular, from a cursor', () => listPopular(db, { before: { views: 50, id: 1000 }, limit: 24 }), 'images_listed_views_id'],
    ['popular videos, from a cursor', () => listPopular(db, { before: { views: 50, id: 1000 }, limit: 24 }, 'video'), 'images_type_listed_views_id'],
    ['public albums', () => listPublicAlbums(db, 1000, 24), 'albums_listed_id'],
    ['the viewer’s next within an album', () => neighboursIn(db, { kind: 'album', albumId: 1 }, 1000), 'images_album_id'],
    ['the viewer’s previous within a profile', () => neighboursIn(db, { kind: 'user', userId: 1, includeUnlisted: false }, 1000), 'images_user_listed_id'],
  ])('%s walks an index in id order (no scan, no sort)', async (_name, run, index) => {
    const plan = await planOf(run);
    expect(plan).toContain(`INDEX ${index}`);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    expect(plan).not.toMatch(/^SCAN (images|albums|image_tags)$/m);
  });

  it('search by title walks the trigram index newest first and joins each image by its key (no scan, no sort)', async () => {
    // (Its first query, once per database, is the sample of titles sqlite-title-search.ts judges trigrams by.)
    const plan = await planOf(() => listImages(db, { kind: 'search', text: 'sunset' }, page), /images_title_fts match/i);
    expect(plan).toMatch(/SCAN images_title_fts VIRTUAL TABLE INDEX/);
    expect(plan).toMatch(/SEARCH images USING INTEGER PRIMARY KEY/);
    expect(plan).not.toMatch(/TEMP B-TREE/);
    expect(plan).not.toMatch(/^SCAN (images|albums|image_tags)$/m);
  });
});
