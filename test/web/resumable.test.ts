import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { removeExpiredResumableUploads, resumableDirectory } from '../../src/ingest/resumable-parts.js';
import { removeExpiredSharedResumableState } from '../../src/ingest/resumable-store.js';
import { startBackgroundJobs } from '../../src/jobs/scheduler.js';
import { makeJpeg, makePng } from '../support/media.js';
import { uploadFile } from '../support/api.js';
import { startServerAt } from '../support/restartable-server.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';
import { tusUpload } from '../support/tus.js';
import { WebClient } from './web-client.js';

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** A real PNG of incompressible noise (about width × height × 3 bytes), so chunked uploads have many chunks. */
async function noisyPng(width: number, height: number): Promise<Buffer> {
  const sharp = (await import('sharp')).default;
  const noise = Buffer.alloc(width * height * 3);
  for (let i = 0; i < noise.length; i++) noise[i] = (Math.imul(i + 1, 2654435761) >>> 24) & 0xff;
  return sharp(noise, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

async function listDir(dir: string): Promise<string[]> {
  return readdir(dir).catch(() => []);
}

/** Creates a tus upload by hand (POST) and returns its URL and the response. */
async function createUpload(server: { url: string }, length: number, headers: Record<string, string>, metadata: Record<string, string> = {}) {
  const encoded = Object.entries(metadata).map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',');
  const res = await fetch(`${server.url}/upload/tus`, {
    method: 'POST',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(length), ...(encoded ? { 'Upload-Metadata': encoded } : {}), ...headers },
  });
  const location = res.headers.get('location');
  return { res, url: location ? new URL(location, server.url).href : null, text: await res.text() };
}

async function patch(url: string, offset: number, body: Buffer, headers: Record<string, string>) {
  return fetch(url, {
    method: 'PATCH',
    headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': String(offset), 'Content-Type': 'application/offset+octet-stream', ...headers },
    body: new Uint8Array(body),
  });
}

