import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamedApiKey } from '../../src/db/repositories/named-api-keys.js';
import { createWebhook } from '../../src/db/repositories/webhooks.js';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ARTIFACTS, chromiumSkipReason, launchChromium, signIn } from './browser-support.js';

/** Settings → API access and the API reference UI, as a person sees them (screenshots in test-artifacts/). */
describe.skipIf(chromiumSkipReason())('API access page and /api/docs in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let receiver: Server;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    browser = await launchChromium();
    receiver = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(req.url === '/broken' ? 500 : 200).end(req.url === '/broken' ? 'temporarily down' : 'ok'));
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await browser?.close();
    receiver?.closeAllConnections();
    await new Promise((resolve) => receiver?.close(resolve));
    await server?.close();
  });

  it('shows keys with scopes and last use, and webhooks with their deliveries', async () => {
    const { key, userId } = await server.createUserWithKey('pagesy');
    const port = (receiver.address() as AddressInfo).port;
    await createNamedApiKey(server.ctx.db, { userId, label: 'Backup script', scopes: ['read'], expiresAt: '2030-01-01 00:00:00' });
    await createWebhook(server.ctx.db, { userId, createdBy: userId, url: `http://127.0.0.1:${port}/hook`, events: ['image.created', 'image.deleted'], secret: 'a' });
    await createWebhook(server.ctx.db, { userId, createdBy: userId, url: `http://127.0.0.1:${port}/broken`, events: ['image.created'], secret: 'b' });
    await uploadFile(server.url, await makePng(30, 30, '#39c'), 'a.png', {}, { 'X-API-Key': key });
    await new Promise((r) => setTimeout(r, 500));

    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await signIn(page, server.url, 'pagesy');
    await page.goto(`${server.url}/settings/api`);
    expect(await page.locator('tr[data-key]').count()).toBe(2);
    expect(await page.locator('tr[data-delivery][data-state="delivered"]').count()).toBe(1);
    expect(await page.locator('tr[data-delivery][data-state="pending"]').count()).toBe(1);
    await expect(page.locator('text=temporarily down').count()).resolves.toBe(1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'settings-api.png'), fullPage: true });
    await page.close();
  });

  it('renders the API reference from the package', async () => {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(server.url)) external.push(request.url());
    });
    await page.goto(`${server.url}/api/docs`);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(19);
    expect(external).toEqual([]);
    await page.screenshot({ path: path.join(ARTIFACTS, 'api-docs.png') });
    await page.close();
  });
});
