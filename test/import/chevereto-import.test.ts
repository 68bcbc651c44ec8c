import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/config/settings.js';
import type { ImportReport } from '../../src/import/chevereto-import.js';
import { testDialects, type TestDialect } from '../support/databases.js';
import { createMariaDatabase, mariadbSkipReason, type TestMariaDatabase } from '../support/mariadb.js';
import { freePort, testSettings } from '../support/server.js';
import { WebClient } from '../web/web-client.js';
import { buildCommunitySite, type CheveretoSite } from './chevereto-site.js';
import { land, md5, runImport, serve, type Site } from './import-helpers.js';
import { createAppContext } from '../../src/context.js';
import { createUser } from '../../src/db/repositories/users.js';
import { formatImportReport } from '../../src/cli/import-chevereto.js';
import { claimImportedFileName } from '../../src/db/repositories/chevereto-import.js';

const skip = await mariadbSkipReason();
// SQLite always; PostgreSQL when it is reachable (always under CI). S3 is covered by chevereto-personal.test.ts.
const dialects = skip ? [] : await testDialects();

describe.skipIf(skip).each(dialects.length ? dialects : [{ name: 'sqlite' } as TestDialect])('import-chevereto: a community site into $name and local storage', (dialect) => {
  let maria: TestMariaDatabase;
  let database: { url: string; drop(): Promise<void> };
  let work: string;
  let imagesDir: string;
  let settings: Settings;
  let old: CheveretoSite;
  let site: Site;
  let first: ImportReport;
  let rerun: ImportReport;
  let dry: ImportReport;

  beforeAll(async () => {
    maria = await createMariaDatabase();
    work = await mkdtemp(path.join(tmpdir(), 'shoebox-import-'));
    imagesDir = path.join(work, 'chevereto', 'images');
    old = await buildCommunitySite(maria, imagesDir);
    const port = await freePort();
    database = await dialect.create(work);
    // The same thumb box and medium width as the old site, so a new upload's derivatives can be compared with re-made ones.
    settings = testSettings(path.join(work, 'shoebox'), port, { SHOEBOX_DATABASE_URL: database.url, SHOEBOX_THUMB_SIZE: '160x160', SHOEBOX_MEDIUM_WIDTH: '500' });
    const options = { from: maria.url, imagesDir, batchSize: 3 };
    dry = await runImport(settings, { ...options, dryRun: true });
    // Stopped half-way (after the first batch of files), then run again: it carries on.
    await expect(
      runImport(settings, {
        ...options,
        onBatch: (kind) => {
          if (kind === 'images') throw new Error('stopped');
        },
      }),
    ).rejects.toThrow('stopped');
    first = await runImport(settings, options);
    rerun = await runImport(settings, options);
    site = await serve(settings);
  }, 180_000);

  afterAll(async () => {
    await site?.close();
    await database?.drop();
    await maria?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a dry run reports what it would do and writes nothing', async () => {
    expect(dry.dryRun).toBe(true);
    expect(dry.counts.images).toMatchObject({ found: 10, imported: 8, skipped: 2 });
    expect(dry.counts.users.imported).toBe(5);
    expect(dry.counts.avatars).toMatchObject({ found: 1, imported: 1, skipped: 0 });
    // The guest file's medium, bob's thumb and the clip's frame are missing on disk.
    expect(dry.regenerated).toBe(3);
    expect(dry.problems.some((p) => p.kind === 'image' && p.id === 7 && /missing/.test(p.problem))).toBe(true);
  });

  it('resumes after a stop, and a finished import run again adds nothing', async () => {
    expect(first.counts.images.alreadyImported).toBe(3);
    expect(first.counts.images.imported).toBe(5);
    expect(rerun.counts.images).toMatchObject({ found: 10, imported: 0, alreadyImported: 8, skipped: 2 });
    expect(rerun.counts.users).toMatchObject({ imported: 0, alreadyImported: 5 });
    expect(rerun.counts.avatars).toMatchObject({ imported: 0, alreadyImported: 1 });
    expect(rerun.counts.albums).toMatchObject({ imported: 0, alreadyImported: 6 });
    const count = await site.ctx.db.selectFrom('images').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(8);
    expect(first.suggestedSettings.SHOEBOX_TIMEZONE).toBe('America/Santiago');
  });

  it('keeps ids, so encoded ids are the old ones', async () => {
    expect(site.ctx.ids.encode(1)).toBe(old.files.sunset.encoded);
    const row = await site.ctx.db.selectFrom('images').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ folder: '2023/12/31', date_gmt: '2024-01-01 01:30:00', date_local: '2023-12-31 22:30:00', original_filename: 'sunset-original.jpg', views: 11, category_id: 1 });
  });

  it('counts the imported tags of public files for /tags (the running counts, 0019_tag_use_counts)', async () => {
    const db = site.ctx.db;
    const counted = await db.selectFrom('tags').select(['name', 'uses']).where('uses', '>', 0).orderBy('name').execute();
    const recounted = await db
      .selectFrom('image_tags')
      .innerJoin('images', 'images.id', 'image_tags.image_id')
      .innerJoin('tags', 'tags.id', 'image_tags.tag_id')
      .where('images.listed', '=', 1)
      .select((eb) => ['tags.name', eb.fn.countAll<number>().as('n')])
      .groupBy('tags.name')
      .orderBy('tags.name')
      .execute();
    expect(counted.length).toBeGreaterThan(0);
    expect(counted.map((t) => [t.name, Number(t.uses)])).toEqual(recounted.map((t) => [t.name, Number(t.n)]));
    const page = await (await fetch(`${site.url}/tags`)).text();
    for (const t of counted) expect(page).toContain(`<a href="/tag/${t.name}">#${t.name}</a> <span class="muted small">${t.uses} file`);
  });

  it('serves every file byte for byte at the path Chevereto served it from, a missing derivative made again', async () => {
    const browser = new WebClient(site.url);
    for (const key of ['sunset', 'shells', 'guest', 'clip', 'synced']) {
      const file = old.files[key];
      for (const [role, p] of Object.entries(file.paths)) {
        const res = await fetch(`${site.url}/images/${p}`);
        expect(res.headers.get('content-type'), p).toMatch(/^(image|video)\//);
        expect(res.status, `${key} ${role} ${p}`).toBe(200);
        const body = Buffer.from(await res.arrayBuffer());
        if (file.bytes[role]) {
          expect(md5(body), `${key} ${role}`).toBe(md5(file.bytes[role]));
        } else {
          // Made again: a real JPEG/PNG of the right kind.
          const { default: sharp } = await import('sharp');
          const meta = await sharp(body).metadata();
          expect(meta.format, `${key} ${role}`).toBe(p.endsWith('.png') ? 'png' : 'jpeg');
          if (role === 'md') expect(meta.width).toBe(500);
          if (role === 'fr') expect([meta.width, meta.height]).toEqual([320, 240]);
        }
      }
    }
    expect((await land(browser, `/images/${old.files.lost.paths.image}`)).status).toBe(404);
  });

  it('answers every URL shape Chevereto handed out (a page or a redirect to it, never a 404)', async () => {
    const browser = new WebClient(site.url);
    const sunset = old.files.sunset.encoded;
    const clip = old.files.clip.encoded;
    const holidays = old.codec.encode(old.albums.holidays);
    const shapes: [string, RegExp][] = [
      [`/image/${sunset}`, /Sunset at the beach/],
      [`/image/sunset-at-the-beach.${sunset}`, /Sunset at the beach/],
      [`/image/anything-at-all.${sunset}`, /Sunset at the beach/],
      [`/image/${sunset}/`, /Sunset at the beach/],
      [`/video/${clip}`, /A short clip/],
      [`/video/a-short-clip.${clip}`, /A short clip/],
      [`/image/${clip}`, /A short clip/],
      [`/album/${holidays}`, /Holidays/],
      [`/album/holidays.${holidays}`, /Holidays/],
      [`/album/${holidays}/`, /Holidays/],
      [`/album/${holidays}/embeds`, /Holidays/],
      [`/album/${holidays}/sub`, /Beach/],
      [`/tag/sunset`, new RegExp(sunset)],
      // Chevereto's category page, /category/<url_key>: the imported category with its files.
      [`/category/nature`, new RegExp(`[./]${sunset}"`)],
      [`/alice`, /alice/],
      [`/alice/albums`, /Holidays/],
    ];
    for (const [shape, content] of shapes) {
      const answer = await land(browser, shape);
      expect(answer.status, shape).toBe(200);
      expect(answer.text, shape).toMatch(content);
    }
    // The video's canonical page is under /video/.
    expect((await land(browser, `/image/${clip}`)).path).toMatch(/^\/video\//);
  });

  it('brings privacy over exactly: private stays hidden, password stays locked, unlisted stays unlisted', async () => {
    const browser = new WebClient(site.url);
    const diary = old.files.diary;
    expect((await land(browser, `/image/${diary.encoded}`)).status).toBe(404);
    expect((await fetch(`${site.url}/images/${diary.paths.image}`)).status).toBe(404);
    expect((await land(browser, `/album/${old.codec.encode(old.albums.diary)}`)).status).toBe(404);
    const plans = old.files.plans;
    const locked = await land(browser, `/image/${plans.encoded}`);
    expect(locked.text).not.toContain(plans.paths.image.split('/').pop()!);
    expect(locked.text).not.toContain(plans.paths.th.split('/').pop()!);
    expect((await fetch(`${site.url}/images/${plans.paths.image}`)).status).not.toBe(200);
    const link = await land(browser, `/album/${old.codec.encode(old.albums.link)}`);
    expect(link.status).toBe(200);
    const profile = await land(browser, '/alice/albums');
    expect(profile.text).toContain('Holidays');
    expect(profile.text).not.toContain('For friends');
    expect(profile.text).not.toContain('Diary');
    expect(profile.text).not.toContain('Secret plans');
    // Bob's profile was private: not there for others, and his files do not name him.
    expect((await land(browser, '/bob')).status).toBe(404);
    expect((await land(browser, '/bob/albums')).status).toBe(404);
    const bobs = await land(browser, `/image/${old.files.bobs.encoded}`);
    expect(bobs.status).toBe(200);
    expect(bobs.text).not.toContain('href="/bob"');
    expect((await land(browser, `/image/${old.files.shells.encoded}`)).text).toContain('href="/alice"');
    const bobsAlbum = await land(browser, `/album/${old.codec.encode(old.albums.bobs)}`);
    expect(bobsAlbum.status).toBe(200);
    expect(bobsAlbum.text).not.toContain('href="/bob?tab=albums"');
    expect((await land(browser, `/album/${old.codec.encode(old.albums.holidays)}`)).text).toContain('href="/alice?tab=albums"');
    const explore = await land(browser, '/explore');
    // Encoded ids are short: look for them as the end of a viewer link.
    const linked = (encoded: string) => new RegExp(`[./]${encoded}"`).test(explore.text);
    expect(linked(plans.encoded)).toBe(false);
    expect(linked(diary.encoded)).toBe(false);
    expect(linked(old.files.bobs.encoded)).toBe(false);
    expect(linked(old.files.shells.encoded)).toBe(true);
  });

  it('opens a password album with its old password', async () => {
    const browser = new WebClient(site.url);
    const secret = old.codec.encode(old.albums.secret);
    await browser.get(`/album/${secret}`);
    const wrong = await browser.post(`/album/${secret}/unlock`, { password: 'not it' });
    expect(wrong.status).not.toBe(303);
    await browser.get(`/album/${secret}`);
    const right = await browser.post(`/album/${secret}/unlock`, { password: old.albumPassword });
    expect([301, 302, 303]).toContain(right.status);
    const page = await land(browser, `/album/${secret}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(old.files.plans.encoded);
  });

  it('signs users in with their old passwords, then keeps Shoebox\'s own hash', async () => {
    const before = await site.ctx.db.selectFrom('users').select('password_hash').where('username', '=', 'alice').executeTakeFirstOrThrow();
    expect(before.password_hash.startsWith('$2y$')).toBe(true);
    const wrong = await new WebClient(site.url).login('alice', 'not her password');
    expect(wrong.status).toBe(401);
    const browser = new WebClient(site.url);
    const signedIn = await browser.login('alice', old.passwords.alice);
    expect(signedIn.status).toBe(303);
    const after = await site.ctx.db.selectFrom('users').select('password_hash').where('username', '=', 'alice').executeTakeFirstOrThrow();
    expect(after.password_hash.startsWith('$argon2')).toBe(true);
    // The same password keeps working against the new hash; the owner sees the private album.
    const again = new WebClient(site.url);
    expect((await again.login('alice', old.passwords.alice)).status).toBe(303);
    expect((await land(again, `/album/${old.codec.encode(old.albums.diary)}`)).status).toBe(200);
    // A user without a password (social sign-in on the old site) cannot sign in with an empty one.
    expect((await new WebClient(site.url).login('carol', '')).status).toBe(401);
  });

  it('keeps an old API key uploading as its owner, moved to Shoebox\'s hash on first use; new ids come after every old one', async () => {
    const upload = async (key: string) => {
      const form = new FormData();
      form.set('source', new Blob([new Uint8Array(await sharpPng())], { type: 'image/png' }), 'new.png');
      return fetch(`${site.url}/api/1/upload`, { method: 'POST', headers: { 'X-API-Key': key }, body: form });
    };
    // bcrypt reads the first 72 bytes (PHP's password_verify too): change one inside them.
    const flipped = old.apiKey[40] === 'a' ? 'b' : 'a';
    const forged = await upload(`${old.apiKey.slice(0, 40)}${flipped}${old.apiKey.slice(41)}`);
    expect([401, 403]).toContain(forged.status);
    const res = await upload(old.apiKey);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { image: { id_encoded: string; user?: { username: string } } };
    const newId = site.ctx.ids.decode(body.image.id_encoded)!;
    expect(newId).toBeGreaterThan(10);
    const row = await site.ctx.db.selectFrom('images').select('user_id').where('id', '=', newId).executeTakeFirstOrThrow();
    expect(Number(row.user_id)).toBe(1);
    const legacy = await site.ctx.db.selectFrom('legacy_api_keys').selectAll().where('user_id', '=', 1).execute();
    expect(legacy).toHaveLength(0);
    expect((await upload(old.apiKey)).status).toBe(200);
  });

  it('reports files on an external storage, in the dry run and the summary, and imports those found in the images folder', async () => {
    for (const report of [dry, first]) {
      expect(report.externalStorage).toEqual([
        { id: 1, name: 'Old S3', type: 's3', bucket: 'old-pics', url: 'https://old-pics.s3.amazonaws.com/', files: 2, found: 1, missing: 1 },
      ]);
      expect(report.problems).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'image', id: 12, problem: expect.stringMatching(/external storage "Old S3" \(s3\)/) })]));
      expect(report.notes.join('\n')).toMatch(/2 files were on Chevereto's external storage #1 "Old S3".*1 found in the images folder, 1 not\. Copy that storage's files into .*rclone copy <remote>:old-pics/);
    }
    expect(formatImportReport(first)).toMatch(/external storage #1 "Old S3" \(s3\): 2 files, 1 found in the images folder, 1 missing/);
    const browser = new WebClient(site.url);
    expect((await land(browser, `/image/${old.files.synced.encoded}`)).text).toContain('From the bucket');
    expect((await land(browser, `/image/${old.files.cloud.encoded}`)).status).toBe(404);
  });

  it('brings avatars over, made as an avatar upload here makes them', async () => {
    const profile = await land(new WebClient(site.url), '/alice');
    const src = /<img class="avatar-image avatar-big" src="([^"]+)"/.exec(profile.text)?.[1];
    expect(src).toMatch(/^\/avatars\/1-[A-Za-z0-9_-]+\.webp$/);
    const res = await fetch(`${site.url}${src}`);
    expect(res.status).toBe(200);
    const { default: sharp } = await import('sharp');
    const meta = await sharp(Buffer.from(await res.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 256]);
    const bob = await site.ctx.db.selectFrom('users').select('avatar_key').where('username', '=', 'bob').executeTakeFirstOrThrow();
    expect(bob.avatar_key).toBeNull();
    // The old avatar URL leads to the new avatar; someone without one, or a made-up name, is a 404.
    const oldUrl = `/content/images/users/${old.codec.encode(1)}/av_1685610000.jpg`;
    const moved = await fetch(`${site.url}${oldUrl}`, { redirect: 'manual' });
    expect(moved.status).toBe(302);
    expect(new URL(moved.headers.get('location')!, site.url).pathname).toBe(src);
    expect((await fetch(`${site.url}/content/images/users/${old.codec.encode(2)}/av_1685610000.jpg`)).status).toBe(404);
    expect((await fetch(`${site.url}/content/images/users/${old.codec.encode(1)}/../../x`)).status).toBe(404);
  });

  it('keeps roles: admin stays admin, a manager becomes a manager, the others users', async () => {
    const bob = new WebClient(site.url);
    expect((await bob.login('bob', old.passwords.bob)).status).toBe(303);
    expect((await bob.get('/dashboard/users')).status).toBe(200);
    expect((await bob.get('/dashboard/settings')).status).toBe(403);
    const alice = new WebClient(site.url);
    expect((await alice.login('alice', old.passwords.alice)).status).toBe(303);
    expect((await alice.get('/dashboard/settings')).status).toBe(200);
    const erin = new WebClient(site.url);
    expect((await erin.login('erin', old.passwords.erin)).status).toBe(303);
    expect((await erin.get('/dashboard/users')).status).toBe(403);
    const roles = await site.ctx.db.selectFrom('users').select(['username', 'role', 'is_admin']).orderBy('id').execute();
    expect(roles.map((r) => [r.username, r.role, Number(r.is_admin)])).toEqual([
      ['alice', 'admin', 1], ['bob', 'manager', 0], ['carol', 'user', 0], ['dave', 'user', 0], ['erin', 'user', 0],
    ]);
  });

  it('a banned user comes over disabled: no sign-in, and the old API key stops', async () => {
    const dave = await new WebClient(site.url).login('dave', old.passwords.dave);
    expect(dave.status).toBe(403);
    const form = new FormData();
    form.set('source', new Blob([new Uint8Array(await sharpPng())], { type: 'image/png' }), 'new.png');
    const res = await fetch(`${site.url}/api/1/upload`, { method: 'POST', headers: { 'X-API-Key': old.bannedKey! }, body: form });
    expect([401, 403]).toContain(res.status);
    const rows = await site.ctx.db.selectFrom('users').select(['username', 'status', 'disabled_at', 'email_unverified']).where('username', 'in', ['dave', 'erin', 'alice']).orderBy('id').execute();
    expect(rows.map((r) => [r.username, r.status, r.disabled_at !== null, Number(r.email_unverified)])).toEqual([
      ['alice', 'valid', false, 0], ['dave', 'banned', true, 0], ['erin', 'awaiting-confirmation', false, 1],
    ]);
  });

  it('a derivative made again is exactly the one a new upload of the same file gets', async () => {
    const cases: [string, 'medium' | 'thumb', 'md' | 'th', string][] = [['guest', 'medium', 'md', 'image/png'], ['bobs', 'thumb', 'th', 'image/jpeg']];
    for (const [key, role, suffix, type] of cases) {
      const file = old.files[key];
      const form = new FormData();
      form.set('source', new Blob([new Uint8Array(file.bytes.image)], { type }), `again-${file.paths.image.split('/').pop()}`);
      const res = await fetch(`${site.url}/api/1/upload`, { method: 'POST', headers: { 'X-API-Key': old.apiKey }, body: form });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { image: Record<'medium' | 'thumb', { url: string }> };
      const uploaded = Buffer.from(await (await fetch(body.image[role].url)).arrayBuffer());
      const remade = await fetch(`${site.url}/images/${file.paths[suffix]}`);
      expect(remade.status, `${key} ${role}`).toBe(200);
      expect(md5(Buffer.from(await remade.arrayBuffer())), `${key} ${role}`).toBe(md5(uploaded));
    }
  });

  it('an old delete link still deletes, and only with its secret', async () => {
    const sunset = old.files.sunset;
    const wrong = await fetch(`${site.url}/image/${sunset.encoded}/delete/${'x'.repeat(48)}`, { redirect: 'manual' });
    expect(wrong.status).toBe(404);
    expect((await fetch(`${site.url}/images/${sunset.paths.image}`)).status).toBe(200);
    const right = await fetch(`${site.url}/image/${sunset.encoded}/delete/${old.deleteSecret}`, { redirect: 'manual' });
    expect(right.status).toBe(301);
    expect((await fetch(`${site.url}/images/${sunset.paths.image}`)).status).toBe(404);
    expect((await fetch(`${site.url}/image/${sunset.encoded}`)).status).toBe(404);
  });
});

describe.skipIf(skip)('import-chevereto: into a site that has its own content', () => {
  let maria: TestMariaDatabase;
  let work: string;
  let imagesDir: string;
  let old: CheveretoSite;

  beforeAll(async () => {
    maria = await createMariaDatabase();
    work = await mkdtemp(path.join(tmpdir(), 'shoebox-import-'));
    imagesDir = path.join(work, 'chevereto', 'images');
    old = await buildCommunitySite(maria, imagesDir);
  }, 180_000);

  afterAll(async () => {
    await maria?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  async function siteWithOwnUser(dir: string, env: Record<string, string> = {}): Promise<Settings> {
    const settings = testSettings(path.join(work, dir), await freePort(), env);
    const ctx = await createAppContext(settings);
    await createUser(ctx.db, { username: 'bob', password: 'shoebox-bob-pw' });
    await ctx.close();
    return settings;
  }

  it('explains bad input without writing anything: an unreachable database, a missing images folder, a wrong prefix', async () => {
    const settings = testSettings(path.join(work, 'bad-input'), await freePort());
    await expect(runImport(settings, { from: maria.url.replace(/:[^:@/]+@/, ':wrong-password@'), imagesDir })).rejects.toThrow(/cannot read the Chevereto database/);
    await expect(runImport(settings, { from: maria.url, imagesDir: path.join(work, 'nowhere') })).rejects.toThrow(/is not a folder/);
    await expect(runImport(settings, { from: maria.url, imagesDir, prefix: 'cv_' })).rejects.toThrow(/no cv_users table.*--prefix/);
    await expect(runImport(settings, { from: 'postgres://x@127.0.0.1/db', imagesDir })).rejects.toThrow(/mysql:\/\//);
    const ctx = await createAppContext(settings);
    try {
      for (const table of ['users', 'albums', 'images', 'chevereto_imported'] as const) {
        const row = await ctx.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        expect(Number(row.n), table).toBe(0);
      }
    } finally {
      await ctx.close();
    }
  });

  it('refuses when the site keeps its own ids under another salt (one site\'s links would change)', async () => {
    const settings = await siteWithOwnUser('other-salt');
    await expect(runImport(settings, { from: maria.url, imagesDir })).rejects.toThrow(/own content under another crypt_salt/);
  });

  it('with the old salt, imports beside the site\'s own content and skips what clashes, reported', async () => {
    const settings = await siteWithOwnUser('same-salt', { SHOEBOX_CRYPT_SALT: old.salt, SHOEBOX_ID_PADDING: String(old.padding) });
    const report = await runImport(settings, { from: maria.url, imagesDir });
    // The site's own bob has id 1: the old alice (id 1) clashes by id, the old bob by name.
    expect(report.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'user', id: 1, problem: expect.stringMatching(/id 1 is already used/) }),
        expect.objectContaining({ kind: 'user', id: 2, problem: expect.stringMatching(/name bob is already taken/) }),
        expect.objectContaining({ kind: 'album', id: 4 }),
        expect.objectContaining({ kind: 'image', id: 3 }),
      ]),
    );
    expect(report.counts.users).toMatchObject({ imported: 3, skipped: 2 });
    expect(report.counts.albums.imported).toBe(0);
    expect(report.counts.images.imported).toBe(1);
    const site = await serve(settings);
    try {
      const browser = new WebClient(site.url);
      // The site's own user is untouched; the guest file came over; alice's private diary is nowhere.
      expect((await land(browser, '/bob')).status).toBe(200);
      expect((await land(browser, `/image/${old.files.guest.encoded}`)).status).toBe(200);
      expect((await land(browser, `/image/${old.files.diary.encoded}`)).status).toBe(404);
      expect((await fetch(`${site.url}/images/${old.files.diary.paths.image}`)).status).toBe(404);
    } finally {
      await site.close();
    }
  });
});

describe.skipIf(skip)('import-chevereto: a file\'s name is claimed before its bytes are copied', () => {
  let maria: TestMariaDatabase;
  let work: string;
  let imagesDir: string;
  let old: CheveretoSite;

  beforeAll(async () => {
    maria = await createMariaDatabase();
    work = await mkdtemp(path.join(tmpdir(), 'shoebox-import-'));
    imagesDir = path.join(work, 'chevereto', 'images');
    old = await buildCommunitySite(maria, imagesDir);
  }, 180_000);

  afterAll(async () => {
    await maria?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('while a batch\'s files are stored and its rows not written, every file has its claimed name (nothing a crash would orphan); a failure then removes files and names', async () => {
    const settings = testSettings(path.join(work, 'claims'), await freePort());
    const ctx = await createAppContext(settings);
    try {
      const keyParts = (key: string) => {
        const m = /^images\/(\d{4}\/\d{2}\/\d{2})\/([^./]+)\./.exec(key)!;
        return { folder: m[1], name: m[2] };
      };
      let seen: string[] = [];
      await expect(
        runImport(settings, {
          from: maria.url,
          imagesDir,
          batchSize: 3,
          onFilesStored: async (keys) => {
            seen = keys;
            for (const key of keys) {
              expect(await ctx.storage.stat(key), key).not.toBeNull();
              const { folder, name } = keyParts(key);
              const claim = await ctx.db.selectFrom('file_names').selectAll().where('folder', '=', folder).where('name', '=', name).executeTakeFirst();
              expect(claim, `claim of ${key}`).toBeDefined();
              const row = await ctx.db.selectFrom('images').select('id').where('folder', '=', folder).where('name', '=', name).executeTakeFirst();
              expect(row).toBeUndefined();
            }
            throw new Error('the import dies here');
          },
        }),
      ).rejects.toThrow('the import dies here');
      // The first batch (sunset, plans, diary) had its files stored when it failed.
      expect(seen.length).toBeGreaterThanOrEqual(6);
      for (const key of seen) expect(await ctx.storage.stat(key), key).toBeNull();
      const claims = await ctx.db.selectFrom('file_names').selectAll().execute();
      expect(claims).toEqual([]);
      // Run again, it brings everything; every imported file keeps its claimed name.
      const report = await runImport(settings, { from: maria.url, imagesDir, batchSize: 3 });
      expect(report.counts.images.imported).toBe(8);
      const images = await ctx.db.selectFrom('images').select(['folder', 'name']).execute();
      const named = await ctx.db.selectFrom('file_names').select(['folder', 'name']).execute();
      expect(named.map((n) => `${n.folder}/${n.name}`).sort()).toEqual(images.map((i) => `${i.folder}/${i.name}`).sort());
      const leftovers = await ctx.db.selectFrom('chevereto_imported').select('id').where('kind', '=', 'image_claim').execute();
      expect(leftovers).toEqual([]);
    } finally {
      await ctx.close();
    }
  });

  it('a run that died while copying left claimed names: the next run takes its own claims back and imports those files', async () => {
    const settings = testSettings(path.join(work, 'crashed'), await freePort());
    const ctx = await createAppContext(settings);
    try {
      // What a run killed after claiming sunset's name and copying its original leaves behind.
      const sunset = old.files.sunset;
      const [folder, file] = [sunset.paths.image.split('/').slice(0, 3).join('/'), sunset.paths.image.split('/').pop()!];
      const name = file.slice(0, file.indexOf('.'));
      expect(await claimImportedFileName(ctx.db, folder, name, sunset.id)).toBe(true);
      await ctx.storage.copyIn(`images/${sunset.paths.image}`, path.join(imagesDir, sunset.paths.image), 'image/jpeg');
      // Someone else's claim on that name would not be taken.
      expect(await claimImportedFileName(ctx.db, folder, name, 999)).toBe(false);
      const report = await runImport(settings, { from: maria.url, imagesDir, batchSize: 3 });
      expect(report.counts.images.imported).toBe(8);
      expect(report.problems.filter((p) => p.id === sunset.id)).toEqual([]);
      const row = await ctx.db.selectFrom('images').select(['folder', 'name']).where('id', '=', sunset.id).executeTakeFirstOrThrow();
      expect(row).toEqual({ folder, name });
      const stored = await ctx.storage.stat(`images/${sunset.paths.image}`);
      expect(stored?.size).toBe(sunset.bytes.image.length);
    } finally {
      await ctx.close();
    }
  });
});

async function sharpPng(): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 10, g: 200, b: 30 } } }).png().toBuffer();
}