async function head(url: string, headers: Record<string, string>) {
  return fetch(url, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', ...headers } });
}

describe('resumable uploads (tus) through the one ingest pipeline', () => {
  let server: TestServer;
  let key: string;
  let otherKey: string;
  let userId: number;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_CHUNK_SIZE: '5MB' });
    ({ key, userId } = await server.createUserWithKey('alice'));
    ({ key: otherKey } = await server.createUserWithKey('bob'));
  });
  afterAll(async () => {
    await server.close();
  });

  it('stores a file sent in many chunks and answers the last chunk with the same JSON as the API', async () => {
    const jpeg = await (await import('sharp')).default(await noisyPng(200, 150)).jpeg({ quality: 95 }).toBuffer();
    const chunks: number[] = [];
    const out = await tusUpload(jpeg, {
      endpoint: `${server.url}/upload/tus`,
      chunkSize: 4096,
      metadata: { filename: 'Beach day.jpg', title: 'Beach day', description: 'Sand', tags: 'sea, sun', nsfw: '1' },
      headers: { 'X-API-Key': key },
      onChunkComplete: (chunk) => chunks.push(chunk),
    });
    expect(out.ok, out.text).toBe(true);
    expect(chunks.length).toBeGreaterThan(3);
    expect(out.status).toBe(200);
    const image = out.body.image;
    expect(out.body.status_code).toBe(200);
    expect(image.md5).toBe(md5(jpeg));
    expect(image.title).toBe('Beach day');
    expect(image.description).toBe('Sand');
    expect(image.nsfw).toBe(1);
    expect(image.tags_string).toBe('sea, sun');
    expect(image.original_filename).toBe('Beach day.jpg');
    expect(image.width).toBe(200);
    expect(image.delete_url).toMatch(/\/delete\//);

    // The stored file is the uploaded bytes.
    const stored = Buffer.from(await (await fetch(image.url)).arrayBuffer());
    expect(md5(stored)).toBe(md5(jpeg));

    // Same response shape as the API for the same kind of file.
    const viaApi = await uploadFile(server.url, await makeJpeg(200, 150, '#123456'), 'other.jpg', {}, { 'X-API-Key': key });
    expect(Object.keys(out.body)).toEqual(Object.keys(viaApi.body));
    expect(Object.keys(image)).toEqual(Object.keys(viaApi.body.image));

    // The parts are gone; the answer is kept for a client that lost it.
    expect(await listDir(resumableDirectory(server.dataDir))).toEqual([]);
    const again = await fetch(`${out.url}/result`, { headers: { 'X-API-Key': key } });
    expect(again.status).toBe(200);
    expect((await again.json()).image.id_encoded).toBe(image.id_encoded);
    // ...only for its owner.
    expect((await fetch(`${out.url}/result`, { headers: { 'X-API-Key': otherKey } })).status).toBe(404);
  });

  it('moves a finished local upload into place instead of copying it: the stored file is the parts file itself', async () => {
    const jpeg = await (await import('sharp')).default(await noisyPng(120, 90)).jpeg({ quality: 90 }).toBuffer();
    const created = await createUpload(server, jpeg.length, { 'X-API-Key': key }, { filename: 'moved.jpg' });
    expect(created.res.status, created.text).toBe(201);
    const half = Math.floor(jpeg.length / 2);
    expect((await patch(created.url!, 0, jpeg.subarray(0, half), { 'X-API-Key': key })).status).toBe(204);
    const id = new URL(created.url!).pathname.split('/').pop()!;
    const parts = await stat(path.join(resumableDirectory(server.dataDir), id));
    const last = await patch(created.url!, half, jpeg.subarray(half), { 'X-API-Key': key });
    expect(last.status).toBe(200);
    const image = (await last.json()).image;
    expect(image.md5).toBe(md5(jpeg));
    // Same inode: the bytes were renamed from the parts folder to the work folder to storage, never written again.
    const stored = await stat(path.join(server.dataDir, new URL(image.url).pathname));
    expect(stored.ino).toBe(parts.ino);
    expect(await listDir(resumableDirectory(server.dataDir))).toEqual([]);
  });

  it('puts the file in an album of the uploader (album_id in the metadata)', async () => {
    const album = await createAlbum(server.ctx.db, { userId, name: 'Trips' });
    const albumId = server.ctx.ids.encode(album.id);
    const out = await tusUpload(await makePng(80, 60), {
      endpoint: `${server.url}/upload/tus`,
      metadata: { filename: 'in-album.png', album_id: albumId },
      headers: { 'X-API-Key': key },
    });
    expect(out.ok, out.text).toBe(true);
    const row = await server.ctx.db.selectFrom('images').select('album_id').where('md5', '=', out.body.image.md5).executeTakeFirstOrThrow();
    expect(row.album_id).toBe(album.id);
  });

  it("refuses another user's album when the upload is created, before any byte is sent", async () => {
    const bobAlbum = await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'bob').executeTakeFirstOrThrow();
    const album = await createAlbum(server.ctx.db, { userId: bobAlbum.id, name: 'Not yours' });
    const created = await createUpload(server, 1000, { 'X-API-Key': key }, { filename: 'x.png', album_id: server.ctx.ids.encode(album.id) });
    expect(created.res.status).toBe(403);
    expect(JSON.parse(created.text).error.message).toMatch(/album/i);
    expect(created.url).toBeNull();
  });

  it('refuses a malformed option at creation with a 400 naming it', async () => {
    const created = await createUpload(server, 1000, { 'X-API-Key': key }, { filename: 'x.png', expiration: 'tomorrow' });
    expect(created.res.status).toBe(400);
    expect(JSON.parse(created.text).error.message).toMatch(/expiration/);
  });

  it('enforces the size limit on Upload-Length at creation, in the API words', async () => {
    const before = await listDir(resumableDirectory(server.dataDir));
    const created = await createUpload(server, 100_000_001, { 'X-API-Key': key }, { filename: 'huge.mp4' });
    expect(created.res.status).toBe(413);
    expect(JSON.parse(created.text).error.message).toBe('File too big - max 100 MB');
    expect(await listDir(resumableDirectory(server.dataDir))).toEqual(before);
  });

  it('answers a file that is not an image with the API error, and keeps nothing', async () => {
    const count = async () => Number((await server.ctx.db.selectFrom('images').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const out = await tusUpload(Buffer.from('just some text, certainly not a picture'.repeat(50)), {
      endpoint: `${server.url}/upload/tus`,
      chunkSize: 500,
      metadata: { filename: 'notes.png' },
      headers: { 'X-API-Key': key },
    });
    expect(out.ok).toBe(false);
    expect(out.status).toBe(400);
    expect(out.body.error.code).toBe(610);
    expect(await count()).toBe(before);
    expect(await listDir(resumableDirectory(server.dataDir))).toEqual([]);
  });

  it('needs a key, a session or guest uploads', async () => {
    const png = await makePng();
    const anonymous = await tusUpload(png, { endpoint: `${server.url}/upload/tus` });
    expect(anonymous.status).toBe(401);
    const badKey = await tusUpload(png, { endpoint: `${server.url}/upload/tus`, headers: { 'X-API-Key': 'chv_nope' } });
    expect(badKey.status).toBe(401);
    expect(badKey.body.error.message).toBe('Invalid API key.');
  });

  it("answers someone else's upload as if it did not exist", async () => {
    const png = await makePng(120, 90);
    const created = await createUpload(server, png.length, { 'X-API-Key': key }, { filename: 'mine.png' });
    expect(created.res.status).toBe(201);
    expect(created.url).toMatch(/\/upload\/tus\/[0-9a-f]{32}$/);
    expect((await head(created.url!, { 'X-API-Key': otherKey })).status).toBe(404);
    expect((await patch(created.url!, 0, png, { 'X-API-Key': otherKey })).status).toBe(404);
    const own = await head(created.url!, { 'X-API-Key': key });
    expect(own.headers.get('upload-offset')).toBe('0');
    // The owner gets back what the client sent, never the site's own keys (who, and from which address).
    const meta = own.headers.get('upload-metadata') ?? '';
    expect(meta).toContain(`filename ${Buffer.from('mine.png').toString('base64')}`);
    expect(meta).not.toContain('shoebox_');
    expect(meta).not.toContain(Buffer.from('127.0.0.1').toString('base64'));
  });

  it("can't reach someone else's upload through a crafted URL (query string, encoded slashes, the bare endpoint)", async () => {
    const png = await makePng(120, 90);
    const victim = await createUpload(server, png.length, { 'X-API-Key': key }, { filename: 'alice-secret.png', title: 'Alice only' });
    expect(victim.res.status).toBe(201);
    const victimId = victim.url!.split('/').pop()!;
    const own = await createUpload(server, 7, { 'X-API-Key': otherKey }, { filename: 'bob.png' });
    expect(own.res.status).toBe(201);
    const ownId = own.url!.split('/').pop()!;
    const crafted = [
      `${server.url}/upload/tus/${ownId}?x=/${victimId}`,
      `${server.url}/upload/tus/${ownId}?/${victimId}`,
      `${server.url}/upload/tus/${ownId}#/${victimId}`,
      `${server.url}/upload/tus?x=/${victimId}`,
      `${server.url}/upload/tus/?/${victimId}`,
      `${server.url}/upload/tus/${ownId}%3Fx=%2F${victimId}`,
      `${server.url}/upload/tus/${ownId}%2F${victimId}`,
    ];
    const bob = { 'X-API-Key': otherKey };
    for (const url of crafted) {
      const looked = await head(url, bob);
      // Either Bob's own upload (7 bytes) or nothing: never Alice's length or metadata.
      expect(looked.headers.get('upload-length') ?? '7', url).toBe('7');
      const meta = looked.headers.get('upload-metadata') ?? '';
      const decoded = meta.split(',').map((pair) => Buffer.from(pair.trim().split(' ')[1] ?? '', 'base64').toString()).join(' ');
      expect(decoded, url).not.toContain('alice-secret');
      const written = await patch(url, 0, png, bob);
      expect(written.status, url).not.toBe(204);
      await fetch(url, { method: 'DELETE', headers: { 'Tus-Resumable': '1.0.0', ...bob } });
    }
    // Alice's upload is untouched: still there, nothing written into it, and she can finish it.
    const after = await head(victim.url!, { 'X-API-Key': key });
    expect(after.status).toBe(200);
    expect(after.headers.get('upload-offset')).toBe('0');
    const finished = await patch(victim.url!, 0, png, { 'X-API-Key': key });
    expect(finished.status).toBe(200);
    const body = (await finished.json()) as { image: { title: string; user: { username: string } } };
    expect(body.image.title).toBe('Alice only');
  });

  it('takes a signed-in browser session, and refuses a request from another site', async () => {
    const browser = new WebClient(server.url);
    await browser.login('alice', 'password123');
    const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    expect(cookie).toContain('shoebox_session=');
    const out = await tusUpload(await makePng(70, 50, '#0a0'), {
      endpoint: `${server.url}/upload/tus`,
      metadata: { filename: 'session.png' },
      headers: { cookie, Origin: server.url },
    });
    expect(out.ok, out.text).toBe(true);
    const row = await server.ctx.db.selectFrom('images').select('user_id').where('md5', '=', out.body.image.md5).executeTakeFirstOrThrow();
    expect(row.user_id).toBe(userId);

    const forged = await createUpload(server, 100, { cookie, Origin: 'https://evil.example' }, { filename: 'x.png' });
    expect(forged.res.status).toBe(403);
  });

  it('tells tus clients what it supports, the size limit included (OPTIONS, no sign-in needed)', async () => {
    const res = await fetch(`${server.url}/upload/tus`, { method: 'OPTIONS' });
    expect(res.status).toBe(204);
    expect(res.headers.get('tus-max-size')).toBe('100000000');
    expect(res.headers.get('tus-extension')).toContain('creation');
    expect(res.headers.get('tus-extension')).toContain('expiration');
  });

  it('ingests an upload whose bytes all arrived but that was never finished, when its result is asked for', async () => {
    const png = await makePng(60, 40, '#abc');
    const created = await createUpload(server, png.length, { 'X-API-Key': key }, { filename: 'orphan.png', title: 'Recovered' });
    const id = created.url!.split('/').pop()!;
    // As if the server went down after the last byte landed and before the pipeline ran.
    await writeFile(path.join(resumableDirectory(server.dataDir), id), png);
    expect((await head(created.url!, { 'X-API-Key': key })).headers.get('upload-offset')).toBe(String(png.length));
    expect((await fetch(`${created.url}/result`, { headers: { 'X-API-Key': otherKey } })).status).toBe(404);
    const res = await fetch(`${created.url}/result`, { headers: { 'X-API-Key': key } });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.image.title).toBe('Recovered');
    expect(body.image.md5).toBe(md5(png));
    expect(await listDir(resumableDirectory(server.dataDir))).not.toContain(id);
  });

  it('removes unfinished uploads once they expire, and keeps younger ones', async () => {
    const png = await makePng(300, 200);
    const old = await createUpload(server, png.length, { 'X-API-Key': key }, { filename: 'old.png' });
    expect((await patch(old.url!, 0, png.subarray(0, 100), { 'X-API-Key': key })).status).toBe(204);
    const expiry = server.settings.resumableExpirySeconds;
    const id = old.url!.split('/').pop()!;
    // Age the upload as if it had been started one expiry period ago.
    const infoFile = path.join(resumableDirectory(server.dataDir), `${id}.json`);
    const info = JSON.parse(await readFile(infoFile, 'utf8'));
    info.creation_date = new Date(Date.now() - (expiry + 60) * 1000).toISOString();
    await writeFile(infoFile, JSON.stringify(info));
    const young = await createUpload(server, png.length, { 'X-API-Key': key }, { filename: 'young.png' });

    // tus already refuses to continue the expired one...
    expect((await head(old.url!, { 'X-API-Key': key })).status).toBe(410);
    // ...and the background sweep removes its parts.
    const jobs = startBackgroundJobs(server.ctx, { info: () => undefined, error: () => undefined });
    await jobs.runOnce();
    await jobs.stop();
    const left = await listDir(resumableDirectory(server.dataDir));
    expect(left.some((f) => f.startsWith(id))).toBe(false);
    const youngId = young.url!.split('/').pop()!;
    expect(left).toContain(youngId);
    expect((await head(old.url!, { 'X-API-Key': key })).status).toBe(404);

    // At a later moment the young one expires too, and the kept answers of finished uploads go.
    const keptAnswers = async () => (await server.ctx.db.selectFrom('resumable_results').select('id').execute()).length;
    const kept = await keptAnswers();
    expect(kept).toBeGreaterThan(0);
    // An answer is kept for the expiry period after its ingest finished, however long ago it was claimed (a slow ingest).
    await server.ctx.db.updateTable('resumable_results').set({ claimed_at: Date.now() - (expiry + 60) * 1000 }).execute();
    await removeExpiredSharedResumableState(server.settings, server.ctx.db, Date.now());
    expect(await keptAnswers()).toBe(kept);
    const later = Date.now() + (expiry + 60) * 1000;
    expect(await removeExpiredResumableUploads(server.dataDir, expiry, later)).toBeGreaterThan(0);
    expect(await removeExpiredSharedResumableState(server.settings, server.ctx.db, later)).toBeGreaterThan(0);
    expect(await listDir(resumableDirectory(server.dataDir))).toEqual([]);
    expect(await keptAnswers()).toBe(0);
  });
});

