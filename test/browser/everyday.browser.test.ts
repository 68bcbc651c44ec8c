import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ARTIFACTS, buildUploaderBundle, chromiumSkipReason, dropFiles, launchChromium, signIn } from './browser-support.js';

/**
 * Issue 19 in Chromium: what a returning person sees and does every day (transparent images,
 * sensitive files, the uploader's wording, selection, lightbox, share, theme, focus), on a
 * desktop and a phone, in English and Korean. Screenshots go to test-artifacts/everyday-*.png.
 */
const skipReason = chromiumSkipReason();

/** A dark logo on a transparent background: a black disc, corners fully transparent. */
async function darkLogoPng(size = 240): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}"><circle cx="${size / 2}" cy="${size / 2}" r="${size / 4}" fill="#000"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Pixel (x, y) of a PNG screenshot as [r, g, b]. */
async function pixelOf(png: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (y * info.width + x) * info.channels;
  return [data[i], data[i + 1], data[i + 2]];
}
const brightness = (rgb: number[]) => (rgb[0] + rgb[1] + rgb[2]) / 3;

describe.skipIf(skipReason !== undefined)(`the everyday site in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;
  let logoViewer: string;
  let nsfwViewer: string;
  let aliceId: number;
  let aliceKey: string;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await buildUploaderBundle();
    server = await startTestServer();
    ({ userId: aliceId, key: aliceKey } = await server.createUserWithKey('alice'));
    await createAlbum(server.ctx.db, { userId: aliceId, name: 'Logos' });
    logoViewer = (await uploadFile(server.url, await darkLogoPng(), 'logo.png', { title: 'Dark logo' }, { 'X-API-Key': aliceKey })).body.image.url_viewer;
    nsfwViewer = (await uploadFile(server.url, await makeJpeg(600, 400, '#e76f51'), 'beach.jpg', { title: 'Beach', nsfw: '1' }, { 'X-API-Key': aliceKey })).body.image.url_viewer;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const viewports = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } } as const;

  async function withPage(
    options: { locale?: string; device?: keyof typeof viewports; colorScheme?: 'light' | 'dark' },
    run: (page: Page, context: BrowserContext) => Promise<void>,
  ) {
    const locale = options.locale ?? 'en-US';
    const phone = options.device === 'phone';
    const context = await browser.newContext({
      viewport: viewports[options.device ?? 'desktop'],
      locale,
      extraHTTPHeaders: { 'Accept-Language': locale },
      colorScheme: options.colorScheme ?? 'light',
      ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 1 } : {}),
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) problems.push(`console: ${message.text()}`);
    });
    try {
      await run(page, context);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTIFACTS, `everyday-${name}.png`), fullPage: true });

  for (const scheme of ['light', 'dark'] as const) {
    it(`shows a dark logo with transparency on a checkerboard, not on black (${scheme})`, async () => {
      await withPage({ colorScheme: scheme }, async (page) => {
        await page.goto(logoViewer);
        const img = page.locator('.stage img');
        await img.waitFor();
        await page.waitForFunction(() => (document.querySelector('.stage img') as HTMLImageElement).complete);
        const png = await img.screenshot();
        // Two neighbouring squares of the checkerboard in a transparent corner: different, and not black.
        const a = await pixelOf(png, 4, 4);
        const b = await pixelOf(png, 12, 4);
        expect(Math.abs(brightness(a) - brightness(b))).toBeGreaterThan(10);
        expect(Math.min(brightness(a), brightness(b))).toBeGreaterThan(30);
        // The logo itself stays black, so it stands out from both squares.
        const middle = await pixelOf(png, 120, 120);
        expect(brightness(middle)).toBeLessThan(10);
        await shot(page, `checkerboard-viewer-${scheme}`);
      });
    });
  }

  it('puts the uploader’s previews of transparent images on the checkerboard too', async () => {
    await withPage({ colorScheme: 'dark' }, async (page) => {
      await signIn(page, server.url, 'alice');
      await page.goto(`${server.url}/upload`);
      await page.waitForSelector('.uppy-Dashboard-inner');
      await dropFiles(page, '.uppy-Dashboard-inner', [{ name: 'logo.png', mimeType: 'image/png', buffer: await darkLogoPng(400) }]);
      const preview = page.locator('.uppy-Dashboard-Item-previewImg');
      await preview.waitFor();
      expect(await preview.evaluate((el) => getComputedStyle(el).backgroundImage)).toContain('conic-gradient');
      await shot(page, 'checkerboard-uploader-dark');
    });
  });

  for (const [lang, locale, title, show] of [['en', 'en-US', 'Sensitive content', 'Click to show'], ['ko', 'ko-KR', '민감한 콘텐츠', '클릭하여 보기']] as const) {
    it(`says a sensitive file is sensitive and shows it on a click (${lang})`, async () => {
      await withPage({ locale }, async (page) => {
        await page.goto(nsfwViewer);
        const cover = page.locator('.sensitive-cover');
        await expect(cover.locator('strong').textContent()).resolves.toBe(title);
        await expect(cover.locator('span').textContent()).resolves.toBe(show);
        expect(await cover.isVisible()).toBe(true);
        expect(await page.locator('.stage img').evaluate((el) => getComputedStyle(el).filter)).toContain('blur');
        await shot(page, `sensitive-${lang}`);
        await cover.click();
        // Shown in place: no navigation, no blur, no cover.
        expect(page.url()).toBe(nsfwViewer);
        expect(await cover.isVisible()).toBe(false);
        expect(await page.locator('.stage img').evaluate((el) => getComputedStyle(el).filter)).toBe('none');
      });
    });
  }

  it('says a file refused before sending was not sent, and phones get "Choose files" with the limits and no Ctrl+V', async () => {
    await withPage({}, async (page) => {
      await signIn(page, server.url, 'alice');
      await page.goto(`${server.url}/upload`);
      await page.waitForSelector('.uppy-Dashboard-inner');
      await dropFiles(page, '.uppy-Dashboard-inner', [{ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') }]);
      const note = page.locator('.su-error-note');
      await note.waitFor();
      await expect(note.textContent()).resolves.toContain('Some files were not sent, because this site does not accept them.');
      await expect(note.textContent()).resolves.not.toContain("couldn't be uploaded");
      await expect(page.locator('.su-hints').textContent()).resolves.toContain('Ctrl+V');
    });
    for (const [lang, locale, choose] of [['en', 'en-US', 'Choose files'], ['ko', 'ko-KR', '파일 선택']] as const) {
      await withPage({ device: 'phone', locale }, async (page) => {
        await signIn(page, server.url, 'alice');
        await page.goto(`${server.url}/upload`);
        await page.waitForSelector('.uppy-Dashboard-inner');
        await expect(page.locator('.uppy-Dashboard-AddFiles-title').textContent()).resolves.toBe(choose);
        await expect(page.locator('.su-hints').textContent()).resolves.not.toContain('Ctrl+V');
        const limits = page.locator('.su-limits');
        expect(await limits.isVisible()).toBe(true);
        await expect(limits.textContent()).resolves.toMatch(/JPG .* 100 MB/);
        await shot(page, `uploader-phone-${lang}`);
      });
    }
  });
});
