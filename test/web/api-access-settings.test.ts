import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { decodeEntities, inputValue, WebClient } from './web-client.js';

/** Settings → API access: named keys with scopes (created, used, revoked) and webhooks with their delivery log. */
describe('settings: API access', () => {
  let server: TestServer;
  let browser: WebClient;
  let receiver: Server;
  let receiverUrl: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    // The first account of a site is its admin; this suite's user is the second.
    await new WebClient(server.url).signup('siteowner');
    browser = new WebClient(server.url);
    await browser.signup('settler');
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(body);
        res.writeHead(202).end('accepted here');
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/in`;
  });
  afterAll(async () => {
    receiver.closeAllConnections();
    await new Promise((resolve) => receiver.close(resolve));
    await server.close();
  });

  it('creates a named key with chosen scopes, shows it once, records its last use, and revokes it', async () => {
    const page = await browser.get('/settings/api');
    expect(page.status).toBe(200);
    expect(page.text).toContain('You have no API key yet.');
    expect((await browser.get('/settings')).text).toContain('/settings/api');

    expect((await browser.post('/settings/api/keys', { label: '', scope: 'read' })).status).toBe(400);
    expect((await browser.post('/settings/api/keys', { label: 'x', scope: [] })).text).toContain('Choose at least one scope.');
    expect((await browser.post('/settings/api/keys', { label: 'x', scope: 'read', expires: '2001-01-01' })).status).toBe(400);
    // `admin` is not offered to a user who is not one, and ignored when sent.
    const posted = await browser.post('/settings/api/keys', { label: 'Photo backup', scope: ['upload', 'admin'] });
    // Post/Redirect/Get: the key is shown once on the page the POST redirects to.
    expect(posted.status).toBe(303);
    expect(posted.location).toMatch(/\/settings\/api#new-key$/);
    const created = await browser.get('/settings/api');
    expect(created.status).toBe(200);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const key = inputValue(created.text, 'named-api-key')!;
    expect(key).toMatch(/^chv_/);
    expect(created.text).not.toContain('value="admin"');
    // A named key replaces nothing: no "the old key no longer works".
    expect(created.text).toContain('it is shown only this once.');
    expect(created.text).not.toContain('no longer works');
    // Reloading shows it no more and makes no other key.
    const reloaded = decodeEntities((await browser.get('/settings/api')).text);
    expect(reloaded).not.toContain(key);
    expect(reloaded.match(/data-key="\d+"/g)).toHaveLength(1);

    expect((await uploadFile(server.url, await makePng(), 'a.png', {}, { 'X-API-Key': key })).status).toBe(200);
    const listRes = await fetch(`${server.url}/api/4/user/images/list/`, { headers: { 'X-API-Key': key } });
    expect(listRes.status).toBe(403);

    const later = decodeEntities((await browser.get('/settings/api')).text);
    expect(later).not.toContain(key);
    expect(later).toContain(key.slice(0, 12));
    expect(later).toContain('Photo backup');
    expect(later).toMatch(/from 127\.0\.0\.1/);
    const keyId = /data-key="(\d+)"/.exec(later)![1];

    await browser.post(`/settings/api/keys/${keyId}/revoke`);
    expect((await uploadFile(server.url, await makePng(), 'b.png', {}, { 'X-API-Key': key })).status).toBe(401);
    expect((await browser.get('/settings/api')).text).not.toContain('Photo backup');
  });

  it('adds a webhook (secret shown once), logs its deliveries, and deletes it; site-wide hooks are for admins', async () => {
    expect((await browser.post('/settings/api/webhooks', { url: 'ftp://x', event: 'image.created' })).status).toBe(400);
    expect((await browser.post('/settings/api/webhooks', { url: receiverUrl, event: 'image.created', site_wide: '1' })).status).toBe(403);
    const posted = await browser.post('/settings/api/webhooks', { url: receiverUrl, event: ['image.created', 'image.deleted'] });
    expect(posted.status).toBe(303);
    const added = await browser.get('/settings/api');
    expect(added.status).toBe(200);
    const secret = inputValue(added.text, 'webhook-secret')!;
    expect(secret).toMatch(/^whsec_/);
    // Reloading the page neither shows the secret again nor adds another hook.
    const again = decodeEntities((await browser.get('/settings/api')).text);
    expect(again).not.toContain(secret);
    expect(again.match(/data-hook="\d+"/g)).toHaveLength(1);

    await browser.post('/settings/api/keys', { label: 'uploader', scope: 'upload' });
    const key = inputValue((await browser.get('/settings/api')).text, 'named-api-key')!;
    await uploadFile(server.url, await makePng(20, 20, '#9a9'), 'hooked.png', {}, { 'X-API-Key': key });
    for (let i = 0; i < 100 && bodies.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(JSON.parse(bodies[0]).event).toBe('image.created');
    await new Promise((r) => setTimeout(r, 200));

    const page = decodeEntities((await browser.get('/settings/api')).text);
    expect(page).not.toContain(secret);
    expect(page).toContain(receiverUrl);
    expect(page).toMatch(/data-state="delivered"/);
    expect(page).toContain('HTTP 202');
    expect(page).toContain('accepted here');

    const hookId = /data-hook="(\d+)"/.exec(page)![1];
    await browser.post(`/settings/api/webhooks/${hookId}/delete`);
    expect((await browser.get('/settings/api')).text).not.toContain(receiverUrl);
  });

  it('refuses a webhook to a private address unless SHOEBOX_ALLOW_PRIVATE_URLS is set', async () => {
    const strict = await startTestServer({ SHOEBOX_ALLOW_PRIVATE_URLS: '0' });
    try {
      await new WebClient(strict.url).signup('strictadmin');
      const someone = new WebClient(strict.url);
      await someone.signup('strictuser');
      await someone.get('/settings/api');
      for (const url of ['http://127.0.0.1:9/hook', 'http://10.1.2.3/hook', 'http://[::1]/hook', 'http://localhost:9/hook']) {
        const refused = await someone.post('/settings/api/webhooks', { url, event: 'image.created' });
        expect(refused.status, url).toBe(400);
        expect(decodeEntities(refused.text)).toContain('This address is on a private network');
      }
      expect((await someone.get('/settings/api')).text).not.toMatch(/data-hook="\d+"/);
    } finally {
      await strict.close();
    }
  });
});
