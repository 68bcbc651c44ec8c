import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { ARTIFACTS, chromiumSkipReason, launchChromium, signIn } from './browser-support.js';

/**
 * The approval flow in Chromium (SHOEBOX_MODERATION=everyone): alice's upload waits; she sees
 * that it awaits review, a visitor gets a 404; the admin selects it in the queue and approves
 * it; the visitor now sees the picture. Screenshots in test-artifacts/moderation-*.png.
 */
const skipReason = chromiumSkipReason();

describe.skipIf(skipReason !== undefined)(`approval in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;
  let viewerUrl: string;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer({ SHOEBOX_MODERATION: 'everyone' });
    await server.createUserWithKey('boss', { admin: true });
    const { key } = await server.createUserWithKey('alice');
    for (const seed of [41, 42]) {
      const res = await uploadFile(server.url, await makeVariedImage(seed), `harbour-${seed}.jpg`, { title: seed === 41 ? 'Harbour at dusk' : 'Market day' }, { 'X-API-Key': key });
      expect(res.body.image.is_approved).toBe(0);
      if (seed === 41) viewerUrl = res.body.image.url_viewer;
    }
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the uploader sees it awaits review, a visitor gets 404, the admin approves it from the queue, then everyone sees it', async () => {
    const shot = (name: string) => path.join(ARTIFACTS, `moderation-${name}.png`);
    const aliceContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const alice = await aliceContext.newPage();
    await signIn(alice, server.url, 'alice');
    await alice.goto(viewerUrl);
    await expect(alice.locator('.notice-waiting').textContent()).resolves.toContain('awaits review');
    await expect(alice.locator('.stage img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).resolves.toBeGreaterThan(0);
    await alice.screenshot({ path: shot('uploader'), fullPage: true });

    const visitorContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const visitor = await visitorContext.newPage();
    expect((await visitor.goto(viewerUrl))!.status()).toBe(404);

    const bossContext = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const boss = await bossContext.newPage();
    await signIn(boss, server.url, 'boss');
    await boss.goto(`${server.url}/moderation/queue`);
    await expect(boss.locator('h1').textContent()).resolves.toBe('Approval queue');
    expect(await boss.locator('.moderation-grid li').count()).toBe(2);
    await boss.screenshot({ path: shot('queue'), fullPage: true });
    await boss.locator('.moderation-grid li', { hasText: 'Harbour at dusk' }).locator('input[type="checkbox"]').check();
    await Promise.all([boss.waitForURL(/done=approved/), boss.click('button[name="action"][value="approve"]')]);
    await expect(boss.locator('.notice').textContent()).resolves.toContain('1 file approved.');
    expect(await boss.locator('.moderation-grid li').count()).toBe(1);
    await boss.screenshot({ path: shot('queue-after'), fullPage: true });

    expect((await visitor.goto(viewerUrl))!.status()).toBe(200);
    await expect(visitor.locator('.stage img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).resolves.toBeGreaterThan(0);
    expect(await visitor.locator('.notice-waiting').count()).toBe(0);
    await visitor.screenshot({ path: shot('visitor-after'), fullPage: true });
    await Promise.all([aliceContext.close(), visitorContext.close(), bossContext.close()]);
  }, 120_000);
});