describe('resumable uploads across a server restart', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-resume-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('resumes where it stopped after the server went down mid-upload, byte for byte', async () => {
    const port = await freePort();
    let server = await startServerAt(dataDir, port);
    const { createUser } = await import('../../src/db/repositories/users.js');
    const { regenerateApiKey } = await import('../../src/db/repositories/api-keys.js');
    const user = await createUser(server.ctx.db, { username: 'carol', password: 'password123', email: null });
    const key = await regenerateApiKey(server.ctx.db, user.id);
    // A real image of about 1.5 MB, sent in 64 KB chunks.
    const png = await noisyPng(700, 700);
    const chunkSize = 64 * 1024;

    let stopped = false;
    let killed: Promise<void> | null = null;
    const first = await tusUpload(png, {
      endpoint: `${server.url}/upload/tus`,
      chunkSize,
      metadata: { filename: 'noise.png' },
      headers: { 'X-API-Key': key },
      onChunkComplete: (_chunk, accepted) => {
        // After a few chunks the server goes down while the next one is on its way.
        if (!stopped && accepted >= chunkSize * 5) {
          stopped = true;
          killed = server.kill();
        }
      },
    });
    expect(first.ok).toBe(false);
    await killed;
    expect(first.url).toMatch(/\/upload\/tus\//);

    server = await startServerAt(dataDir, port);
    const offset = Number((await head(first.url!, { 'X-API-Key': key })).headers.get('upload-offset'));
    expect(offset).toBeGreaterThanOrEqual(chunkSize * 5);
    expect(offset).toBeLessThan(png.length);

    let resentFrom = -1;
    const resumed = await tusUpload(png, {
      endpoint: `${server.url}/upload/tus`,
      uploadUrl: first.url!,
      chunkSize,
      headers: { 'X-API-Key': key },
      onProgress: (sent) => {
        if (resentFrom < 0) resentFrom = sent;
      },
    });
    expect(resumed.ok, resumed.text).toBe(true);
    // It went on from the server's offset instead of sending everything again.
    expect(resentFrom).toBeGreaterThanOrEqual(offset);
    expect(resumed.body.image.md5).toBe(md5(png));
    const stored = Buffer.from(await (await fetch(resumed.body.image.url)).arrayBuffer());
    expect(stored.equals(png)).toBe(true);
    await server.kill();
  });
});

