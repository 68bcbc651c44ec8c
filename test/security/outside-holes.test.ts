import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from '../web/web-client.js';

/**
 * Issue 13: the holes found from outside (items 4, 7, 8, 9, 10 and the security headers), each
 * checked the way the attacker found it, over real HTTP.
 */

/** Sends only the headers of a request that announces a huge body, and reports how the server answers without it. */
function announceHugeBody(url: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(path, url);
    const req = httpRequest({ host: target.hostname, port: target.port, path: target.pathname + target.search, method: 'POST', headers: { ...headers, 'Content-Length': String(130_000_000) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    // Only the first bytes of the body: the answer must come without the other 130 MB.
    req.write('x'.repeat(1000));
  });
}

describe('holes found from outside', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FORM_BODY_LIMIT: '64KB', SHOEBOX_MAX_UPLOAD_SIZE: '2MB', SHOEBOX_GUEST_WEB_UPLOADS: '0' });
    ({ key } = await server.createUserWithKey('owner'));
  });
  afterAll(async () => {
    await server.close();
  });

  describe('body limits per route (item 4)', () => {
    it('refuses a 130 MB sign-in form at once with a 413 page, without reading it', async () => {
      const res = await announceHugeBody(server.url, '/login', { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url });
      expect(res.status).toBe(413);
      expect(res.body).toContain('<!doctype html>');
      expect(res.body).toContain('That request is too large');
    });

    it('refuses a form just over the form limit with a 413 page in the visitor\'s language', async () => {
      const browser = new WebClient(server.url, { 'Accept-Language': 'nl' });
      await browser.get('/login');
      const res = await browser.post('/login', { login: 'x'.repeat(70_000), password: 'y' });
      expect(res.status).toBe(413);
      expect(res.text).toContain('Dit verzoek is te groot');
    });

    it('answers an oversized JSON body of the web uploader with a 413 in the API envelope', async () => {
      const res = await fetch(`${server.url}/upload/url`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-API-Key': key },
        body: JSON.stringify({ url: 'http://127.0.0.1/x.png', description: 'd'.repeat(100_000) }),
      });
      expect(res.status).toBe(413);
      const body = await res.json();
      expect(body.status_code).toBe(413);
      expect(body.error.message).toMatch(/too large/i);
    });

    it('refuses a bad API key from the header before reading a big body', async () => {
      const res = await announceHugeBody(server.url, '/api/1/upload', { 'Content-Type': 'application/x-www-form-urlencoded', 'X-API-Key': 'chv_wrong' });
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body).error.message).toBe('Invalid API key.');
    });

    it('still takes a file as base64 in a form far bigger than the form limit on the upload route', async () => {
      const jpeg = await makeJpeg(1200, 900, '#a52');
      const noise = Buffer.alloc(0xfffd, 0x41);
      // A JPEG padded with a comment segment to over 64 KB, so its base64 body is over the form limit.
      const file = Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xfe, 0xff, 0xff]), noise, jpeg.subarray(2)]);
      const res = await fetch(`${server.url}/api/1/upload`, {
        method: 'POST',
        headers: { 'X-API-Key': key },
        body: new URLSearchParams({ source: file.toString('base64') }),
      });
      expect(res.status).toBe(200);
      expect((await res.json()).image.size).toBe(file.length);
    });

    it('refuses an over-size multipart file in the API envelope (the stream stops at the limit)', async () => {
      const big = Buffer.concat([await makeJpeg(100, 100), Buffer.alloc(2_100_000)]);
      const res = await uploadFile(server.url, big, 'big.jpg', {}, { 'X-API-Key': key });
      expect(res.status).toBe(413);
      expect(res.body.error.message).toMatch(/File too big/);
    });
  });

  it('puts the viewer\'s CSRF token only in its own forms, never into user text equal to a placeholder (item 7)', async () => {
    const png = await makePng(40, 30, '#135');
    const old = 'shoebox-csrf-placeholder-5b1f0c';
    const uploaded = await uploadFile(server.url, png, 'p.png', { title: old, description: `before ${old} after` }, { 'X-API-Key': key });
    expect(uploaded.status).toBe(200);
    const viewer = uploaded.body.image.url_viewer as string;
    // A visitor without a session (the page cache's path), twice: rendered, then from the cache.
    for (let i = 0; i < 2; i++) {
      const visitor = new WebClient(server.url);
      const page = await visitor.get(viewer);
      expect(page.status).toBe(200);
      expect(page.text).toContain(`before ${old} after`);
      expect(page.text).toContain(`content="${old}"`);
      expect(visitor.cookies.has('shoebox_csrf')).toBe(false);
    }
    // A signed-in visitor: the token fills its forms, and the title and description stay as written.
    const member = new WebClient(server.url);
    await member.signup('reader');
    const page = await member.get(viewer);
    expect(page.text).toContain(`before ${old} after`);
    expect(page.text).toContain(`content="${old}"`);
    expect(member.csrf).not.toBeNull();
    expect(page.text.split(member.csrf!).length - 1).toBe((page.text.match(/name="_csrf"/g) ?? []).length);
  });

  it('answers broken percent-escapes and odd paths with 4xx, never 5xx (item 8)', async () => {
    const png = await makePng(20, 20);
    const { body } = await uploadFile(server.url, png, 'e.png', {}, { 'X-API-Key': key });
    const viewerPath = new URL(body.image.url_viewer).pathname;
    const paths = [
      '/static/', '/static/%', '/static/%zz', '/static/..%2f..%2fpackage.json', '/static/%00',
      `/oembed?url=${encodeURIComponent(`${server.url}/image/%E0%A4%A`)}`, `/oembed?url=${encodeURIComponent(`${server.url}/image/%`)}`,
      '/oembed?url=%', '/image/%', '/image/%E0%A4%A', `${viewerPath}%`, '/video/%zz', '/tag/%', '/tag/%E0%A4%A', '/album/%', '/%',
      '/%E0%A4%A', '/search?q=%', '/images/%', '/images/2024/01/01/%zz.jpg', '/api/1/upload?key=%', '/explore?before=%',
      '/login?next=%', '/upload/tus/%', '/upload/tus/%/result', '/assets/uploader/%', '/assets/uploader/', '/%2e%2e/', '/delete/image/%/x',
    ];
    const failures: string[] = [];
    for (const path of paths) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await fetch(`${server.url}${path}`, {
          method,
          redirect: 'manual',
          headers: method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url } : {},
          body: method === 'POST' ? 'a=%&b=%E0%A4%A' : undefined,
        });
        if (res.status >= 500) failures.push(`${method} ${path} → ${res.status}`);
      }
    }
    expect(failures).toEqual([]);
    expect((await fetch(`${server.url}/static/`)).status).toBe(404);
  });

  it('a tag used only on private files is as unknown as a tag nobody used (item 10)', async () => {
    const browser = new WebClient(server.url);
    await browser.login('owner', 'password123');
    await browser.get('/albums/new');
    const created = await browser.post('/albums', { name: 'Hidden', privacy: 'private', description: '', password: '', parent: '' });
    const albumId = /^\/album\/([A-Za-z0-9]+)/.exec(created.location!)![1];
    const png = await makePng(30, 30, '#777');
    expect((await uploadFile(server.url, png, 'h.png', { tags: 'secretproject', album_id: albumId }, { 'X-API-Key': key })).status).toBe(200);
    expect((await uploadFile(server.url, png, 'o.png', { tags: 'opentag' }, { 'X-API-Key': key })).status).toBe(200);
    const unknown = await fetch(`${server.url}/tag/neverused`);
    const privateOnly = await fetch(`${server.url}/tag/secretproject`);
    const paged = await fetch(`${server.url}/tag/secretproject?before=999999`);
    expect(unknown.status).toBe(404);
    expect(privateOnly.status).toBe(404);
    expect(paged.status).toBe(404);
    expect((await privateOnly.text()).replaceAll('secretproject', 'X')).toBe((await unknown.text()).replaceAll('neverused', 'X'));
    expect((await fetch(`${server.url}/tag/opentag`)).status).toBe(200);
  });

  it('publishes no source maps of the uploader (item 10)', async () => {
    const launcher = await fetch(`${server.url}/assets/uploader/launcher.js`);
    expect(launcher.status).toBe(200);
    expect(await launcher.text()).not.toContain('sourceMappingURL=');
    expect((await fetch(`${server.url}/assets/uploader/launcher.js.map`)).status).toBe(404);
  });

  it('sends the security headers on pages, API answers and files; pages with a CSP that forbids framing by others', async () => {
    const png = await makePng(20, 20);
    const { body } = await uploadFile(server.url, png, 'h.png', {}, { 'X-API-Key': key });
    const page = await fetch(`${server.url}/login`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    for (const res of [page, await fetch(`${server.url}/api/1/upload`), await fetch(body.image.url)]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
      expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    }
    // Files stay embeddable by other sites (hotlinking is what an image host is for).
    expect((await fetch(body.image.url)).headers.get('cross-origin-resource-policy')).toBe('cross-origin');
  });
});

