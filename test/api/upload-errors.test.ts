import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeJpeg, makePng } from '../support/media.js';
import { postForm, uploadFile } from '../support/api.js';

/** Every row of API-V1.md's error table: the code clients branch on, a fitting 4xx, the envelope. */
describe('upload errors', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_MAX_UPLOAD_SIZE: '60KB', SHOEBOX_ACCEPTED_TYPES: 'jpg,png,gif,webp,bmp' });
    ({ key } = await server.createUserWithKey('alice'));
  });
  afterAll(() => server.close());

  const expectEnvelope = (res: { status: number; body: any }, status: number, code: number, message?: RegExp | string) => {
    expect(res.status).toBe(status);
    expect(res.body.status_code).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(typeof res.body.status_txt).toBe('string');
    if (message) expect(res.body.error.message).toMatch(message);
  };

  it('no key: 100 "No key provided"; unknown key: 100 "Invalid API key."', async () => {
    expectEnvelope(await uploadFile(server.url, await makePng(), 'a.png'), 401, 100, 'No key provided');
    expectEnvelope(await uploadFile(server.url, await makePng(), 'a.png', { key: 'chv_nope' }), 401, 100, 'Invalid API key.');
    expectEnvelope(await uploadFile(server.url, await makePng(), 'a.png', {}, { 'X-API-Key': 'chv_nope' }), 401, 100, 'Invalid API key.');
  });

  it('unknown version 110, unknown action 120', async () => {
    expectEnvelope(await postForm(server.url, { key }, {}, '/api/2/upload'), 404, 110, 'Invalid API version.');
    expectEnvelope(await postForm(server.url, { key }, {}, '/api/1/frobnicate'), 404, 120, 'Invalid API action');
  });

  it('no source: 130 "Empty upload source"', async () => {
    expectEnvelope(await postForm(server.url, { key }), 400, 130, 'Empty upload source');
  });

  it('base64 that does not decode: 120', async () => {
    expectEnvelope(await postForm(server.url, { key, source: 'this is %%% not base64!' }), 400, 120, 'Invalid base64 string');
  });

  it('not an image: 610; a format outside the accepted list: 613', async () => {
    expectEnvelope(await postForm(server.url, { key, source: Buffer.from('hello world, plain text').toString('base64') }), 400, 610, "Can't get target upload source info");
    const sharp = (await import('sharp')).default;
    const tiff = await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000' } }).tiff().toBuffer();
    expectEnvelope(await uploadFile(server.url, tiff, 'scan.tiff', {}, { 'X-API-Key': key }), 415, 613, 'Unavailable image format');
  });

  it('over the size limit: 400 "File too big - max 60 KB", as a 413', async () => {
    const big = Buffer.concat([await makeJpeg(16, 16), Buffer.alloc(70_000, 1)]);
    expectEnvelope(await uploadFile(server.url, big, 'big.jpg', {}, { 'X-API-Key': key }), 413, 400, 'File too big - max 60 KB');
  });

  it('width larger than the original: 610', async () => {
    expectEnvelope(await uploadFile(server.url, await makePng(100, 50), 'a.png', { width: '101' }, { 'X-API-Key': key }), 400, 610, 'Target width is greater than the original image width');
  });

  it('malformed parameters are a 400 naming the parameter', async () => {
    const png = await makePng();
    for (const [field, value] of [['width', 'abc'], ['width', '0'], ['nsfw', 'maybe'], ['expiration', 'soon'], ['expiration', 'P'], ['category_id', '-3']]) {
      const res = await uploadFile(server.url, png, 'a.png', { [field]: value }, { 'X-API-Key': key });
      expectEnvelope(res, 400, 400, new RegExp(field));
    }
  });

  it("an album that doesn't exist is a 404; someone else's album is a 403", async () => {
    const { createAlbum } = await import('../../src/db/repositories/albums.js');
    const { userId: bobId } = await server.createUserWithKey('bob');
    const bobs = await createAlbum(server.ctx.db, { userId: bobId, name: 'Bob only' });
    expectEnvelope(await uploadFile(server.url, await makePng(), 'a.png', { album_id: server.ctx.ids.encode(bobs.id) }, { 'X-API-Key': key }), 403, 403);
    expectEnvelope(await uploadFile(server.url, await makePng(), 'a.png', { album_id: server.ctx.ids.encode(bobs.id + 1000) }, { 'X-API-Key': key }), 404, 404);
  });

  it('answers errors in plain text when format=txt', async () => {
    const res = await postForm(server.url, { key, format: 'txt' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text).toBe('Empty upload source');
  });

  it('never answers bad input with HTML or a 5xx', async () => {
    const bodies: [string, RequestInit][] = [
      ['garbage multipart', { method: 'POST', body: 'x', headers: { 'Content-Type': 'multipart/form-data; boundary=zz', 'X-API-Key': key } }],
      ['bad json', { method: 'POST', body: '{"source":', headers: { 'Content-Type': 'application/json', 'X-API-Key': key } }],
      ['urlencoded nonsense', { method: 'POST', body: '%%%=%%%', headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-API-Key': key } }],
    ];
    for (const [label, init] of bodies) {
      const res = await fetch(`${server.url}/api/1/upload`, init);
      expect(res.status, label).toBeGreaterThanOrEqual(400);
      expect(res.status, label).toBeLessThan(500);
      expect(res.headers.get('content-type'), label).toMatch(/json/);
    }
  });
});

describe('duplicates and flooding', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_REFUSE_DUPLICATES: '1', SHOEBOX_FLOOD_LIMIT: '3' });
    ({ key } = await server.createUserWithKey('carol'));
  });
  afterAll(() => server.close());

  it('refuses a duplicate with 101 and the existing file\'s URLs; then floods at the limit with 130/429', async () => {
    const png = await makePng(33, 33);
    const first = await uploadFile(server.url, png, 'dup.png', {}, { 'X-API-Key': key });
    expect(first.status).toBe(200);
    const again = await uploadFile(server.url, png, 'dup.png', {}, { 'X-API-Key': key });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe(101);
    expect(again.body.error.message).toBe('Duplicated upload');
    expect(again.body.error.image.url).toBe(first.body.image.url);
    const third = await uploadFile(server.url, await makePng(34, 34), 'x.png', {}, { 'X-API-Key': key });
    expect(third.status).toBe(200);
    const flooded = await uploadFile(server.url, await makePng(35, 35), 'y.png', {}, { 'X-API-Key': key });
    expect(flooded.status).toBe(429);
    expect(flooded.body.error.code).toBe(130);
    expect(flooded.body.error.message).toBe('Flooding detected. You can only upload 3 images per minute');
  });
});

describe('URL sources that must be refused', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_ALLOW_PRIVATE_URLS: '0' });
    ({ key } = await server.createUserWithKey('dave'));
  });
  afterAll(() => server.close());

  it('refuses loopback, private and link-local addresses', async () => {
    for (const url of [`http://127.0.0.1:${server.port}/`, 'http://localhost/', 'http://10.0.0.1/x.png', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x.png', 'http://192.168.1.1/a.jpg']) {
      const res = await postForm(server.url, { key, source: url });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code, url).toBe(610);
    }
  });
});