describe('guests and sub-paths', () => {
  it('lets guests upload when the site allows it, with the guest size limit and forced expiry', async () => {
    const server = await startTestServer({ SHOEBOX_GUEST_WEB_UPLOADS: '1', SHOEBOX_GUEST_MAX_UPLOAD_SIZE: '50KB', SHOEBOX_GUEST_EXPIRATION: '3600' });
    try {
      const out = await tusUpload(await makePng(50, 50), { endpoint: `${server.url}/upload/tus`, metadata: { filename: 'guest.png' } });
      expect(out.ok, out.text).toBe(true);
      const expires = Date.parse(`${out.body.image.expiration_date_gmt.replace(' ', 'T')}Z`);
      expect(expires - Date.now()).toBeGreaterThan(3500 * 1000);
      expect(expires - Date.now()).toBeLessThanOrEqual(3600 * 1000);
      const tooBig = await createUpload(server, 50_001, {}, { filename: 'big.png' });
      expect(tooBig.res.status).toBe(413);
      expect(JSON.parse(tooBig.text).error.message).toBe('File too big - max 50 KB');
    } finally {
      await server.close();
    }
  });

  it('works under a base path, handing out upload URLs with it', async () => {
    const port = await freePort();
    const server = await startTestServer({ PORT: String(port), SHOEBOX_BASE_URL: `http://127.0.0.1:${port}/pics` });
    try {
      const { key } = await server.createUserWithKey('dave');
      const created = await createUpload(server, 10, { 'X-API-Key': key }, { filename: 'x.png' });
      expect(created.res.headers.get('location')).toMatch(/^\/pics\/upload\/tus\/[0-9a-f]{32}$/);
      const png = await makePng(30, 30);
      const out = await tusUpload(png, { endpoint: `${server.url}/upload/tus`, headers: { 'X-API-Key': key }, metadata: { filename: 'sub.png' } });
      expect(out.ok, out.text).toBe(true);
      expect(out.url).toContain('/pics/upload/tus/');
      expect(out.body.image.url).toContain('/pics/images/');
    } finally {
      await server.close();
    }
  });
});

