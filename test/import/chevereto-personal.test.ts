import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/config/settings.js';
import { ensureBucket } from '../../src/storage/s3.js';
import { runShoebox } from '../support/cli.js';
import { createPostgresDatabase, postgresSkipReason, type TestPostgresDatabase } from '../support/databases.js';
import { createMariaDatabase, mariadbSkipReason, type TestMariaDatabase } from '../support/mariadb.js';
import { s3TestSkipReason, startS3ForTests, type TestS3Server } from '../support/s3.js';
import { freePort, testSettings } from '../support/server.js';
import { WebClient } from '../web/web-client.js';
import { land, md5, serve, type Site } from './import-helpers.js';
import { buildPersonalSite, type CheveretoSite } from './chevereto-site.js';

const skip = (await mariadbSkipReason()) ?? (await postgresSkipReason()) ?? s3TestSkipReason();

/**
 * "The old site" for --verify: a loopback HTTP server answering as the Chevereto site did,
 * its files from its images folder and its pages by path.
 */
function startOldSite(imagesDir: string, pages: Set<string>): Promise<{ url: string; server: Server }> {
  const server = createServer(async (request, response) => {
    const pathname = decodeURIComponent(new URL(request.url ?? '/', 'http://old').pathname);
    if (pathname.startsWith('/images/') && !pathname.includes('..')) {
      const bytes = await readFile(path.join(imagesDir, pathname.slice('/images/'.length))).catch(() => null);
      response.writeHead(bytes ? 200 : 404).end(bytes ?? 'not found');
      return;
    }
    response.writeHead(pages.has(pathname) ? 200 : 404, { 'content-type': 'text/html' }).end('<!doctype html><title>old</title>');
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server })));
}

