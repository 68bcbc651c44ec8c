import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/config/settings.js';
import type { ImportReport } from '../../src/import/chevereto-import.js';
import { testDialects, type TestDialect } from '../support/databases.js';
import { createMariaDatabase, mariadbSkipReason, type TestMariaDatabase } from '../support/mariadb.js';
import { freePort, testSettings } from '../support/server.js';
import { WebClient } from '../web/web-client.js';
import { buildChevereto3Site, type CheveretoSite } from './chevereto-site.js';
import { land, md5, runImport, serve, type Site } from './import-helpers.js';

const skip = await mariadbSkipReason();
const dialects = skip ? [] : await testDialects();

/**
 * Chevereto 3.x (Chevereto-Free 1.6's install SQL, test/import/chevereto-schema.ts): the same
 * import, from a database without variables, login_passwords, api_keys, images_hash or tags.
 */
describe.skipIf(skip).each(dialects.length ? dialects : [{ name: 'sqlite' } as TestDialect])('import-chevereto: a Chevereto 3 (Free) site into $name', (dialect) => {
  let maria: TestMariaDatabase;
  let database: { url: string; drop(): Promise<void> };
  let work: string;
  let imagesDir: string;
  let settings: Settings;
  let old: CheveretoSite & { siteKey: string };
  let site: Site;
  let dry: ImportReport;
  let report: ImportReport;
  let rerun: ImportReport;

  beforeAll(async () => {
    maria = await createMariaDatabase();
    work = await mkdtemp(path.join(tmpdir(), 'shoebox-import3-'));
    imagesDir = path.join(work, 'chevereto', 'images');
    old = await buildChevereto3Site(maria, imagesDir);
    database = await dialect.create(work);
    settings = testSettings(path.join(work, 'shoebox'), await freePort(), { SHOEBOX_DATABASE_URL: database.url });
    dry = await runImport(settings, { from: maria.url, imagesDir, dryRun: true });
    report = await runImport(settings, { from: maria.url, imagesDir });
    rerun = await runImport(settings, { from: maria.url, imagesDir });
    site = await serve(settings);
  }, 180_000);

  afterAll(async () => {
    await site?.close();
    await database?.drop();
    await maria?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports what a 3.x database holds, reports what it cannot, and a second run adds nothing', () => {
    for (const r of [dry, report]) {
      expect(r.counts.users).toMatchObject({ found: 3, imported: 3, skipped: 0 });
      expect(r.counts.avatars).toMatchObject({ found: 1, imported: 1 });
      expect(r.counts.albums).toMatchObject({ found: 2, imported: 2 });
      expect(r.counts.images).toMatchObject({ found: 5, imported: 4, skipped: 1 });
      expect(r.counts.categories).toMatchObject({ found: 1, imported: 1 });
      expect(r.counts.deletions).toMatchObject({ found: 1, imported: 1 });
      expect(r.counts.apiKeys.found).toBe(0);
      // The guest file had neither thumb nor medium on disk.
      expect(r.regenerated).toBe(2);
      expect(r.externalStorage).toEqual([
        { id: 1, name: 'Minio', type: 's3compatible', bucket: 'free-images', url: 'https://cdn.free.example/', files: 2, found: 1, missing: 1 },
      ]);
      expect(r.problems).toEqual([expect.objectContaining({ kind: 'image', id: 5, problem: expect.stringMatching(/external storage "Minio"/) })]);
      // 3.x's one site-wide key uploads as a guest: Shoebox's guest key is the same thing.
      expect(r.suggestedSettings).toMatchObject({ SHOEBOX_GUEST_API_KEY: old.siteKey, SHOEBOX_TIMEZONE: 'Europe/Athens' });
    }
    expect(rerun.counts.images).toMatchObject({ imported: 0, alreadyImported: 4, skipped: 1 });
    expect(rerun.counts.users).toMatchObject({ imported: 0, alreadyImported: 3 });
  });

  it('keeps ids (salt and padding from settings), local date folders and categories', async () => {
    expect(site.ctx.ids.encode(1)).toBe(old.files.cat.encoded);
    const rows = await site.ctx.db.selectFrom('images').select(['id', 'folder', 'category_id', 'album_id']).orderBy('id').execute();
    expect(rows.map((r) => [Number(r.id), r.folder, r.category_id === null ? null : Number(r.category_id)])).toEqual([
      [1, '2019/05/02', 1], [2, '2019/05/03', null], [3, '2019/05/04', 1], [4, '2019/05/05', null],
    ]);
    const category = await site.ctx.db.selectFrom('categories').selectAll().executeTakeFirstOrThrow();
    expect(category).toMatchObject({ name: 'Animals', url_key: 'animals' });
  });

  it('serves the files byte for byte at their old paths, the missing thumb and medium made again', async () => {
    for (const key of ['cat', 'bucket']) {
      const file = old.files[key];
      for (const [role, p] of Object.entries(file.paths)) {
        const res = await fetch(`${site.url}/images/${p}`);
        expect(res.status, `${key} ${role}`).toBe(200);
        expect(md5(Buffer.from(await res.arrayBuffer())), `${key} ${role}`).toBe(md5(file.bytes[role]));
      }
    }
    const guest = old.files.guest;
    const thumb = await sharp(Buffer.from(await (await fetch(`${site.url}/images/${guest.paths.th}`)).arrayBuffer())).metadata();
    expect([thumb.format, thumb.width, thumb.height]).toEqual(['jpeg', 160, 160]);
    const medium = await sharp(Buffer.from(await (await fetch(`${site.url}/images/${guest.paths.md}`)).arrayBuffer())).metadata();
    expect([medium.format, medium.width]).toEqual(['jpeg', 500]);
    expect((await fetch(`${site.url}/images/${old.files.away.paths.image}`)).status).toBe(404);
  });

  it('answers the old URLs', async () => {
    const browser = new WebClient(site.url);
    const cat = old.files.cat.encoded;
    const cats = old.codec.encode(old.albums.cats);
    for (const [shape, content] of [
      [`/image/${cat}`, /The cat/],
      [`/image/the-cat.${cat}`, /The cat/],
      [`/album/${cats}`, /Cats/],
      [`/album/cats.${cats}`, /Cats/],
      ['/admin', /admin/],
      ['/admin/albums', /Cats/],
      ['/category/animals', new RegExp(`[./]${cat}"`)],
    ] as const) {
      const answer = await land(browser, shape);
      expect(answer.status, shape).toBe(200);
      expect(answer.text, shape).toMatch(content);
    }
  });

  it('signs users in with their 3.x passwords; the banned one comes over disabled; the manager is a manager', async () => {
    expect((await new WebClient(site.url).login('admin', old.passwords.admin)).status).toBe(303);
    expect((await new WebClient(site.url).login('troll', old.passwords.troll)).status).toBe(403);
    const mona = new WebClient(site.url);
    expect((await mona.login('mona', old.passwords.mona)).status).toBe(303);
    expect((await mona.get('/dashboard/users')).status).toBe(200);
    expect((await mona.get('/dashboard/settings')).status).toBe(403);
  });

  it('opens the password album with the password 3.x stored as typed', async () => {
    const browser = new WebClient(site.url);
    const locked = old.codec.encode(old.albums.locked);
    await browser.get(`/album/${locked}`);
    const thumbName = old.files.locked.paths.th.split('/').pop()!;
    expect((await land(browser, `/album/${locked}`)).text).not.toContain(thumbName);
    const right = await browser.post(`/album/${locked}/unlock`, { password: old.albumPassword });
    expect([301, 302, 303]).toContain(right.status);
    expect((await land(browser, `/album/${locked}`)).text).toContain(thumbName);
  });

  it('brings the avatar from content/images/users/<encoded id>/', async () => {
    const profile = await land(new WebClient(site.url), '/mona');
    const src = /<img class="avatar-image avatar-big" src="([^"]+)"/.exec(profile.text)?.[1];
    expect(src).toMatch(/^\/avatars\/2-[A-Za-z0-9_-]+\.webp$/);
    const res = await fetch(`${site.url}${src}`);
    expect(res.status).toBe(200);
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format).toBe('webp');
  });
});
