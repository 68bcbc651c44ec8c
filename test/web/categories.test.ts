import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPostgres } from '../../src/db/dialect.js';
import { uploadFile } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { FileOrigin, uploadVia, WAYS_IN } from '../moderation/ways-in.js';
import { createAlbum, memberWithKey, tileLinks, WebClient } from './web-client.js';

let seed = 8200;
const picture = () => makeVariedImage(seed++, { width: 160, height: 120 });

describe('categories: managed by admins, named by uploads and edits, with their pages and explore filter', () => {
  let server: TestServer;
  let origin: FileOrigin;
  let admin: WebClient;
  let alice: { browser: WebClient; key: string };
  let landscapes: number;
  let cats: number;

  const categoryOf = async (idEncoded: string) =>
    (await server.ctx.db.selectFrom('images').select('category_id').where('id', '=', server.ctx.ids.decode(idEncoded)!).executeTakeFirstOrThrow()).category_id;
  const v4 = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, { method, headers: { 'X-API-Key': alice.key, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: await res.json() };
  };

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_GUEST_API_UPLOADS: '1' });
    origin = await new FileOrigin().start();
    ({ browser: admin } = await memberWithKey(server.url, 'boss'));
    alice = await memberWithKey(server.url, 'alice');
  });
  afterAll(async () => {
    await origin.stop();
    await server.close();
  });

  it('an admin creates, checks and edits categories in the dashboard; every change is in the audit log', async () => {
    const empty = await admin.get('/dashboard/categories');
    expect(empty.status).toBe(200);
    expect(empty.text).toContain('No categories yet.');
    const made = await admin.post('/dashboard/categories', { name: 'Landscapes', url_key: 'landscapes', description: 'Hills, seas and skies' });
    expect(made.status).toBe(303);
    expect((await admin.get(made.location!)).text).toContain('Category saved.');
    expect((await admin.post('/dashboard/categories', { name: 'Kittens', url_key: 'kittens', description: '' })).status).toBe(303);

    const badSlug = await admin.post('/dashboard/categories', { name: 'Bad', url_key: 'Bad slug!', description: '' });
    expect(badSlug.status).toBe(400);
    expect(badSlug.text).toContain('The URL key may have lower-case letters, digits and hyphens');
    expect(badSlug.text).toContain('value="Bad slug!"');
    const taken = await admin.post('/dashboard/categories', { name: 'Other', url_key: 'landscapes', description: '' });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain('Another category has that URL key.');
    expect((await admin.post('/dashboard/categories', { name: '', url_key: 'x', description: '' })).status).toBe(400);

    const rows = await server.ctx.db.selectFrom('categories').selectAll().orderBy('id').execute();
    expect(rows.map((r) => r.url_key)).toEqual(['landscapes', 'kittens']);
    [landscapes, cats] = rows.map((r) => r.id);
    const form = await admin.get(`/dashboard/categories/${cats}`);
    expect(form.text).toContain('value="kittens"');
    expect((await admin.post(`/dashboard/categories/${cats}`, { name: 'Cats', url_key: 'cats', description: 'Mostly asleep' })).status).toBe(303);
    expect((await admin.post(`/dashboard/categories/${cats}`, { name: 'Cats', url_key: 'landscapes', description: '' })).status).toBe(409);
    expect((await server.ctx.db.selectFrom('categories').select('url_key').where('id', '=', cats).executeTakeFirstOrThrow()).url_key).toBe('cats');

    const audit = await server.ctx.db.selectFrom('audit_log').select(['actor', 'action', 'detail']).orderBy('id').execute();
    expect(audit).toEqual([
      { actor: 'boss', action: 'category.create', detail: 'Landscapes (landscapes)' },
      { actor: 'boss', action: 'category.create', detail: 'Kittens (kittens)' },
      { actor: 'boss', action: 'category.edit', detail: 'Cats (cats)' },
    ]);
    // Users and visitors have no such screen.
    expect((await alice.browser.get('/dashboard/categories')).status).toBe(403);
  });

  it('every way in takes category_id; an unknown one is a 400 in the envelope and stores nothing', async () => {
    for (const way of WAYS_IN) {
      const out = await uploadVia(way, server.url, origin, await picture(), { key: alice.key, fields: { category_id: String(landscapes), title: `Hill via ${way}` } });
      expect(out.status, way).toBe(200);
      expect(await categoryOf(out.body.image.id_encoded), way).toBe(landscapes);
      const before = (await server.ctx.db.selectFrom('images').select('id').execute()).length;
      const refused = await uploadVia(way, server.url, origin, await picture(), { key: alice.key, fields: { category_id: '9999' } });
      expect(refused.status, way).toBe(400);
      expect(refused.body.status_code, way).toBe(400);
      expect(refused.body.error.message, way).toBe('Invalid category_id: there is no category 9999');
      expect((await server.ctx.db.selectFrom('images').select('id').execute()).length, way).toBe(before);
    }
    const answer = await uploadFile(server.url, await picture(), 'c.jpg', { category_id: String(cats), title: 'Sleeping cat' }, { 'X-API-Key': alice.key });
    expect(answer.body.image.category_id).toBe(cats);
    // The web uploader offers the categories (to guests too).
    const config = JSON.parse((await alice.browser.get('/upload/config.json')).text);
    expect(config.categories).toEqual([{ id: String(cats), name: 'Cats' }, { id: String(landscapes), name: 'Landscapes' }]);
  }, 120_000);

  it('the V4 PATCH and the viewer\'s edit form set, change and clear a category; an unknown id is refused', async () => {
    const file = (await uploadFile(server.url, await picture(), 'e.jpg', { title: 'Editable' }, { 'X-API-Key': alice.key })).body.image;
    const patched = await v4('PATCH', `/api/4/user/images/${file.id_encoded}/`, { category_id: landscapes });
    expect(patched.status).toBe(200);
    expect(patched.body.image.category_id).toBe(landscapes);
    const unknown = await v4('PATCH', `/api/4/user/images/${file.id_encoded}/`, { category_id: '424242' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toBe('Invalid category_id: there is no category 424242');
    expect(await categoryOf(file.id_encoded)).toBe(landscapes);
    const cleared = await v4('PATCH', `/api/4/user/images/${file.id_encoded}/`, { category_id: null });
    expect(cleared.status, JSON.stringify(cleared.body)).toBe(200);
    expect(cleared.body.image.category_id).toBeNull();

    const viewer = await alice.browser.get(file.path_viewer);
    expect(viewer.text).toContain('<select name="category">');
    const fields = { title: 'Editable', description: '', tags: '', album: '' };
    expect((await alice.browser.post(`${file.path_viewer}/edit`, { ...fields, category: String(cats) })).status).toBe(303);
    expect(await categoryOf(file.id_encoded)).toBe(cats);
    expect((await alice.browser.get(file.path_viewer)).text).toMatch(new RegExp(`<option value="${cats}" selected>Cats</option>`));
    expect((await alice.browser.post(`${file.path_viewer}/edit`, { ...fields, category: '777' })).status).toBe(400);
    expect(await categoryOf(file.id_encoded)).toBe(cats);
    expect((await alice.browser.post(`${file.path_viewer}/edit`, { ...fields, category: '' })).status).toBe(303);
    expect(await categoryOf(file.id_encoded)).toBeNull();
  });

  it('/category/<url_key> lists the public files of a category, newest first, paged; explore filters by category', async () => {
    const hidden = await createAlbum(alice.browser, { name: 'Private hills', privacy: 'private' });
    const secret = (await uploadFile(server.url, await picture(), 'p.jpg', { category_id: String(landscapes), album_id: hidden }, { 'X-API-Key': alice.key })).body.image;
    for (let i = 0; i < 24; i++) await uploadFile(server.url, await picture(), 'm.jpg', { category_id: String(landscapes) }, { 'X-API-Key': alice.key });

    const visitor = new WebClient(server.url);
    const page = await visitor.get('/category/landscapes');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Landscapes</h1>');
    expect(page.text).toContain('Hills, seas and skies');
    expect(/data-total="\d+"/.exec(page.text)?.[0]).toBe('data-total="28"'); // four ways in + 24, not the private one
    const first = tileLinks(page.text);
    expect(first).toHaveLength(24);
    expect(first.some((href) => href.includes(secret.id_encoded))).toBe(false);
    const older = /href="([^"]*\/category\/landscapes\?before=[^"]+)"/.exec(page.text);
    expect(older).not.toBeNull();
    const second = tileLinks((await visitor.get(older![1].replace(/&amp;/g, '&'))).text);
    expect(second).toHaveLength(4);
    expect(second.some((href) => first.includes(href))).toBe(false);
    expect((await visitor.get('/category/nope')).status).toBe(404);

    const explore = await visitor.get('/explore?category=cats');
    expect(explore.text).toContain('Explore: Cats');
    expect(explore.text).toContain('<option value="cats" selected>Cats</option>');
    expect(tileLinks(explore.text)).toHaveLength(1);
    expect(tileLinks((await visitor.get('/explore?category=cats&sort=popular')).text)).toHaveLength(1);
    expect((await visitor.get('/explore')).text).toContain('<option value="">All categories</option>');

    if (isPostgres(server.ctx.db)) {
      // A table this small is read whole; with sequential scans ruled out, the plan must find the index.
      const plan = await server.ctx.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        return (await sql<{ 'QUERY PLAN': string }>`explain select * from images where category_id = ${landscapes} and listed = 1 order by id desc limit 25`.execute(trx)).rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Scan Backward using images_category_listed_id/);
    } else {
      const plan = (await sql.raw<{ detail: string }>(`explain query plan select * from images where category_id = ${landscapes} and listed = 1 order by id desc limit 25`).execute(server.ctx.db)).rows.map((r) => r.detail).join('\n');
      expect(plan).toMatch(/USING INDEX images_category_listed_id/);
    }
  }, 120_000);

  it('deleting a category (confirmed) keeps its files, without a category', async () => {
    expect((await admin.post(`/dashboard/categories/${cats}/delete`, {})).status).toBe(400);
    const deleted = await admin.post(`/dashboard/categories/${cats}/delete`, { confirm: 'yes' });
    expect(deleted.status).toBe(303);
    expect((await admin.get(deleted.location!)).text).toContain('Category deleted.');
    expect((await new WebClient(server.url).get('/category/cats')).status).toBe(404);
    expect(await server.ctx.db.selectFrom('images').select('id').where('category_id', '=', cats).execute()).toEqual([]);
    expect((await server.ctx.db.selectFrom('images').select('id').where('title', '=', 'Sleeping cat').execute())).toHaveLength(1);
    const entry = await server.ctx.db.selectFrom('audit_log').select(['action', 'detail']).where('action', '=', 'category.delete').executeTakeFirstOrThrow();
    expect(entry.detail).toBe('Cats (cats), 1 files kept without a category');
  });
});
