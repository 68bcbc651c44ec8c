import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, memberWithKey, WebClient } from './web-client.js';

/** The rough edges of issue 19 a returning person hit, at the HTTP level (the visual ones are in test/browser/everyday.browser.test.ts). */
describe('everyday site: words and actions match who owns what, the icon, sensitive files', () => {
  let server: TestServer;
  let admin: WebClient;
  let owner: WebClient;
  let ownerKey: string;
  let viewerPath: string;
  let nsfwPath: string;
  let albumId: string;
  beforeAll(async () => {
    server = await startTestServer();
    // The first account is the site's admin.
    ({ browser: admin } = await memberWithKey(server.url, 'root'));
    ({ browser: owner, key: ownerKey } = await memberWithKey(server.url, 'dora'));
    albumId = await createAlbum(owner, { name: 'Dora’s trip', privacy: 'public' });
    viewerPath = (await uploadFile(server.url, await makeJpeg(300, 200), 'sea.jpg', { title: 'Sea', album_id: albumId }, { 'X-API-Key': ownerKey })).body.image.path_viewer;
    nsfwPath = (await uploadFile(server.url, await makePng(), 'hot.png', { title: 'Hot', nsfw: '1' }, { 'X-API-Key': ownerKey })).body.image.path_viewer;
  });
  afterAll(async () => {
    await server.close();
  });

  it('calls a file "Your file" only for its owner; an admin on it sees that they manage it', async () => {
    const mine = await owner.get(viewerPath);
    expect(mine.text).toContain('<h2 id="owner-heading">Your file</h2>');
    const theirs = await admin.get(viewerPath);
    expect(theirs.status).toBe(200);
    expect(theirs.text).not.toContain('Your file');
    expect(theirs.text).toContain('<h2 id="owner-heading">Manage this file (you run this site)</h2>');
    // The tools still work for the admin.
    expect(theirs.text).toContain(`action="${viewerPath}/edit"`);
    expect((await new WebClient(server.url).get(viewerPath)).text).not.toContain('owner-heading');
  });

  it('offers "New album" only on your own profile, and "New sub-album" only in your own album', async () => {
    expect((await owner.get('/dora')).text).toContain('href="/albums/new"');
    const adminOnDora = await admin.get('/dora');
    expect(adminOnDora.text).not.toContain('href="/albums/new"');
    expect((await admin.get('/root')).text).toContain('href="/albums/new"');
    expect((await owner.get(`/album/${albumId}`)).text).toContain(`/albums/new?parent=${albumId}`);
    const adminOnAlbum = await admin.get(`/album/${albumId}`);
    expect(adminOnAlbum.text).not.toContain('/albums/new?parent=');
    expect(adminOnAlbum.text).toContain(`/album/${albumId}/edit`);
  });

  it('serves /favicon.ico: the site icon at 16, 32 and 48 px, and every page links it', async () => {
    const res = await fetch(`${server.url}/favicon.ico`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/x-icon');
    const ico = Buffer.from(await res.arrayBuffer());
    expect(ico.readUInt16LE(2)).toBe(1);
    const count = ico.readUInt16LE(4);
    expect(count).toBe(3);
    const sizes: number[] = [];
    for (let i = 0; i < count; i++) {
      const entry = 6 + 16 * i;
      const png = ico.subarray(ico.readUInt32LE(entry + 12), ico.readUInt32LE(entry + 12) + ico.readUInt32LE(entry + 8));
      const meta = await sharp(png).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBe(ico.readUInt8(entry));
      sizes.push(meta.width!);
      // The icon's blue, not an empty square.
      const { dominant } = await sharp(png).stats();
      expect(dominant.b).toBeGreaterThan(dominant.r + 60);
    }
    expect(sizes).toEqual([16, 32, 48]);
    const home = await new WebClient(server.url).get('/');
    expect(home.text).toContain('<link rel="icon" href="/favicon.ico"');
    expect((await fetch(`${server.url}/static/favicon.svg`)).status).toBe(200);
  });

  it('covers a sensitive file with "Sensitive content, click to show" (in the visitor’s language), not just a blur', async () => {
    const visitor = await new WebClient(server.url).get(nsfwPath);
    expect(visitor.text).toContain('class="stage is-sensitive"');
    expect(visitor.text).toMatch(/class="sensitive-cover"[^>]*><strong>Sensitive content<\/strong><span>Click to show<\/span>/);
    const korean = await new WebClient(server.url, { 'Accept-Language': 'ko' }).get(nsfwPath);
    expect(korean.text).toContain('<strong>민감한 콘텐츠</strong><span>클릭하여 보기</span>');
    // Someone who chose to see sensitive files gets neither blur nor cover.
    const shows = new WebClient(server.url);
    await shows.get('/');
    await shows.post('/nsfw', { show: '1', return: '/' }, { csrf: false });
    const shown = await shows.get(nsfwPath);
    expect(shown.text).not.toContain('sensitive-cover');
    expect((await new WebClient(server.url).get(viewerPath)).text).not.toContain('sensitive-cover');
  });
});
