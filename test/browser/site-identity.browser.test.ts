import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveSiteSettings } from '../../src/admin/site-settings.js';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ARTIFACTS, buildUploaderBundle, chromiumSkipReason, dropFiles, launchChromium, runWatchingForProblems, signIn } from './browser-support.js';

const skipReason = chromiumSkipReason();

/**
 * What issue 16's last gaps changed, in Chromium, English and Korean, desktop and phone: the
 * header shows the account's picture, the footer the site's name and description, the web
 * uploader starts with its NSFW box ticked for guests (SHOEBOX_NSFW_BY_DEFAULT) and the upload is
 * marked, two-factor enrolment names the site and opens the authenticator app, and the
 * dashboard's "delete album, keep files" says where a private album's files went.
 * Screenshots: test-artifacts/identity-*.png.
 */
describe.skipIf(skipReason !== undefined)(`site name, avatar, NSFW default in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;
  let aliceId: number;
  let aliceKey: string;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await buildUploaderBundle();
    server = await startTestServer({ SHOEBOX_GUEST_WEB_UPLOADS: '1' });
    await server.createUserWithKey('admin', { admin: true });
    ({ userId: aliceId, key: aliceKey } = await server.createUserWithKey('alice'));
    for (const [i, colour] of ['#e76f51', '#2a9d8f', '#264653'].entries()) {
      expect((await uploadFile(server.url, await makeJpeg(800, 600, colour), `barn-${i}.jpg`, { title: `Barn ${i + 1}` }, { 'X-API-Key': aliceKey })).status).toBe(200);
    }
    await saveSiteSettings({ db: server.ctx.db, settings: server.ctx.settings, live: server.ctx.live }, {
      SHOEBOX_SITE_NAME: 'Picture Barn',
      SHOEBOX_SITE_DESCRIPTION: 'Photos of barns and fields',
      SHOEBOX_NSFW_BY_DEFAULT: 'guests',
    });
    browser = await launchChromium();
    // Alice sets her picture through the profile form.
    await runWatchingForProblems(await browser.newContext(), async (page) => {
      await signIn(page, server.url, 'alice');
      await page.goto(`${server.url}/settings/profile`);
      // A face-like picture (a light disc on teal), so the header plainly shows a picture, not an initial.
      const face = await sharp(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"><rect width="300" height="300" fill="#2a9d8f"/><circle cx="150" cy="120" r="70" fill="#f4e3c1"/><rect x="60" y="210" width="180" height="120" rx="60" fill="#f4e3c1"/></svg>')).png().toBuffer();
      await page.setInputFiles('input[name="avatar"]', { name: 'me.png', mimeType: 'image/png', buffer: face });
      await Promise.all([page.waitForURL(/notice=avatar-saved/), page.click('form[action="/settings/avatar"] button[type="submit"]')]);
    });
  }, 180_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const viewports = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } } as const;
  for (const [lang, locale] of [['en', 'en-US'], ['ko', 'ko-KR']] as const) {
    for (const [device, viewport] of Object.entries(viewports)) {
      const shotOf = (name: string) => path.join(ARTIFACTS, `identity-${name}-${lang}-${device}.png`);
      const contextOptions = { viewport, locale, extraHTTPHeaders: { 'Accept-Language': locale } };

      it(`shows the avatar in the header, the site in the footer and in two-factor enrolment (${lang}, ${device})`, async () => {
        await runWatchingForProblems(await browser.newContext(contextOptions), async (page) => {
          await signIn(page, server.url, 'alice');
          await page.goto(`${server.url}/explore`);
          // On a desktop the avatar is in the profile link; on a phone it is the button that opens the account menu.
          const avatar = page.locator('.site-header img.avatar:visible');
          await expect(avatar.isVisible()).resolves.toBe(true);
          expect(await avatar.evaluate((img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth)).toBe(256);
          await expect(page.locator('.footer-note').textContent()).resolves.toBe('Picture Barn · Photos of barns and fields');
          await expect(page.locator('.brand-name').textContent()).resolves.toBe('Picture Barn');
          expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
          await page.screenshot({ path: shotOf('explore'), fullPage: true });

          await page.goto(`${server.url}/settings/security`);
          await Promise.all([page.waitForLoadState('load'), page.click('form[action="/settings/2fa/start"] button[type="submit"]')]);
          const open = page.locator('a.open-app');
          const href = (await open.getAttribute('href'))!;
          expect(href).toMatch(/^otpauth:\/\/totp\/Picture%20Barn:alice\?/);
          expect(new URL(href).searchParams.get('issuer')).toBe('Picture Barn');
          await page.screenshot({ path: shotOf('two-factor'), fullPage: true });
        });
      });

      it(`starts the web uploader with NSFW ticked for a guest, and marks the upload (${lang}, ${device})`, async () => {
        await runWatchingForProblems(await browser.newContext(contextOptions), async (page) => {
          await page.goto(`${server.url}/upload`);
          const box = page.locator('.su-options input[type="checkbox"]');
          await box.waitFor();
          await expect(box.isChecked()).resolves.toBe(true);
          await page.screenshot({ path: shotOf('uploader-guest'), fullPage: true });
          const before = await server.ctx.db.selectFrom('images').select('id').where('user_id', 'is', null).execute();
          await dropFiles(page, '.uppy-Dashboard-inner', [{ name: `guest-${lang}-${device}.jpg`, mimeType: 'image/jpeg', buffer: await makeJpeg(200 + before.length, 150, '#556') }]);
          await page.click('.uppy-StatusBar-actionBtn--upload');
          await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 1, undefined, { timeout: 30_000 });
          const rows = await server.ctx.db.selectFrom('images').select(['id', 'nsfw']).where('user_id', 'is', null).orderBy('id', 'desc').execute();
          expect(rows).toHaveLength(before.length + 1);
          expect(rows[0].nsfw).toBe(1);
        });
      });

      it(`deletes a private album from the dashboard keeping its files private, and says so (${lang}, ${device})`, async () => {
        const album = await createAlbum(server.ctx.db, { userId: aliceId, name: `Hayloft ${lang} ${device}`, privacy: 'private' });
        const res = await uploadFile(server.url, await makeJpeg(300, 200, '#883'), 'hay.jpg', { album_id: server.ctx.ids.encode(album.id) }, { 'X-API-Key': aliceKey });
        expect(res.status).toBe(200);
        await runWatchingForProblems(await browser.newContext(contextOptions), async (page) => {
          await page.goto(`${server.url}/login`);
          await page.fill('input[name="login"]', 'admin');
          await page.fill('input[name="password"]', 'password123');
          await Promise.all([page.waitForURL(/notice=signed-in/), page.click('main form button[type="submit"]')]);
          await page.goto(`${server.url}/dashboard/albums?q=${encodeURIComponent(album.name)}`);
          const form = page.locator(`form[action="/dashboard/albums/${server.ctx.ids.encode(album.id)}/delete"]`);
          await form.locator('select[name="files"]').selectOption('keep');
          await form.locator('input[name="confirm"]').check();
          await Promise.all([page.waitForURL(/done=album-kept-private/), form.locator('button[type="submit"]').click()]);
          await expect(page.locator('.dashboard').first().textContent()).resolves.toMatch(lang === 'en' ? /kept in a new private album of the same name/ : /비공개 앨범/);
          await page.screenshot({ path: shotOf('album-kept'), fullPage: true });
          // The settings page: the NSFW default is a choice there, and no setting waits for a restart.
          await page.goto(`${server.url}/dashboard/settings`);
          await expect(page.locator('select[name="SHOEBOX_NSFW_BY_DEFAULT"]').inputValue()).resolves.toBe('guests');
          expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
          await page.screenshot({ path: shotOf('settings'), fullPage: true });
          for (const [name, field] of [['settings-nsfw', 'select[name="SHOEBOX_NSFW_BY_DEFAULT"]'], ['settings-routes', 'input[name="SHOEBOX_IMAGE_ROUTE"]']]) {
            const group = page.locator('fieldset.card', { has: page.locator(field) });
            // Below the sticky header, then the group alone.
            await group.evaluate((el) => el.scrollIntoView({ block: 'center' }));
            await group.screenshot({ path: shotOf(name) });
          }
        });
        // Still there for Alice, hidden from everyone else.
        expect((await fetch(res.body.image.url_viewer)).status).toBe(404);
      });
    }
  }
});
