import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { setUserRole } from '../../src/db/repositories/admin.js';
import { createNamedApiKey } from '../../src/db/repositories/named-api-keys.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ARTIFACTS, chromiumSkipReason, launchChromium } from './browser-support.js';

const skipReason = chromiumSkipReason();

/**
 * The dashboard in Chromium: an admin signs in through the form, opens every area, and a
 * manager sees only theirs. Screenshots in English and Korean at desktop and phone widths go
 * to test-artifacts/dashboard-*.png.
 */
describe.skipIf(skipReason !== undefined)(`the dashboard in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    await server.createUserWithKey('admin', { admin: true });
    const { userId: managerId } = await server.createUserWithKey('mia');
    await setUserRole(server.ctx.db, managerId, 'manager');
    const { key, userId } = await server.createUserWithKey('alice');
    const album = await createAlbum(server.ctx.db, { userId, name: 'Holidays 2024' });
    // A named key beside the single one: the user page lists both, with their use (dashboard-user-*.png).
    await createNamedApiKey(server.ctx.db, { userId, label: 'Backup script', scopes: ['upload', 'read'], expiresAt: '2031-05-06 00:00:00' });
    for (const [i, colour] of ['#e76f51', '#2a9d8f', '#264653', '#e9c46a'].entries()) {
      const res = await uploadFile(server.url, await makeJpeg(800, 600, colour), `photo-${i}.jpg`, {
        title: `Photo ${i + 1}`, album_id: i < 2 ? server.ctx.ids.encode(album.id) : '', nsfw: i === 1 ? '1' : '0', ...(i === 3 ? { expiration: 'P7D' } : {}),
      }, { 'X-API-Key': key });
      expect(res.status).toBe(200);
    }
    await server.ctx.db.insertInto('site_pages').values({ slug: 'terms', title: 'Terms', body: '# Terms\n\nBe kind.', in_footer: 1, position: 0, created_at: '2026-01-01 00:00:00', updated_at: '2026-01-01 00:00:00' }).execute();
    await server.ctx.live.reload();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const viewports = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } } as const;
  for (const [lang, locale] of [['en', 'en-US'], ['ko', 'ko-KR']] as const) {
    for (const [device, viewport] of Object.entries(viewports)) {
      it(`shows every area of the dashboard in ${lang} on a ${device}, without sideways scrolling`, async () => {
        const context = await browser.newContext({ viewport, locale, extraHTTPHeaders: { 'Accept-Language': locale } });
        const page = await context.newPage();
        try {
          await page.goto(`${server.url}/dashboard`);
          // Not signed in: the sign-in form, which comes back to the dashboard.
          expect(page.url()).toContain('/login?next=%2Fdashboard');
          await page.fill('input[name="login"]', 'admin');
          await page.fill('input[name="password"]', 'password123');
          await Promise.all([page.waitForURL(`${server.url}/dashboard?notice=signed-in`), page.click('main form button[type="submit"]')]);
          const shoot = async (name: string, url: string) => {
            await page.goto(url);
            expect(await page.getAttribute('html', 'lang'), name).toBe(lang);
            // Six areas of the dashboard, three of moderation (queue, reports, audit log), four moderation tools and categories.
            expect(await page.locator('.dash-nav a').count(), name).toBe(14);
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
            await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${name}-${lang}-${device}.png`), fullPage: true });
          };
          await shoot('overview', `${server.url}/dashboard?welcome=1`);
          expect(await page.locator('svg.chart rect.bar').count()).toBe(30);
          await shoot('users', `${server.url}/dashboard/users`);
          await shoot('user', `${server.url}/dashboard/users/alice`);
          await shoot('files', `${server.url}/dashboard/files?user=alice`);
          await shoot('albums', `${server.url}/dashboard/albums`);
          await shoot('settings', `${server.url}/dashboard/settings`);
          await shoot('pages', `${server.url}/dashboard/pages`);
          // A multi-select action through the real form: tick two files, mark them NSFW (from a known start).
          await server.ctx.db.updateTable('images').set({ nsfw: 0 }).execute();
          await page.goto(`${server.url}/dashboard/files?user=alice&nsfw=no`);
          const boxes = page.locator('input[name="id"]');
          await boxes.nth(0).check();
          await boxes.nth(1).check();
          await Promise.all([page.waitForURL(/done=files-nsfw/), page.click('button[name="op"][value="nsfw"]')]);
          expect(await page.locator('.dash-done').count()).toBe(1);
          await page.goto(`${server.url}/dashboard/files?user=alice&nsfw=yes`);
          expect(await page.locator('input[name="id"]').count()).toBe(2);
          await page.goto(`${server.url}/dashboard/files?user=alice`);
          await page.locator('input[name="id"]').nth(0).check();
          await Promise.all([page.waitForURL(/done=files-sfw/), page.click('button[name="op"][value="sfw"]')]);
        } finally {
          await context.close();
        }
      });
    }
  }

  it('gives a manager the users, files and albums, not the settings', async () => {
    const context = await browser.newContext({ viewport: viewports.desktop, locale: 'en-US' });
    const page = await context.newPage();
    try {
      await page.goto(`${server.url}/login?next=%2Fdashboard`);
      await page.fill('input[name="login"]', 'mia');
      await page.fill('input[name="password"]', 'password123');
      await Promise.all([page.waitForURL(/\/dashboard/), page.click('main form button[type="submit"]')]);
      // Managers moderate too (the queue, reports and IP bans), but the audit log, the other tools and the settings are the admins'.
      expect(await page.locator('.dash-nav a').allTextContents()).toEqual(['Overview', 'Users', 'Files', 'Albums', 'Approval queue', 'Reports', 'IP bans']);
      const res = await page.goto(`${server.url}/dashboard/settings`);
      expect(res?.status()).toBe(403);
      await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-manager-refused-en-desktop.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