describe.skipIf(skip)('import-chevereto: a personal-mode site into PostgreSQL and S3, through the CLI', () => {
  let maria: TestMariaDatabase;
  let pg: TestPostgresDatabase;
  let s3: TestS3Server;
  let work: string;
  let imagesDir: string;
  let env: Record<string, string>;
  let settings: Settings;
  let old: CheveretoSite;
  let site: Site;
  let importRun: { code: number | null; stdout: string; stderr: string };
  let rerun: { code: number | null; stdout: string; stderr: string };
  const encryptionKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    maria = await createMariaDatabase();
    pg = await createPostgresDatabase();
    const started = await startS3ForTests();
    if (!started) throw new Error('an S3 server was expected');
    s3 = started;
    work = await mkdtemp(path.join(tmpdir(), 'shoebox-import-'));
    imagesDir = path.join(work, 'chevereto', 'images');
    old = await buildPersonalSite(maria, imagesDir, encryptionKey);
    const port = await freePort();
    env = {
      SHOEBOX_DATA_DIR: path.join(work, 'shoebox'),
      SHOEBOX_DATABASE_URL: pg.url,
      SHOEBOX_STORAGE: 's3',
      SHOEBOX_S3_BUCKET: `shoebox-import-${randomUUID().slice(0, 8)}`,
      SHOEBOX_S3_PREFIX: 'site',
      SHOEBOX_S3_ENDPOINT: s3.endpoint,
      SHOEBOX_S3_ACCESS_KEY_ID: s3.accessKeyId,
      SHOEBOX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      SHOEBOX_BASE_URL: `http://127.0.0.1:${port}`,
      PORT: String(port),
    };
    settings = testSettings(env.SHOEBOX_DATA_DIR, port, env);
    await ensureBucket(settings.s3);
    const args = ['import-chevereto', '--from', maria.url, '--images', imagesDir, '--avatars', old.avatarsDir!, '--encryption-key', encryptionKey];
    importRun = await runShoebox(args, env);
    rerun = await runShoebox(args, env);
    site = await serve(settings);
  }, 240_000);

  afterAll(async () => {
    await site?.close();
    await pg?.drop();
    await s3?.stop();
    await maria?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('imports through the CLI with a summary, and a second run adds nothing', () => {
    expect(importRun.code, importRun.stderr).toBe(0);
    expect(importRun.stdout).toContain('Import finished.');
    expect(importRun.stdout).toMatch(/files\s+2 found, 2 imported, 0 already imported, 0 skipped/);
    expect(importRun.stdout).toMatch(/avatars\s+1 found, 1 imported, 0 already imported, 0 skipped/);
    expect(importRun.stdout).toContain('SHOEBOX_TIMEZONE=Asia/Tokyo');
    expect(importRun.stdout).toContain('SHOEBOX_IMAGE_ROUTE=pics');
    expect(importRun.stderr).toContain('importing');
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/files\s+2 found, 0 imported, 2 already imported, 0 skipped/);
    expect(rerun.stdout).toMatch(/users\s+1 found, 0 imported, 1 already imported/);
  });

  it('keeps the files byte for byte in S3 at their old paths (local date folder, not GMT)', async () => {
    for (const file of Object.values(old.files)) {
      expect(file.paths.image.startsWith('2024/03/01/')).toBe(true);
      for (const [role, p] of Object.entries(file.paths)) {
        const res = await fetch(`${site.url}/images/${p}`);
        const body = Buffer.from(await res.arrayBuffer());
        if (file === old.files.family) {
          // In the password album: not served before its password is given.
          expect(res.status, p).not.toBe(200);
          continue;
        }
        expect(res.status, p).toBe(200);
        expect(md5(body), p).toBe(md5(file.bytes[role]));
      }
    }
  });

  it('answers the personal-mode URLs for its owner', async () => {
    const browser = new WebClient(site.url);
    expect((await land(browser, '/')).status).toBe(200);
    const albums = await land(browser, '/albums');
    expect(albums.status).toBe(200);
    expect(albums.path).toBe('/owner?tab=albums');
    expect(albums.text).toContain('Trips');
    expect(albums.text).not.toContain('Family');
    expect((await land(browser, '/files')).path).toBe('/owner');
    expect((await land(browser, `/image/${old.files.trip.encoded}`)).status).toBe(200);
    // The old site's renamed routes lead to the same pages.
    const renamed = await land(browser, `/pics/photo-trip.${old.files.trip.encoded}`);
    expect(renamed.status).toBe(200);
    expect(renamed.path).toMatch(/^\/image\//);
    expect(renamed.text).toContain('Photo trip');
    const gallery = await land(browser, `/gallery/${old.codec.encode(old.albums.trips)}`);
    expect(gallery.status).toBe(200);
    expect(gallery.text).toContain('Trips');
  });

  it('opens the album whose password Chevereto stored encrypted, with that password', async () => {
    const browser = new WebClient(site.url);
    const family = old.codec.encode(old.albums.family);
    expect((await fetch(`${site.url}/images/${old.files.family.paths.image}`)).status).not.toBe(200);
    await browser.get(`/album/${family}`);
    await browser.post(`/album/${family}/unlock`, { password: old.albumPassword });
    const page = await land(browser, `/album/${family}`);
    expect(page.text).toContain(old.files.family.encoded);
  });

  it('brings the owner\'s avatar from --avatars into S3', async () => {
    const profile = await land(new WebClient(site.url), '/owner');
    const src = /<img class="avatar-image avatar-big" src="([^"]+)"/.exec(profile.text)?.[1];
    expect(src).toMatch(/^\/avatars\/4-[A-Za-z0-9_-]+\.webp$/);
    const res = await fetch(`${site.url}${src}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/webp');
  });

  it('signs the owner in with the old password', async () => {
    expect((await new WebClient(site.url).login('owner', old.passwords.owner)).status).toBe(303);
  });

  it('--verify compares every file and page with the old site, and fails on a difference', async () => {
    const pages = new Set([
      ...Object.values(old.files).map((f) => `/pics/${f.encoded}`),
      ...Object.values(old.albums).map((id) => `/gallery/${old.codec.encode(id)}`),
      '/owner',
    ]);
    const oldSite = await startOldSite(imagesDir, pages);
    try {
      const same = await runShoebox(['import-chevereto', '--verify', '--old-base', oldSite.url], env);
      expect(same.stdout, same.stdout).toMatch(/Checked \d+ URLs against .*: 0 differ/);
      expect(same.code, same.stdout + same.stderr).toBe(0);
      // The password album's files were open on the old site (static files); Shoebox keeps them locked.
      expect(same.stdout).toContain('Withheld on purpose (5)');
      expect(same.stdout).toContain(`/images/${old.files.family.paths.image}`);
      // The old site serves other bytes for one thumb: the report names it and the exit is non-zero.
      const { writeFile } = await import('node:fs/promises');
      await writeFile(path.join(imagesDir, old.files.trip.paths.th), Buffer.from('changed'));
      const differs = await runShoebox(['import-chevereto', '--verify', '--old-base', oldSite.url], env);
      expect(differs.code).not.toBe(0);
      expect(differs.stdout).toContain(`/images/${old.files.trip.paths.th}`);
      expect(differs.stdout).toMatch(/1 differ/);
    } finally {
      oldSite.server.close();
    }
  });
});
