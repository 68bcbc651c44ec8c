import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCodeAt } from '../../src/accounts/two-factor.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ARTIFACTS, chromiumSkipReason, launchChromium } from './browser-support.js';

/**
 * Two-factor sign-in in a real browser: enrol on the security page (the QR code is drawn and
 * shown), sign out, sign in with the password and a code. Screenshots of the security page
 * (enrolling and with the recovery codes) and of the code step, in English and Korean, on a
 * desktop and a phone, go to test-artifacts/.
 */
const skipReason = chromiumSkipReason();

describe.skipIf(skipReason !== undefined)(`accounts in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    await server.createUserWithKey('alice');
    await server.createUserWithKey('minji');
    const { key } = await server.createUserWithKey('painter');
    for (const colour of ['#e76f51', '#2a9d8f', '#264653']) {
      await uploadFile(server.url, await makeJpeg(800, 600, colour), 'p.jpg', {}, { 'X-API-Key': key });
    }
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [username, locale, viewport, tag] of [
    ['alice', 'en-US', { width: 1280, height: 900 }, 'en-desktop'],
    ['minji', 'ko-KR', { width: 390, height: 844 }, 'ko-phone'],
  ] as const) {
    it(`enrols and signs in with a code (${tag})`, async () => {
      const context = await browser.newContext({ viewport, locale, extraHTTPHeaders: { 'Accept-Language': locale } });
      const page = await context.newPage();
      try {
        await page.goto(`${server.url}/login`);
        await expect(page.locator('a[href="/password/forgot"]').count()).resolves.toBe(1);
        await page.fill('input[name="login"]', username);
        await page.fill('input[name="password"]', 'password123');
        await Promise.all([page.waitForURL(new RegExp(`/${username}\\?notice=signed-in$`)), page.click('main form button[type="submit"]')]);

        await page.goto(`${server.url}/settings/security`);
        await page.screenshot({ path: path.join(ARTIFACTS, `accounts-security-off-${tag}.png`), fullPage: true });
        await Promise.all([page.waitForLoadState('load'), page.click('form[action="/settings/2fa/start"] button')]);
        // The QR code is an image the browser really decoded.
        const qrWidth = await page.locator('img.qr').evaluate((img: HTMLImageElement) => img.complete ? img.naturalWidth : 0);
        expect(qrWidth).toBeGreaterThan(100);
        await page.screenshot({ path: path.join(ARTIFACTS, `accounts-security-enrol-${tag}.png`), fullPage: true });
        const secret = (await page.locator('#totp-secret').textContent())!.trim();
        await page.fill('input[name="code"]', totpCodeAt(secret, Date.now()));
        await Promise.all([page.waitForLoadState('load'), page.click('form[action="/settings/2fa/enable"] button')]);
        await expect(page.locator('.recovery-codes li').count()).resolves.toBe(10);
        await page.screenshot({ path: path.join(ARTIFACTS, `accounts-security-codes-${tag}.png`), fullPage: true });

        // On a phone, Log out is in the account menu behind the avatar.
        if (await page.locator('.nav-menu-toggle').isVisible()) await page.click('.nav-menu-toggle');
        await Promise.all([page.waitForURL(/notice=signed-out/), page.click('header form[action="/logout"] button')]);
        await page.goto(`${server.url}/login`);
        await page.fill('input[name="login"]', username);
        await page.fill('input[name="password"]', 'password123');
        await Promise.all([page.waitForURL(/\/login\/2fa$/), page.click('main form button[type="submit"]')]);
        await page.screenshot({ path: path.join(ARTIFACTS, `accounts-login-2fa-${tag}.png`), fullPage: true });
        await page.fill('input[name="code"]', totpCodeAt(secret, Date.now() + 30_000));
        await Promise.all([page.waitForURL(new RegExp(`/${username}\\?notice=signed-in$`)), page.click('main form button[type="submit"]')]);
      } finally {
        await context.close();
      }
    });
  }

  it('edits a profile with a picture, and shows it (desktop and phone)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    try {
      await page.goto(`${server.url}/login`);
      await page.fill('input[name="login"]', 'painter');
      await page.fill('input[name="password"]', 'password123');
      await Promise.all([page.waitForURL(/\/painter\?notice=signed-in$/), page.click('main form button[type="submit"]')]);
      await page.goto(`${server.url}/settings/profile`);
      await page.setInputFiles('input[name="avatar"]', { name: 'me.png', mimeType: 'image/png', buffer: await makePng(400, 400, '#6a4c93') });
      await Promise.all([page.waitForURL(/notice=avatar-saved/), page.click('form[action="/settings/avatar"] button')]);
      await page.fill('input[name="display_name"]', 'Ada Painter');
      await page.fill('textarea[name="bio"]', 'Paints harbours at dusk.\nBased by the sea.');
      await page.fill('input[name="website"]', 'https://ada.example.test');
      await Promise.all([page.waitForURL(/notice=profile-saved/), page.click('form[action="/settings/profile"] button')]);
      await page.screenshot({ path: path.join(ARTIFACTS, 'accounts-profile-settings-en-desktop.png'), fullPage: true });
      await page.goto(`${server.url}/painter`);
      const avatarWidth = await page.locator('.profile-head img.avatar-image').evaluate((img: HTMLImageElement) => (img.complete ? img.naturalWidth : 0));
      expect(avatarWidth).toBe(256);
      await expect(page.locator('#count-files').textContent()).resolves.toBe('3 files');
      await page.screenshot({ path: path.join(ARTIFACTS, 'accounts-profile-en-desktop.png') });
      await page.setViewportSize({ width: 390, height: 844 });
      await page.screenshot({ path: path.join(ARTIFACTS, 'accounts-profile-en-phone.png') });
    } finally {
      await context.close();
    }
  });
});