describe('add by URL and new album from the uploads', () => {
  let server: TestServer;
  let origin: Server;
  let originUrl: string;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('erin'));
    const png = await makePng(90, 60);
    origin = createServer((req, res) => {
      if (req.url === '/cat.png') res.writeHead(200, { 'Content-Type': 'image/png' }).end(png);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    origin.close();
    await server.close();
  });

  const postJson = (pathname: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${pathname}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('fetches a URL through the pipeline and answers like the API', async () => {
    const res = await postJson('/upload/url', { url: `${originUrl}/cat.png`, title: 'From the web' }, { 'X-API-Key': key });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.image.title).toBe('From the web');
    expect(body.image.width).toBe(90);
  });

  it('reports a URL that gives no image, and refuses anonymous callers', async () => {
    const missing = await postJson('/upload/url', { url: `${originUrl}/nothing.png` }, { 'X-API-Key': key });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error.code).toBe(610);
    expect((await postJson('/upload/url', { url: `${originUrl}/cat.png` })).status).toBe(401);
    const form = await fetch(`${server.url}/upload/url`, { method: 'POST', headers: { 'X-API-Key': key, 'Content-Type': 'application/x-www-form-urlencoded' }, body: `url=${originUrl}/cat.png` });
    expect(form.status).toBe(415);
  });

  it('creates an album holding the files just uploaded, ignoring files that are not the caller\'s', async () => {
    const mine = await Promise.all([1, 2].map(async (n) => (await uploadFile(server.url, await makePng(40 + n, 40), `m${n}.png`, {}, { 'X-API-Key': key })).body.image.id_encoded));
    const { key: otherKey } = await server.createUserWithKey('frank');
    const theirs = (await uploadFile(server.url, await makePng(33, 33), 'theirs.png', {}, { 'X-API-Key': otherKey })).body.image.id_encoded;
    const res = await postJson('/upload/album', { name: 'Just uploaded', privacy: 'private', ids: [...mine, theirs] }, { 'X-API-Key': key });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.moved).toBe(2);
    expect(body.album.url).toContain(`/album/${body.album.id_encoded}`);
    const albumId = server.ctx.ids.decode(body.album.id_encoded)!;
    const rows = await server.ctx.db.selectFrom('images').select(['album_id', 'listed']).where('album_id', '=', albumId).execute();
    expect(rows).toHaveLength(2);
    // A private album's files leave the public listings.
    expect(rows.every((r) => r.listed === 0)).toBe(true);
    const bad = await postJson('/upload/album', { name: '', ids: mine }, { 'X-API-Key': key });
    expect(bad.status).toBe(400);
    // The route's schema refuses malformed input in the API's envelope, naming the field.
    const noName = await postJson('/upload/album', { ids: mine }, { 'X-API-Key': key });
    expect(noName.status).toBe(400);
    expect(await noName.json()).toMatchObject({ status_code: 400, error: { code: 400, message: 'Invalid name: is required' }, status_txt: 'Bad Request' });
    const badIds = await postJson('/upload/album', { name: 'x', ids: [{ id: 1 }] }, { 'X-API-Key': key });
    expect(badIds.status).toBe(400);
    expect((await badIds.json()).error.message).toBe('Invalid ids.0: must be string');
    const badPrivacy = await postJson('/upload/album', { name: 'x', privacy: 'secret' }, { 'X-API-Key': key });
    expect(badPrivacy.status).toBe(400);
    expect((await badPrivacy.json()).error.message).toMatch(/^Invalid privacy/);
  });
});