describe('sign-up does not tell which addresses have accounts, unthrottled (item 9)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.createUserWithKey('taken');
  });
  afterAll(async () => {
    await server.close();
  });

  it('counts every try against the hourly sign-up limit before looking the address up', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 14; i++) {
      const browser = new WebClient(server.url);
      const res = await browser.signup(`probe${i}`, 'correct horse battery', i % 2 === 0 ? 'taken@example.test' : `nobody${i}@example.test`);
      statuses.push(res.status);
      if (res.status === 303) await browser.post('/logout');
    }
    // 10 tries an hour from one address, whatever their answer; then only "too many" for every address.
    expect(statuses.slice(0, 10).every((s) => s === 409 || s === 303)).toBe(true);
    expect(statuses.slice(10)).toEqual([429, 429, 429, 429]);
  });
});

describe('/healthz (item 10)', () => {
  let server: TestServer;
  beforeAll(async () => {
    // S3 storage at a port where nothing listens: the storage check fails.
    server = await startTestServer({
      SHOEBOX_STORAGE: 's3',
      SHOEBOX_S3_ENDPOINT: 'http://127.0.0.1:9',
      SHOEBOX_S3_ACCESS_KEY_ID: 'x',
      SHOEBOX_S3_SECRET_ACCESS_KEY: 'y',
    });
  });
  afterAll(async () => {
    await server.close();
  });

  it('says which service is down, without the error text (hosts, ports, driver messages)', async () => {
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    const body = await res.json();
    expect(body).toEqual({ status: 'unhealthy', checks: { database: 'ok', storage: 'unavailable' } });
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|:9/);
  });
});
