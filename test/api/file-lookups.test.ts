import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUtc } from '../../src/core/dates.js';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * A file's row, read for one request, is used again for a second when nothing was written through
 * this process meanwhile (web/media-files.ts): what changes here shows at once, another
 * instance's change within that second, and expiry on every request.
 */
describe('file lookups remembered for a second', () => {
  let server: TestServer;
  let key: string;
  let userId: number;
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('ferry'));
    userId = (await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'ferry').executeTakeFirstOrThrow()).id;
  });
  afterAll(() => server.close());

  async function uploaded() {
    const res = await uploadFile(server.url, await makeJpeg(320, 240), 'boat.jpg', {}, { 'X-API-Key': key });
    expect(res.status).toBe(200);
    const id = server.ctx.ids.decode(res.body.image.id_encoded as string)!;
    return { url: res.body.image.url as string, id, deleteUrl: res.body.image.delete_url as string, size: Number(res.body.image.size) };
  }

  it('sends a file asked for again and again (then from memory) with the same bytes and headers, ranges and HEAD included, until it is deleted', async () => {
    const file = await uploaded();
    // The connection's own headers aside (a HEAD's answer closes it, as it always did).
    const headersOf = (res: Response) => Object.fromEntries([...res.headers].filter(([name]) => !['date', 'connection', 'keep-alive'].includes(name)));
    const first = await fetch(file.url);
    const bytes = Buffer.from(await first.arrayBuffer());
    expect(bytes.length).toBe(file.size);
    for (let i = 0; i < 3; i++) {
      const again = await fetch(file.url);
      expect(Buffer.from(await again.arrayBuffer()).equals(bytes)).toBe(true);
      expect(headersOf(again)).toEqual(headersOf(first));
    }
    const part = await fetch(file.url, { headers: { range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${file.size}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    const head = await fetch(file.url, { method: 'HEAD' });
    expect(head.headers.get('content-length')).toBe(String(file.size));
    expect(headersOf(head)).toEqual(headersOf(first));
    expect((await fetch(file.url, { headers: { 'if-none-match': first.headers.get('etag')! } })).status).toBe(304);
    // Deleted through this process: not one more byte, hot or not.
    expect((await fetch(file.deleteUrl, { redirect: 'manual' })).status).toBe(301);
    expect((await fetch(file.url)).status).toBe(404);
  });

  it('serves the same row again within a second, and another instance\'s move into a private album shows after it', async () => {
    const file = await uploaded();
    const album = await createAlbum(server.ctx.db, { userId, name: 'Locker', privacy: 'private' });
    expect((await fetch(file.url)).status).toBe(200);
    // Another instance (same database, nothing through this process) moves it into a private album.
    await server.ctx.db.withoutPlugins().updateTable('images').set({ album_id: album.id, listed: 0 }).where('id', '=', file.id).execute();
    const soon = await fetch(file.url);
    expect(soon.status).toBe(200);
    await soon.arrayBuffer();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await fetch(file.url)).status).toBe(404);
  });

  it('stops serving at once a file changed through this process, and one that expired', async () => {
    const moved = await uploaded();
    expect((await fetch(moved.url)).status).toBe(200);
    const album = await createAlbum(server.ctx.db, { userId, name: 'Safe', privacy: 'private' });
    await server.ctx.db.updateTable('images').set({ album_id: album.id, listed: 0 }).where('id', '=', moved.id).execute();
    expect((await fetch(moved.url)).status).toBe(404);

    const expiring = await uploaded();
    expect((await fetch(expiring.url)).status).toBe(200);
    await server.ctx.db.withoutPlugins().updateTable('images').set({ expires_at: formatUtc(new Date(Date.now() - 1000)) }).where('id', '=', expiring.id).execute();
    // The remembered row has no expiry; the next read of the row (after the second) has, and it counts from then on.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await fetch(expiring.url)).status).toBe(404);
  });

  it('stops serving a remembered file at the second it expires', async () => {
    const file = await uploaded();
    // Expiry is kept to the second: this file expires at the start of the second after next.
    const expiresMs = Math.floor(Date.now() / 1000) * 1000 + 2000;
    await server.ctx.db.updateTable('images').set({ expires_at: formatUtc(new Date(expiresMs)) }).where('id', '=', file.id).execute();
    const first = await fetch(file.url);
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toMatch(/^public, max-age=[0-2]$/);
    await first.arrayBuffer();
    // Asked every 100 ms (so the row is mostly remembered): served until then, never after.
    while (Date.now() < expiresMs + 300) {
      const asked = Date.now();
      const res = await fetch(file.url);
      await res.arrayBuffer();
      if (asked >= expiresMs) expect(res.status).toBe(404);
      else if (Date.now() < expiresMs) expect(res.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });
});
