import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { migrateStorage } from '../../src/cli/migrate-storage.js';
import { LocalStorage } from '../../src/storage/local.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, memberWithKey, WebClient } from './web-client.js';

async function postAvatar(browser: WebClient, file: Buffer, origin?: string) {
  const form = new FormData();
  form.append('avatar', new Blob([new Uint8Array(file)], { type: 'image/png' }), 'me.png');
  const res = await fetch(browser.url('/settings/avatar'), {
    method: 'POST',
    body: form,
    headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), origin: origin ?? new URL(browser.baseUrl).origin, 'Accept-Language': 'en' },
    redirect: 'manual',
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

describe('profiles: avatar, display name, bio, website, counts', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('saves the profile and shows it, escaped, with a nofollow ugc website link and counts of files and albums', async () => {
    const { browser, key } = await memberWithKey(server.url, 'painter');
    await browser.get('/settings/profile');
    const saved = await browser.post('/settings/profile', { display_name: 'Ada <Painter>', bio: 'Paints\nlight & shadow', website: 'https://ada.example.test/works' });
    expect(saved.status).toBe(303);
    expect(saved.location).toBe('/settings/profile?notice=profile-saved');

    const publicAlbum = await createAlbum(browser, { name: 'Open', privacy: 'public' });
    await createAlbum(browser, { name: 'Mine', privacy: 'private' });
    await uploadFile(server.url, await makeJpeg(200, 200, '#811'), 'a.jpg', { album_id: publicAlbum }, { 'X-API-Key': key });
    await uploadFile(server.url, await makeJpeg(200, 200, '#181'), 'b.jpg', {}, { 'X-API-Key': key });
    const privateAlbum = await createAlbum(browser, { name: 'Hidden', privacy: 'private' });
    await uploadFile(server.url, await makeJpeg(200, 200, '#118'), 'c.jpg', { album_id: privateAlbum }, { 'X-API-Key': key });

    const page = await new WebClient(server.url).get('/painter');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Ada &lt;Painter&gt;</h1>');
    expect(page.text).toContain('@painter');
    expect(page.text).toContain('Paints\nlight &amp; shadow');
    expect(page.text).toContain('<a href="https://ada.example.test/works" rel="nofollow ugc noopener" target="_blank">ada.example.test/works</a>');
    // A visitor counts what they can see: 2 files, 1 album.
    expect(page.text).toContain('<li id="count-files">2 files</li>');
    expect(page.text).toContain('<li id="count-albums">1 album</li>');
    // The owner counts everything.
    const own = await browser.get('/painter');
    expect(own.text).toContain('<li id="count-files">3 files</li>');
    expect(own.text).toContain('<li id="count-albums">3 albums</li>');
  });

  it('refuses a website that is not http(s), an over-long name, and keeps the old values', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('careful-writer');
    await browser.get('/settings/profile');
    for (const website of ['javascript:alert(1)', 'ftp://files.example.test/', 'data:text/html,hi', 'not a url', 'https://user:pw@example.test/']) {
      const res = await browser.post('/settings/profile', { display_name: '', bio: '', website });
      expect(res.status, website).toBe(400);
      expect(res.text).toContain('The website must be a full http:// or https:// address.');
    }
    const long = await browser.post('/settings/profile', { display_name: 'x'.repeat(51), bio: '', website: '' });
    expect(long.status).toBe(400);
    const row = await server.ctx.db.selectFrom('users').selectAll().where('username', '=', 'careful-writer').executeTakeFirstOrThrow();
    expect([row.display_name, row.website]).toEqual([null, null]);
    expect((await new WebClient(server.url).get('/careful-writer')).text).not.toContain('rel="nofollow ugc');
  });

  it('an avatar is resized to 256×256 WebP, served from storage, replaced without leaving the old one, and removed', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('face');
    await browser.get('/settings/profile');
    // From another site: refused (the multipart form is checked by Origin).
    const foreign = await postAvatar(browser, await makePng(500, 300), 'https://evil.example.test');
    expect(foreign.status).toBe(403);
    const tooBig = await postAvatar(browser, Buffer.alloc(5_200_000, 7));
    expect(tooBig.status).toBe(413);
    expect(tooBig.text).toContain('The picture is too big (at most 5 MB).');
    const notImage = await postAvatar(browser, Buffer.from('this is not an image at all'));
    expect(notImage.status).toBe(400);
    expect(notImage.text).toContain('That file is not an image this site can read.');

    const res = await postAvatar(browser, await makePng(500, 300));
    expect(res.status).toBe(303);
    expect(res.location).toBe('/settings/profile?notice=avatar-saved');
    const first = (await server.ctx.db.selectFrom('users').select('avatar_key').where('username', '=', 'face').executeTakeFirstOrThrow()).avatar_key!;
    const profile = await new WebClient(server.url).get('/face');
    expect(profile.text).toContain(`<img class="avatar-image avatar-big" src="/${first}"`);
    // The site header shows the signed-in account's picture instead of its initial.
    const header = (await browser.get('/explore')).text.match(/<a class="nav-user"[\s\S]*?<\/a>/)![0];
    expect(header).toContain(`<img class="avatar avatar-image" src="/${first}"`);
    expect(header).not.toContain('<span class="avatar"');
    const served = await fetch(`${server.url}/${first}`);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/webp');
    const meta = await sharp(Buffer.from(await served.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 256, 256]);

    await browser.get('/settings/profile');
    expect((await postAvatar(browser, await makeJpeg(300, 500, '#555'))).status).toBe(303);
    const second = (await server.ctx.db.selectFrom('users').select('avatar_key').where('username', '=', 'face').executeTakeFirstOrThrow()).avatar_key!;
    expect(second).not.toBe(first);
    expect((await fetch(`${server.url}/${first}`)).status).toBe(404);
    expect(await server.ctx.storage.stat(first)).toBeNull();

    await browser.get('/settings/profile');
    const removed = await browser.post('/settings/avatar/remove');
    expect(removed.location).toBe('/settings/profile?notice=avatar-removed');
    // Back to the initial in the header.
    expect((await browser.get('/explore')).text).toMatch(/<a class="nav-user"[^>]*><span class="avatar" aria-hidden="true">F<\/span>/);
    expect(await server.ctx.storage.stat(second)).toBeNull();
    expect((await fetch(`${server.url}/${second}`)).status).toBe(404);
    expect((await fetch(`${server.url}/avatars/..%2Fshoebox.sqlite`)).status).toBe(404);
  });

  it('moving the site to another storage copies the avatars too', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('mover-face');
    await browser.get('/settings/profile');
    expect((await postAvatar(browser, await makePng(200, 200))).status).toBe(303);
    const key = (await server.ctx.db.selectFrom('users').select('avatar_key').where('username', '=', 'mover-face').executeTakeFirstOrThrow()).avatar_key!;
    const target = await mkdtemp(path.join(tmpdir(), 'shoebox-avatar-move-'));
    try {
      const to = new LocalStorage(target);
      const report = await migrateStorage({ db: server.ctx.db, from: server.ctx.storage, to, tmpRoot: path.join(server.dataDir, 'tmp'), progress: false });
      expect(report.failed).toEqual([]);
      expect(await readFile(path.join(target, key))).toEqual(await readFile(path.join(server.dataDir, key)));
    } finally {
      await rm(target, { recursive: true, force: true });
    }
  });
});
