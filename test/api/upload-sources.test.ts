import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeAnimated, makeBmp, makeJpeg, makePng } from '../support/media.js';
import { postForm, uploadFile } from '../support/api.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function filesUnder(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  } catch {
    return [];
  }
}

describe('upload sources', () => {
  let server: TestServer;
  let key: string;
  let origin: Server;
  let originUrl: string;
  const png = makePng(90, 60);
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('alice'));
    const body = await png;
    origin = createServer((req, res) => {
      if (req.url === '/cat.png') {
        res.writeHead(200, { 'Content-Type': 'image/png' });
        res.end(body);
      } else if (req.url === '/moved') {
        res.writeHead(302, { Location: '/cat.png' });
        res.end();
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    origin.close();
    await server.close();
  });

  it('takes a multipart file with the key field after the file, and no part Content-Type or extension', async () => {
    const jpeg = await makeJpeg(320, 200);
    const boundary = '----shoeboxtest';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="source"; filename="noext"\r\n\r\n`),
      jpeg,
      Buffer.from(`\r\n--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nAfter the file\r\n--${boundary}--\r\n`),
    ]);
    const res = await fetch(`${server.url}/api/1/upload`, { method: 'POST', body, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` } });
    const json = await res.json();
    expect(res.status).toBe(200);
    expect(json.image.mime).toBe('image/jpeg');
    expect(json.image.extension).toBe('jpeg');
    expect(json.image.title).toBe('After the file');
    expect(json.image.md5).toBe(md5(jpeg));
  });

  it('sniffs the bytes, not the part Content-Type', async () => {
    const form = new FormData();
    form.append('source', new Blob([new Uint8Array(await makePng())], { type: 'application/octet-stream' }), 'photo.jpg');
    const res = await fetch(`${server.url}/api/1/upload`, { method: 'POST', body: form, headers: { 'X-API-Key': key } });
    const json = await res.json();
    expect(json.image.mime).toBe('image/png');
    expect(json.image.extension).toBe('png');
  });

  it('takes base64 in a form field, as a data: URI with whitespace, and as a multipart text part', async () => {
    const data = await png;
    const plain = await postForm(server.url, { key, source: data.toString('base64') });
    expect(plain.status).toBe(200);
    expect(plain.body.image.md5).toBe(md5(data));
    expect(plain.body.image.original_filename).toMatch(/^[a-z0-9]{12}\.jpg$/);
    const wrapped = data.toString('base64').replace(/(.{60})/g, '$1\n');
    const uri = await postForm(server.url, { key, source: `data:image/png;base64,${wrapped}` });
    expect(uri.status).toBe(200);
    expect(uri.body.image.md5).toBe(md5(data));
    const form = new FormData();
    form.append('key', key);
    form.append('source', data.toString('base64'));
    const part = await (await fetch(`${server.url}/api/1/upload`, { method: 'POST', body: form })).json();
    expect(part.image.md5).toBe(md5(data));
  });

  it('fetches a URL source, following redirects, and names it after the URL', async () => {
    const res = await postForm(server.url, { key, source: `${originUrl}/moved` });
    expect(res.status).toBe(200);
    expect(res.body.image.md5).toBe(md5(await png));
    expect(res.body.image.original_filename).toBe('cat.png');
  });

  it('accepts GET with every parameter in the query string, with or without a trailing slash', async () => {
    for (const p of ['/api/1/upload', '/api/1/upload/']) {
      const res = await fetch(`${server.url}${p}?key=${key}&source=${encodeURIComponent(`${originUrl}/cat.png`)}&format=txt`);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/images\/\d{4}\/\d\d\/\d\d\/cat(-\w{5})?\.png$/);
    }
  });

  it('merges query and body parameters, the body winning, and X-API-Key winning over key', async () => {
    const res = await uploadFile(`${server.url}`, await png, 'a.png', { title: 'from body' }, { 'X-API-Key': key });
    expect(res.body.image.title).toBe('from body');
    const form = new FormData();
    form.append('title', 'body title');
    form.append('source', new Blob([new Uint8Array(await png)]), 'b.png');
    const both = await (await fetch(`${server.url}/api/1/upload?key=${key}&title=query+title&nsfw=1`, { method: 'POST', body: form })).json();
    expect(both.image.title).toBe('body title');
    expect(both.image.nsfw).toBe(1);
    const headerWins = await uploadFile(server.url, await png, 'c.png', { key: 'chv_wrong' }, { 'X-API-Key': key });
    expect(headerWins.status).toBe(200);
  });

  it('switches to the imgbb response shape when the file comes as `image`', async () => {
    const res = await uploadFile(server.url, await png, 'imgbb.png', { __field: 'image' }, { 'X-API-Key': key });
    expect(res.status).toBe(200);
    expect(res.body.success).toEqual({ message: 'file uploaded', code: 200 });
    expect(res.body.data.id).toBe(res.body.data.id_encoded);
    expect(res.body.status).toBe(200);
    expect(res.body.data.id).toMatch(/^[A-Za-z0-9]+$/);
    expect(res.body.data.url).toMatch(/\/images\/.+\.png$/);
    expect(res.body.data.delete_url).toContain('/delete/');
    expect(res.body.data.image.url).toBe(res.body.data.url);
  });

  it('keeps animated GIF and WebP animated and says so', async () => {
    for (const format of ['gif', 'webp'] as const) {
      const res = await uploadFile(server.url, await makeAnimated(format, 700, 300), `anim.${format}`, {}, { 'X-API-Key': key });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.image.is_animated).toBe(1);
      const sharp = (await import('sharp')).default;
      const stored = await sharp(Buffer.from(await (await fetch(res.body.image.url)).arrayBuffer()), { animated: true }).metadata();
      expect(stored.pages).toBe(3);
      const medium = await sharp(Buffer.from(await (await fetch(res.body.image.medium.url)).arrayBuffer()), { animated: true }).metadata();
      expect(medium.pages).toBe(3);
      expect(medium.width).toBe(500);
    }
    const still = await uploadFile(server.url, await makeJpeg(50, 50), 'still.jpg', {}, { 'X-API-Key': key });
    expect(still.body.image.is_animated).toBe(0);
  });

  it('stores BMP as PNG, keeping the upload checksum in source_md5', async () => {
    const bmp = makeBmp(40, 30);
    const res = await uploadFile(server.url, bmp, 'old.bmp', {}, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.image.extension).toBe('png');
    expect(res.body.image.mime).toBe('image/png');
    expect(res.body.image.source_md5).toBe(md5(bmp));
    const stored = Buffer.from(await (await fetch(res.body.image.url)).arrayBuffer());
    expect(res.body.image.md5).toBe(md5(stored));
    expect([res.body.image.width, res.body.image.height]).toEqual([40, 30]);
  });

  it('gives a second file with the same name a random suffix', async () => {
    const a = await uploadFile(server.url, await png, 'same name.png', {}, { 'X-API-Key': key });
    const b = await uploadFile(server.url, await png, 'same name.png', {}, { 'X-API-Key': key });
    expect(a.body.image.name).not.toBe(b.body.image.name);
    expect(b.body.image.name).toMatch(/^same-name(-[A-Za-z0-9]{5})?$/);
    expect((await fetch(a.body.image.url)).status).toBe(200);
    expect((await fetch(b.body.image.url)).status).toBe(200);
  });

  it('handles concurrent uploads of the same name without losing either', async () => {
    const uploads = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => uploadFile(server.url, await makePng(20 + i, 20), 'race.png', {}, { 'X-API-Key': key })),
    );
    const names = new Set(uploads.map((u) => u.body.image.name));
    expect(names.size).toBe(6);
    for (const u of uploads) {
      const file = Buffer.from(await (await fetch(u.body.image.url)).arrayBuffer());
      expect(md5(file)).toBe(u.body.image.md5);
    }
  });

  it('leaves no file behind when an upload fails', async () => {
    const before = await filesUnder(path.join(server.dataDir, 'images'));
    const res = await uploadFile(server.url, Buffer.from('this is not an image at all'), 'fake.png', {}, { 'X-API-Key': key });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(610);
    const truncated = (await makeJpeg(400, 300)).subarray(0, 600);
    const bad = await uploadFile(server.url, truncated, 'cut.jpg', {}, { 'X-API-Key': key });
    expect(bad.status).toBe(400);
    expect(await filesUnder(path.join(server.dataDir, 'images'))).toEqual(before);
    expect(await filesUnder(path.join(server.dataDir, 'tmp'))).toEqual([]);
  });

  it('leaves no work folder behind, stored or refused (the pipeline works in the folder the file part was spooled to)', async () => {
    const stored = await uploadFile(server.url, await makeJpeg(800, 600), 'kept.jpg', {}, { 'X-API-Key': key });
    expect(stored.status).toBe(200);
    const refused = await uploadFile(server.url, Buffer.from('not a picture'), 'nope.png', {}, { 'X-API-Key': key });
    expect(refused.status).toBe(400);
    // (tmp/tus holds the resumable door's parts; every upload's own folder is gone.)
    expect((await readdir(path.join(server.dataDir, 'tmp')).catch(() => [])).filter((name) => name !== 'tus')).toEqual([]);
    // The stored files went into storage whole: the medium and thumb of the 800 px upload are there.
    const thumb = await fetch(stored.body.image.thumb.url);
    expect(thumb.status).toBe(200);
    const medium = await fetch(stored.body.image.medium.url);
    expect(medium.status).toBe(200);
  });
});
