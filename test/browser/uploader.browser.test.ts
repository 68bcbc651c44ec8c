import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { insertCategory } from '../../src/db/repositories/categories.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ARTIFACTS, buildUploaderBundle, chromiumSkipReason, dropFiles, launchChromium, pasteFiles, runWatchingForProblems, signIn } from './browser-support.js';

/**
 * The web uploader in Chromium against a real server: drop, paste, add by URL, per-file
 * options, results with links and embed codes, the album actions, guests, the modal from
 * the header, and screenshots (desktop and phone, English and Korean) in test-artifacts/.
 */
const skipReason = chromiumSkipReason();

describe.skipIf(skipReason !== undefined)(`the web uploader in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;
  let origin: Server;
  let originUrl: string;
  let aliceId: number;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await buildUploaderBundle();
    server = await startTestServer({ SHOEBOX_GUEST_WEB_UPLOADS: '1', SHOEBOX_GUEST_MAX_UPLOAD_SIZE: '200KB', SHOEBOX_GUEST_EXPIRATION: '86400' });
    ({ userId: aliceId } = await server.createUserWithKey('alice'));
    await createAlbum(server.ctx.db, { userId: aliceId, name: 'Holidays' });
    const catPng = await makePng(160, 120, '#e9c46a');
    origin = createServer((req, res) => {
      if (req.url === '/cat.png') res.writeHead(200, { 'Content-Type': 'image/png' }).end(catPng);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    origin?.close();
    await server?.close();
  });

  async function withPage(options: { locale?: string; width?: number; height?: number }, run: (page: Page, context: BrowserContext) => Promise<void>) {
    const locale = options.locale ?? 'en-US';
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1280, height: options.height ?? 900 },
      locale,
      extraHTTPHeaders: { 'Accept-Language': locale },
    });
    await runWatchingForProblems(context, run);
  }

  const openUploader = async (page: Page) => {
    await page.goto(`${server.url}/upload`);
    await page.waitForSelector('.uppy-Dashboard-inner');
  };
  const startUpload = (page: Page) => page.click('.uppy-StatusBar-actionBtn--upload');
  const imagesOf = (userId: number | null) =>
    server.ctx.db.selectFrom('images').selectAll().where('user_id', userId === null ? 'is' : '=', userId as never).orderBy('id').execute();

  it('drops three files, one not an image: two sets of links, one error, and the rest goes on', async () => {
    await withPage({}, async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await signIn(page, server.url, 'alice');
      await openUploader(page);
      // The accepted types and the size limit from the site's settings, under the drop zone.
      await expect(page.locator('.uppy-Dashboard-note').textContent()).resolves.toBe('JPG JPEG PNG GIF WEBP BMP AVIF HEIC MP4 MOV WEBM max 100 MB');
      // Options for all files: into the album "Holidays".
      await page.getByLabel('Album', { exact: true }).selectOption({ label: 'Holidays' });

      const before = (await imagesOf(aliceId)).length;
      await dropFiles(page, '.uppy-Dashboard-inner', [
        { name: 'red square.png', mimeType: 'image/png', buffer: await makePng(300, 200, '#c33') },
        { name: 'green.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg(640, 480, '#3a7') },
        { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('shopping list: bread, milk') },
      ]);
      await expect(page.locator('.uppy-Dashboard-Item').count()).resolves.toBe(2);

      // Click a preview to customise that file.
      await page.locator('.uppy-Dashboard-Item', { hasText: 'red square.png' }).locator('.uppy-Dashboard-Item-previewInnerWrap').click();
      await page.fill('#uppy-Dashboard-FileCard-input-title', 'My red square');
      await page.click('.uppy-Dashboard-FileCard-actionsBtn[type="submit"]');

      await startUpload(page);
      await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 2);
      await expect(page.locator('.su-status').textContent()).resolves.toBe('Upload complete');
      await expect(page.locator('.su-error-item').count()).resolves.toBe(1);
      await expect(page.locator('.su-error-item').textContent()).resolves.toMatch(/^notes\.txt: You can only upload: JPG JPEG PNG/);
      // notes.txt was refused before sending: said as such, not as a failed upload (issue 19).
      await expect(page.locator('.su-errors .error').textContent()).resolves.toContain('Some files were not sent, because this site does not accept them.');
      await expect(page.locator('.su-errors .error').textContent()).resolves.not.toContain("couldn't be uploaded");
      await expect(page.locator('.su-results-title').textContent()).resolves.toBe('2 files uploaded');
      await expect(page.locator('.su-album-added').textContent()).resolves.toBe('Uploaded content added to the album Holidays.');

      const stored = (await imagesOf(aliceId)).slice(before);
      expect(stored.map((i) => i.title).sort()).toEqual(['My red square', 'green']);
      const holidays = await server.ctx.db.selectFrom('albums').select('id').where('name', '=', 'Holidays').executeTakeFirstOrThrow();
      expect(stored.every((i) => i.album_id === holidays.id)).toBe(true);

      // Every file's links lead somewhere real.
      for (const href of await page.locator('.su-result .su-link-viewer, .su-result .su-link-direct').evaluateAll((as) => as.map((a) => (a as HTMLAnchorElement).href))) {
        expect((await fetch(href)).status, href).toBe(200);
      }
      // One format for every file, copied with one button.
      await page.locator('.su-codes-head select').selectOption('markdown-full-linked');
      const markdown = await page.locator('textarea.su-codes').inputValue();
      expect(markdown.split('\n')).toHaveLength(2);
      expect(markdown).toMatch(/^\[!\[.+\]\(http:\/\/127\.0\.0\.1:\d+\/images\/.+\)\]\(http:\/\/127\.0\.0\.1:\d+\/image\/.+\)$/m);
      await page.click('.su-copy-all');
      await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(markdown);
      await page.locator('.su-codes-head select').selectOption('bbcode-full');
      expect((await page.locator('textarea.su-codes').inputValue()).split('\n').every((line) => /^\[img\]http.+\[\/img\]$/.test(line))).toBe(true);

      // "Create a new album with the content just uploaded".
      await page.click('.su-album-open');
      await page.getByLabel('Album name').fill('Just now');
      await page.getByRole('button', { name: 'Create album' }).click();
      await page.waitForSelector('.su-album-created a');
      const albumHref = await page.locator('.su-album-created a').getAttribute('href');
      const created = await server.ctx.db.selectFrom('albums').select('id').where('name', '=', 'Just now').executeTakeFirstOrThrow();
      expect(albumHref).toBe(`${server.url}/album/${server.ctx.ids.encode(created.id)}`);
      const moved = await server.ctx.db.selectFrom('images').select('id').where('album_id', '=', created.id).execute();
      expect(moved).toHaveLength(2);
    });
  });

  it('pastes an image from the clipboard and adds one by URL', async () => {
    await withPage({}, async (page) => {
      await signIn(page, server.url, 'alice');
      await openUploader(page);
      await pasteFiles(page, [{ name: 'image.png', mimeType: 'image/png', buffer: await makePng(220, 140, '#2a9d8f') }]);
      await expect(page.locator('.uppy-Dashboard-Item').count()).resolves.toBe(1);
      await startUpload(page);
      await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 1);

      await page.getByLabel('Add by URL').fill(`${originUrl}/cat.png`);
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 2);
      await expect(page.locator('.su-result-title').nth(1).textContent()).resolves.toBe('cat');
      const direct = await page.locator('.su-result .su-link-direct').nth(1).getAttribute('href');
      const fetched = await fetch(direct!);
      expect(fetched.headers.get('content-type')).toBe('image/png');

      // A URL that gives no image is reported, and the uploader stays usable.
      await page.getByLabel('Add by URL').fill(`${originUrl}/missing.png`);
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.waitForSelector('.su-error-item');
      await expect(page.locator('.su-error-item').textContent()).resolves.toContain('missing.png');
    });
  });

  it('lets a guest upload with the guest limits, shows the server reason for a fake image, and prompts to sign up', async () => {
    await withPage({}, async (page) => {
      await openUploader(page);
      await expect(page.locator('.uppy-Dashboard-note').textContent()).resolves.toBe('JPG JPEG PNG GIF WEBP BMP AVIF HEIC MP4 MOV WEBM max 200 KB');
      await expect(page.locator('.su-guest-note').textContent()).resolves.toContain('Guest uploads are deleted automatically after 1 day.');
      await expect(page.locator('.su-guest-note').textContent()).resolves.toContain('Sign up to be able to customize or disable image auto delete.');
      expect(await page.getByLabel('Auto delete').isDisabled()).toBe(true);

      const before = (await imagesOf(null)).length;
      await dropFiles(page, '.uppy-Dashboard-inner', [
        { name: 'guest.png', mimeType: 'image/png', buffer: await makePng(120, 80, '#264653') },
        { name: 'pretend.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('this is not a JPEG at all, just text'.repeat(20)) },
        { name: 'too-big.png', mimeType: 'image/png', buffer: Buffer.alloc(250_000, 1) },
      ]);
      await startUpload(page);
      await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 1 && document.querySelectorAll('.su-error-item').length === 2);
      const errors = await page.locator('.su-error-item').allTextContents();
      expect(errors.find((e) => e.startsWith('too-big.png'))).toMatch(/exceeds the maximum allowed size/);
      expect(errors.find((e) => e.startsWith('pretend.jpg'))).toBe("pretend.jpg: Can't get target upload source info");
      await expect(page.locator('.su-guest-save').textContent()).resolves.toContain('You must create an account or sign in to save this content into your account.');

      const stored = (await imagesOf(null)).slice(before);
      expect(stored).toHaveLength(1);
      expect(stored[0].expires_at).not.toBeNull();
    });
  });

  it('opens the same uploader as a modal from the header, usable with the keyboard', async () => {
    await withPage({}, async (page) => {
      await signIn(page, server.url, 'alice');
      await page.goto(`${server.url}/explore`);
      const trigger = page.locator('.site-header a', { hasText: 'Upload' });
      await trigger.click();
      const dialog = page.getByRole('dialog', { name: 'Upload' });
      await dialog.waitFor();
      expect(page.url()).toBe(`${server.url}/explore`);
      // Focus is inside, on the browse button; Escape closes and gives focus back to the trigger.
      await expect(page.evaluate(() => document.activeElement?.closest('dialog') !== null)).resolves.toBe(true);
      await expect(dialog.getByRole('button', { name: 'browse from your computer' }).count()).resolves.toBe(1);
      await page.screenshot({ path: path.join(ARTIFACTS, 'uploader-modal-en-desktop.png') });
      await page.keyboard.press('Escape');
      await expect(dialog.isVisible()).resolves.toBe(false);
      await expect(page.evaluate(() => document.activeElement?.textContent?.trim())).resolves.toBe('Upload');

      // Reopened, it uploads like the page does.
      await trigger.click();
      await dialog.waitFor();
      await dropFiles(page, 'dialog .uppy-Dashboard-inner', [{ name: 'from-modal.png', mimeType: 'image/png', buffer: await makePng(90, 90, '#f4a261') }]);
      await dialog.locator('.uppy-StatusBar-actionBtn--upload').click();
      await page.waitForFunction(() => document.querySelectorAll('dialog .su-result').length === 1);
    });
  });

  const viewports = { desktop: { width: 1280, height: 900 }, phone: { width: 390, height: 844 } } as const;
  for (const [lang, locale, strings] of [
    ['en', 'en-US', { heading: 'Upload images and videos', done: '1 file uploaded', limits: 'max 100 MB' }],
    ['ko', 'ko-KR', { heading: '이미지와 동영상 업로드', done: '파일 1개 업로드됨', limits: '최대 100' }],
  ] as const) {
    for (const [device, viewport] of Object.entries(viewports)) {
      it(`works in ${lang} on a ${device} screen (screenshots in test-artifacts/)`, async () => {
        await withPage({ locale, ...viewport }, async (page) => {
          await signIn(page, server.url, 'alice');
          await openUploader(page);
          await expect(page.locator('h1').textContent()).resolves.toBe(strings.heading);
          await expect(page.locator('.uppy-Dashboard-note').textContent()).resolves.toContain(strings.limits);
          const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          await expect(overflow()).resolves.toBeLessThanOrEqual(0);
          await page.screenshot({ path: path.join(ARTIFACTS, `uploader-${lang}-${device}.png`), fullPage: true });

          await dropFiles(page, '.uppy-Dashboard-inner', [{ name: `${lang}-${device}.jpg`, mimeType: 'image/jpeg', buffer: await makeJpeg(800, 600, '#8ab17d') }]);
          await page.screenshot({ path: path.join(ARTIFACTS, `uploader-${lang}-${device}-queued.png`), fullPage: true });
          await startUpload(page);
          await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 1);
          await page.waitForSelector('.uppy-StatusBar.is-complete');
          await expect(page.locator('.su-results-title').textContent()).resolves.toBe(strings.done);
          await expect(overflow()).resolves.toBeLessThanOrEqual(0);
          // The sticky header would be drawn mid-page in a full-page shot taken while scrolled.
          await page.evaluate(() => window.scrollTo(0, 0));
          await page.screenshot({ path: path.join(ARTIFACTS, `uploader-${lang}-${device}-done.png`), fullPage: true });
        });
      });
    }
  }

  it('files uploads under the category chosen for all files, or the one chosen on a file\'s card', async () => {
    const hills = await insertCategory(server.ctx.db, { name: 'Hills', url_key: 'hills', description: null });
    const cats = await insertCategory(server.ctx.db, { name: 'Cats', url_key: 'cats', description: null });
    try {
      await withPage({}, async (page) => {
        await signIn(page, server.url, 'alice');
        await openUploader(page);
        await page.locator('select[id*="su-all-category"]').selectOption({ label: 'Hills' });
        const before = (await imagesOf(aliceId)).length;
        await dropFiles(page, '.uppy-Dashboard-inner', [
          { name: 'hill.jpg', mimeType: 'image/jpeg', buffer: await makeJpeg(320, 240, '#6a994e') },
          { name: 'cat.png', mimeType: 'image/png', buffer: await makePng(200, 150, '#bc6c25') },
        ]);
        await page.locator('.uppy-Dashboard-Item', { hasText: 'cat.png' }).locator('.uppy-Dashboard-Item-previewInnerWrap').click();
        await page.locator('#uppy-Dashboard-FileCard-input-category_id').selectOption({ label: 'Cats' });
        await page.screenshot({ path: path.join(ARTIFACTS, 'uploader-category-card-en-desktop.png'), fullPage: true });
        await page.click('.uppy-Dashboard-FileCard-actionsBtn[type="submit"]');
        await startUpload(page);
        await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 2);
        const stored = (await imagesOf(aliceId)).slice(before);
        expect(Object.fromEntries(stored.map((i) => [i.original_filename, i.category_id]))).toEqual({ 'hill.jpg': hills.id, 'cat.png': cats.id });
      });
    } finally {
      await server.ctx.db.updateTable('images').set({ category_id: null }).execute();
      await server.ctx.db.deleteFrom('categories').execute();
    }
  });
});
