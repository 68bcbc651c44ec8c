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

  it('keeps the phone header on one row in every language, signed in and out', async () => {
    for (const locale of ['en-US', 'ko-KR', 'zh-CN', 'nl-NL', 'id-ID', 'el-GR']) {
      await withPage({ device: 'phone', locale }, async (page) => {
        const check = async (label: string) => {
          const bar = await page.locator('.site-header .bar').boundingBox();
          const search = await page.locator('.header-search').boundingBox();
          const nav = await page.locator('.site-header .nav').boundingBox();
          // One row: everything within the height of one control, side by side.
          expect(bar!.height, `${locale} ${label}`).toBeLessThan(64);
          expect(Math.abs(search!.y - nav!.y), `${locale} ${label}`).toBeLessThan(12);
          expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `${locale} ${label}`).toBeLessThanOrEqual(0);
        };
        await page.goto(`${server.url}/explore`);
        await check('signed out');
        await signIn(page, server.url, 'alice');
        await check('signed in');
        // The search field opens when tapped and takes the visitor's text.
        await page.locator('.header-search input').focus();
        await page.waitForTimeout(300);
        expect((await page.locator('.header-search').boundingBox())!.width).toBeGreaterThan(180);
        if (locale === 'en-US' || locale === 'zh-CN') await shot(page, `header-phone-${locale}`);
      });
    }
  });

  it('has a skip link, a visible focus ring on every control, and a light/dark choice beside "follow the system"', async () => {
    await withPage({ colorScheme: 'light' }, async (page) => {
      await page.goto(logoViewer);
      await page.keyboard.press('Tab');
      const skip = page.locator('.skip-link');
      expect(await skip.evaluate((el) => el === document.activeElement)).toBe(true);
      expect((await skip.boundingBox())!.y).toBeGreaterThanOrEqual(0);
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
      // Tab through the page: every control that takes focus shows a ring of at least 2px.
      const seen: string[] = [];
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press('Tab');
        const ring = await page.evaluate(() => {
          const el = document.activeElement as HTMLElement;
          const style = getComputedStyle(el);
          return { tag: `${el.tagName.toLowerCase()}${el.className ? `.${String(el.className).split(' ')[0]}` : ''}`, width: parseFloat(style.outlineWidth), outline: style.outlineStyle };
        });
        // Past the last control the browser's own UI has focus.
        if (ring.tag === 'body') break;
        seen.push(ring.tag);
        expect(ring.outline, ring.tag).toBe('solid');
        expect(ring.width, ring.tag).toBeGreaterThanOrEqual(2);
      }
      expect(seen.some((t) => t.startsWith('button'))).toBe(true);
      expect(seen.length).toBeGreaterThan(10);
      // Light/dark: the footer's choice, kept on this device, against the system's light.
      const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      const light = await bg();
      await page.locator('select[data-theme-picker]').selectOption('dark');
      expect(await bg()).not.toBe(light);
      await page.reload();
      expect(await page.evaluate(() => document.documentElement.dataset.theme)).toBe('dark');
      expect(await page.locator('select[data-theme-picker]').inputValue()).toBe('dark');
      await shot(page, 'theme-dark-chosen');
      await page.locator('select[data-theme-picker]').selectOption('system');
      expect(await bg()).toBe(light);
    });
  });

  it('shows a focus ring on the uploader’s own controls', async () => {
    await withPage({}, async (page) => {
      await signIn(page, server.url, 'alice');
      await page.goto(`${server.url}/upload`);
      await page.waitForSelector('.uppy-Dashboard-inner');
      const browse = page.locator('.uppy-Dashboard-browse').first();
      await browse.focus();
      await page.keyboard.press('Shift+Tab');
      await page.keyboard.press('Tab');
      const style = await browse.evaluate((el) => ({ style: getComputedStyle(el).outlineStyle, width: parseFloat(getComputedStyle(el).outlineWidth) }));
      expect(style.style).toBe('solid');
      expect(style.width).toBeGreaterThanOrEqual(2);
    });
  });
});

