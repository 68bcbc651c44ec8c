import { readdirSync, readlinkSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { get } from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeJpeg, makePng } from '../support/media.js';
import { uploadFile } from '../support/api.js';
import { sweepExpiredImages } from '../../src/jobs/expiry-sweep.js';

async function storedFiles(server: TestServer): Promise<string[]> {
  try {
    return (await readdir(path.join(server.dataDir, 'images'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
}

describe('serving files, viewer pages, delete URLs and expiry', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('alice'));
  });
  afterAll(() => server.close());

  it('serves files with Content-Type, ETag, Last-Modified, long caching, Range and 304s', async () => {
    const jpeg = await makeJpeg(640, 480);
    const { body } = await uploadFile(server.url, jpeg, 'photo.jpg', {}, { 'X-API-Key': key });
    const res = await fetch(body.image.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('accept-ranges')).toBe('bytes');
    expect(Number(res.headers.get('content-length'))).toBe(jpeg.length);
    expect(Buffer.from(await res.arrayBuffer()).equals(jpeg)).toBe(true);
    const etag = res.headers.get('etag')!;
    expect(etag).toBe(`"${body.image.md5}"`);
    expect((await fetch(body.image.url, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    expect((await fetch(body.image.url, { headers: { 'If-Modified-Since': res.headers.get('last-modified')! } })).status).toBe(304);
    const part = await fetch(body.image.url, { headers: { Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 10-19/${jpeg.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(jpeg.subarray(10, 20))).toBe(true);
    const tail = await fetch(body.image.url, { headers: { Range: 'bytes=-5' } });
    expect(Buffer.from(await tail.arrayBuffer()).equals(jpeg.subarray(-5))).toBe(true);
    expect((await fetch(body.image.url, { headers: { Range: `bytes=${jpeg.length + 10}-` } })).status).toBe(416);
    const head = await fetch(body.image.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(jpeg.length);
    // A wrong extension or an unknown name is a 404, never a directory listing or another file.
    expect((await fetch(body.image.url.replace(/\.jpg$/, '.png'))).status).toBe(404);
    expect((await fetch(`${server.url}/images/2020/01/01/nothing.jpg`)).status).toBe(404);
    expect((await fetch(`${server.url}/images/../shoebox.sqlite`)).status).toBe(404);
  });

  it('sends a multi-megabyte original whole, in ranges, and lets go of the file when a client hangs up', async () => {
    const sharp = (await import('sharp')).default;
    const noise = Buffer.alloc(1500 * 1000 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const png = await sharp(noise, { raw: { width: 1500, height: 1000, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
    expect(png.length).toBeGreaterThan(3 * 1024 * 1024);
    const { body } = await uploadFile(server.url, png, 'noise.png', {}, { 'X-API-Key': key });
    const whole = await fetch(body.image.url);
    expect(Buffer.from(await whole.arrayBuffer()).equals(png)).toBe(true);
    const span = await fetch(body.image.url, { headers: { Range: 'bytes=1000000-3100000' } });
    expect(span.status).toBe(206);
    expect(Buffer.from(await span.arrayBuffer()).equals(png.subarray(1_000_000, 3_100_001))).toBe(true);

    const openFiles = () =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(path.join(server.dataDir, 'images'));
        } catch {
          return false;
        }
      }).length;
    // Read one chunk, then hang up while the server still has megabytes to send.
    await new Promise<void>((resolve, reject) => {
      const request = get(body.image.url, (response) => {
        response.once('data', () => {
          request.destroy();
          resolve();
        });
      });
      request.on('error', (error) => (request.destroyed ? resolve() : reject(error)));
    });
    await expect.poll(openFiles, { timeout: 5000 }).toBe(0);
    expect((await fetch(body.image.url, { method: 'HEAD' })).status).toBe(200);
  });

  it('gives every one of many simultaneous downloads, fast and slow, exactly its own bytes', async () => {
    // File buffers are reused once the socket has taken them (storage/chunk-pool.ts): a buffer
    // handed out again too early would put one file's bytes into another's download.
    const sharp = (await import('sharp')).default;
    const files: { png: Buffer; url: string }[] = [];
    for (const seed of [3, 5, 7]) {
      const noise = Buffer.alloc(2400 * 2000 * 3);
      for (let i = 0; i < noise.length; i++) noise[i] = ((i + seed) * 2654435761 * seed) >>> 24;
      const png = await sharp(noise, { raw: { width: 2400, height: 2000, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
      const { body } = await uploadFile(server.url, png, `noise-${seed}.png`, {}, { 'X-API-Key': key });
      files.push({ png, url: body.image.url });
    }
    const download = (url: string, slow: boolean) =>
      new Promise<Buffer>((resolve, reject) => {
        get(url, (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => {
            parts.push(part);
            if (slow && parts.length % 8 === 1) {
              // A reader slower than the disk: the server's socket fills and its writes wait.
              response.pause();
              setTimeout(() => response.resume(), 100);
            }
          });
          response.on('end', () => resolve(Buffer.concat(parts)));
          response.on('error', reject);
        }).on('error', reject);
      });
    const downloads = Array.from({ length: 12 }, (_, i) => ({ file: files[i % 3], slow: i % 2 === 0 }));
    const bodies = await Promise.all(downloads.map((d) => download(d.file.url, d.slow)));
    for (const [i, got] of bodies.entries()) expect(got.equals(downloads[i].file.png), `download ${i}`).toBe(true);
  });

  it('renders a viewer page with the image and OpenGraph tags, and redirects the short URL to it', async () => {
    const { body } = await uploadFile(server.url, await makePng(200, 100), 'x.png', { title: 'A <b>bold</b> title', description: 'Seen "here" & there' }, { 'X-API-Key': key });
    const page = await fetch(body.image.url_viewer);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`<meta property="og:image" content="${body.image.url}">`);
    expect(html).toContain('<meta property="og:title" content="A &lt;b&gt;bold&lt;/b&gt; title">');
    expect(html).not.toContain('<b>bold</b>');
    expect(html).toContain(`src="${body.image.url}"`);
    const short = await fetch(body.image.url_short, { redirect: 'manual' });
    expect(short.status).toBe(301);
    expect(short.headers.get('location')).toBe(body.image.path_viewer);
    expect((await fetch(`${server.url}/image/nope.zzzzzz`)).status).toBe(404);
  });

  it('answers format=redirect with the viewer page and format=txt with the direct URL', async () => {
    const redirect = await uploadFile(server.url, await makePng(), 'r.png', { format: 'redirect' }, { 'X-API-Key': key });
    expect([301, 302, 303]).toContain(redirect.status);
    expect(redirect.headers.get('location')).toMatch(/^\/image\/r\.[A-Za-z0-9]+$/);
    const txt = await uploadFile(server.url, await makePng(), 't.png', { format: 'txt' }, { 'X-API-Key': key });
    expect(txt.headers.get('content-type')).toMatch(/^text\/plain/);
    expect((await fetch(txt.text)).status).toBe(200);
  });

  it('deletes every file and the row from the delete URL, without logging in; a wrong secret is a 404', async () => {
    const { body } = await uploadFile(server.url, await makeJpeg(900, 600), 'gone.jpg', {}, { 'X-API-Key': key });
    const before = await storedFiles(server);
    expect(before).toEqual(expect.arrayContaining([`${body.image.name}.jpg`, `${body.image.name}.th.jpg`, `${body.image.name}.md.jpg`]));
    const wrong = body.image.delete_url.replace(/[0-9a-f]{48}$/, 'f'.repeat(48));
    expect((await fetch(wrong, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(body.image.url)).status).toBe(200);
    const del = await fetch(body.image.delete_url, { redirect: 'manual' });
    expect(del.status).toBe(301);
    expect(del.headers.get('location')).toBe(`${body.image.path_viewer}?deleted`);
    for (const url of [body.image.url, body.image.thumb.url, body.image.medium.url, body.image.url_viewer]) expect((await fetch(url)).status).toBe(404);
    const after = await storedFiles(server);
    expect(after.filter((f) => f.startsWith(`${body.image.name}.`))).toEqual([]);
    expect((await fetch(body.image.delete_url, { redirect: 'manual' })).status).toBe(404);
  });

  it('never serves an expired file, and the sweep deletes it', async () => {
    const { body } = await uploadFile(server.url, await makePng(), 'short-lived.png', { expiration: '1' }, { 'X-API-Key': key });
    expect(body.image.expiration_date_gmt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const expiresAt = new Date(body.image.expiration_date_gmt.replace(' ', 'T') + 'Z').getTime();
    await new Promise((r) => setTimeout(r, Math.max(0, expiresAt - Date.now()) + 1100));
    expect((await fetch(body.image.url)).status).toBe(404);
    expect((await fetch(body.image.url_viewer)).status).toBe(404);
    expect((await storedFiles(server)).some((f) => f.startsWith(`${body.image.name}.`))).toBe(true);
    const removed = await sweepExpiredImages(server.ctx.db, server.ctx.storage);
    expect(removed).toBeGreaterThanOrEqual(1);
    expect((await storedFiles(server)).some((f) => f.startsWith(`${body.image.name}.`))).toBe(false);
    expect(await sweepExpiredImages(server.ctx.db, server.ctx.storage)).toBe(0);
  });

  it('takes ISO-8601 durations for expiration', async () => {
    const { body } = await uploadFile(server.url, await makePng(), 'p3d.png', { expiration: 'P3D' }, { 'X-API-Key': key });
    const gmt = new Date(body.image.date_gmt.replace(' ', 'T') + 'Z').getTime();
    const exp = new Date(body.image.expiration_date_gmt.replace(' ', 'T') + 'Z').getTime();
    expect(exp - gmt).toBe(3 * 86400_000);
  });

  it('stores title, description, tags, album, category, nsfw and width', async () => {
    const { createAlbum } = await import('../../src/db/repositories/albums.js');
    const { findUserByUsername } = await import('../../src/db/repositories/users.js');
    const alice = await findUserByUsername(server.ctx.db, 'alice');
    const album = await createAlbum(server.ctx.db, { userId: alice!.id, name: 'Trips' });
    const albumId = server.ctx.ids.encode(album.id);
    // category_id must name one of the site's categories (an imported Chevereto id, here).
    await server.ctx.db.insertInto('categories').values({ id: 7, name: 'Places', url_key: 'places', description: null }).execute();
    const jpeg = await makeJpeg(1000, 500);
    const { body, status } = await uploadFile(server.url, jpeg, 'beach.jpg', {
      title: 'Beach', description: 'Sunny', tags: 'sea, sand , sea,  sun', album_id: albumId, category_id: '7', nsfw: 'true', width: '400',
    }, { 'X-API-Key': key });
    expect(status).toBe(200);
    const image = body.image;
    expect([image.title, image.description, image.nsfw, image.category_id]).toEqual(['Beach', 'Sunny', 1, 7]);
    expect(image.tags.map((t: { name: string }) => t.name)).toEqual(['sea', 'sand', 'sun']);
    expect(image.tags_string).toBe('sea, sand, sun');
    expect(image.tags[0]).toEqual({ name: 'sea', name_safe_html: 'sea', url_key: 'sea', url: `${server.url}/tag/sea` });
    expect([image.width, image.height]).toEqual([400, 200]);
    expect(image.source_md5).toBe((await import('node:crypto')).createHash('md5').update(jpeg).digest('hex'));
    expect(image.md5).not.toBe(image.source_md5);
    const row = await server.ctx.db.selectFrom('images').select(['album_id']).where('id', '=', server.ctx.ids.decode(image.id_encoded)!).executeTakeFirst();
    expect(row?.album_id).toBe(album.id);
  });
});

describe('a site under a sub-path', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    const { freePort } = await import('../support/server.js');
    const port = await freePort();
    server = await startTestServer({ PORT: String(port), SHOEBOX_BASE_URL: `http://127.0.0.1:${port}/pics/` });
    ({ key } = await server.createUserWithKey('alice'));
  });
  afterAll(() => server.close());

  it('builds every URL under the base path and serves them there', async () => {
    expect(server.url).toMatch(/\/pics$/);
    const { body, status } = await uploadFile(server.url, await makeJpeg(700, 400), 'sub.jpg', {}, { 'X-API-Key': key });
    expect(status).toBe(200);
    for (const field of ['url', 'url_viewer', 'url_short', 'display_url', 'delete_url']) expect(body.image[field]).toContain('/pics/');
    expect(body.image.path_viewer).toMatch(/^\/pics\/image\//);
    for (const url of [body.image.url, body.image.thumb.url, body.image.url_viewer]) expect((await fetch(url)).status, url).toBe(200);
    expect((await fetch(body.image.url_short, { redirect: 'manual' })).headers.get('location')).toBe(body.image.path_viewer);
    const del = await fetch(body.image.delete_url, { redirect: 'manual' });
    expect(del.headers.get('location')).toBe(`${body.image.path_viewer}?deleted`);
  });
});
