import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ARTIFACTS, chromiumSkipReason, launchChromium, signIn } from './browser-support.js';

/**
 * The web site in a real browser (Debian's Chromium through playwright-core): sign in, open a
 * viewer page, copy a Markdown embed code with its button, and screenshots of the main pages
 * in English and Korean at desktop and phone widths, saved to test-artifacts/.
 */
const skipReason = chromiumSkipReason();

describe.skipIf(skipReason !== undefined)(`the web site in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;
  let viewerUrl: string;
  let markdownExpected: string;
  let albumPath: string;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer();
    const { key, userId } = await server.createUserWithKey('alice');
    const album = await createAlbum(server.ctx.db, { userId, name: 'Holidays 2024', description: 'Sea, sun and sand' });
    albumPath = `/album/${server.ctx.ids.encode(album.id)}`;
    const colours = ['#e76f51', '#2a9d8f', '#264653', '#e9c46a', '#f4a261', '#8ab17d'];
    let last: any;
    for (const [i, colour] of colours.entries()) {
      const res = await uploadFile(server.url, await makeJpeg(1200, 800, colour), `photo-${i}.jpg`, {
        title: i === colours.length - 1 ? 'Harbour at dusk' : `Photo ${i + 1}`,
        tags: 'beach,summer',
        album_id: i < 3 ? server.ctx.ids.encode(album.id) : '',
        nsfw: i === 1 ? '1' : '0',
        description: i === colours.length - 1 ? 'Boats coming home at the end of the day.' : '',
      }, { 'X-API-Key': key });
      last = res.body.image;
    }
    viewerUrl = last.url_viewer;
    markdownExpected = `[![${last.filename}](${last.url})](${last.url_viewer})`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const signInAlice = (page: Page) => signIn(page, server.url, 'alice');

  it('signs in, opens a viewer page and copies the Markdown embed code', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await context.newPage();
    try {
      await signInAlice(page);
      await expect(page.locator('.notice').textContent()).resolves.toContain('signed in');

      await page.goto(viewerUrl);
      await expect(page.locator('h1.viewer-title').textContent()).resolves.toBe('Harbour at dusk');
      await page.locator('details[data-group="markdown"] > summary').click();
      const copyButton = page.locator('button[data-copy="embed-markdown-full-linked"]');
      await copyButton.click();
      await page.waitForFunction(() => document.querySelector('button[data-copy="embed-markdown-full-linked"]')?.textContent === 'Copied!');
      const copied = await page.evaluate(() => navigator.clipboard.readText());
      expect(copied).toBe(markdownExpected);
      expect(await page.locator('#embed-markdown-full-linked').inputValue()).toBe(markdownExpected);
      // The sticky header would be drawn mid-page in a full-page shot taken while scrolled.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-markdown-copied.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('lets a visitor without an account switch language and show sensitive content from the footer', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    try {
      await page.goto(viewerUrl);
      expect(await page.getAttribute('html', 'lang')).toBe('en');
      // The picker submits itself on change; the server checks the browser's Origin (no token on this page).
      await Promise.all([page.waitForURL(viewerUrl), page.locator('form.language-picker select').selectOption('ko')]);
      await page.waitForFunction(() => document.documentElement.lang === 'ko');
      await page.goto(`${server.url}/explore`);
      expect(await page.getAttribute('html', 'lang')).toBe('ko');
      const nsfwSwitch = page.locator('form[action$="/nsfw"] button');
      const before = await nsfwSwitch.textContent();
      await Promise.all([page.waitForURL(`${server.url}/explore`), nsfwSwitch.click()]);
      expect(await page.locator('form[action$="/nsfw"] button').textContent()).not.toBe(before);
    } finally {
      await context.close();
    }
  });

  const viewports = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } } as const;
  for (const [lang, locale] of [['en', 'en-US'], ['ko', 'ko-KR']] as const) {
    for (const [device, viewport] of Object.entries(viewports)) {
      it(`renders the main pages in ${lang} on a ${device} without sideways scrolling`, async () => {
        const context = await browser.newContext({ viewport, locale, extraHTTPHeaders: { 'Accept-Language': locale } });
        const page = await context.newPage();
        try {
          const shoot = async (name: string, url: string) => {
            await page.goto(url);
            expect(await page.getAttribute('html', 'lang'), name).toBe(lang);
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
            await page.screenshot({ path: path.join(ARTIFACTS, `${name}-${lang}-${device}.png`), fullPage: true });
          };
          await shoot('home', `${server.url}/`);
          await shoot('explore', `${server.url}/explore`);
          await shoot('login', `${server.url}/login`);
          await signInAlice(page);
          await shoot('viewer', viewerUrl);
          await shoot('settings', `${server.url}/settings`);
          await shoot('album', `${server.url}${albumPath}`);
          await shoot('profile', `${server.url}/alice`);
        } finally {
          await context.close();
        }
      });
    }
  }
});
