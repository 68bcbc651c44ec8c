import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { siteCatalog } from '../../src/web/i18n.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ARTIFACTS, buildUploaderBundle, chromiumSkipReason, dropFiles, launchChromium, runWatchingForProblems, signIn } from './browser-support.js';

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
    await runWatchingForProblems(context, run);
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

  it('keeps the phone header on one row in every language, nothing cut off, for visitors, members and admins', async () => {
    // An admin (more links: Dashboard) with a picture, and one without.
    await server.createUserWithKey('skipper', { admin: true });
    await server.createUserWithKey('bosun', { admin: true });
    await withPage({}, async (page) => {
      await signIn(page, server.url, 'skipper');
      await page.goto(`${server.url}/settings/profile`);
      await page.setInputFiles('input[name="avatar"]', { name: 'me.png', mimeType: 'image/png', buffer: await makePng(300, 300, '#2a9d8f') });
      await Promise.all([page.waitForURL(/notice=avatar-saved/), page.click('form[action="/settings/avatar"] button[type="submit"]')]);
    });
    const people = [
      { who: 'visitor', username: undefined },
      { who: 'member', username: 'alice' },
      { who: 'admin', username: 'bosun' },
      { who: 'admin-avatar', username: 'skipper' },
    ] as const;
    /** What in the header is cut off, scrolled away or off the row; [] when it all fits. */
    const problemsOf = (page: Page) => page.evaluate(() => {
      const problems: string[] = [];
      const width = window.innerWidth;
      if (document.documentElement.scrollWidth > width) problems.push(`page is ${document.documentElement.scrollWidth}px wide in ${width}px`);
      const bar = document.querySelector('.site-header .bar')!.getBoundingClientRect();
      if (bar.height > 64) problems.push(`header is ${bar.height}px tall (two rows?)`);
      const shown = [...document.querySelectorAll<HTMLElement>('.site-header a, .site-header button, .site-header input')]
        .filter((el) => el.getClientRects().length > 0 && !el.closest('[popover]:popover-open'));
      if (!shown.length) problems.push('nothing shown in the header');
      for (const el of shown) {
        const r = el.getBoundingClientRect();
        const name = `${el.tagName.toLowerCase()} "${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim()}"`;
        if (r.left < 0 || r.right > width + 0.5) problems.push(`${name} is outside the screen (${Math.round(r.left)}..${Math.round(r.right)} of ${width})`);
        if (r.top < bar.top - 0.5 || r.bottom > bar.bottom + 0.5) problems.push(`${name} is off the header row`);
        if (el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'INPUT') problems.push(`${name} has its text cut off`);
        for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
          const clip = box.getBoundingClientRect();
          if (getComputedStyle(box).overflowX !== 'visible' && (r.left < clip.left - 0.5 || r.right > clip.right + 0.5)) problems.push(`${name} is scrolled out of view in .${box.className}`);
        }
      }
      return problems;
    });
    /** The links in the open menu: each whole on the screen. */
    const menuProblemsOf = (page: Page) => page.evaluate(() => {
      const problems: string[] = [];
      const menu = document.querySelector('.site-header .nav-menu:popover-open');
      if (!menu) return ['the menu did not open'];
      for (const el of menu.querySelectorAll<HTMLElement>('a, button')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.left < 0 || r.right > window.innerWidth + 0.5 || r.bottom > window.innerHeight) problems.push(`menu item "${el.textContent!.trim()}" is not whole on the screen`);
        if (el.scrollWidth > el.clientWidth + 1) problems.push(`menu item "${el.textContent!.trim()}" has its text cut off`);
      }
      return problems;
    });
    const catalogs = Object.fromEntries(['en', 'ko', 'zh-CN', 'el', 'id', 'nl'].map((lang) => [lang, siteCatalog(lang)]));
    for (const [lang, locale] of [['en', 'en-US'], ['ko', 'ko-KR'], ['zh-CN', 'zh-CN'], ['el', 'el-GR'], ['id', 'id-ID'], ['nl', 'nl-NL']] as const) {
      const nav = catalogs[lang].nav as Record<string, string>;
      for (const { who, username } of people) {
        await withPage({ device: 'phone', locale }, async (page) => {
          if (username) await signIn(page, server.url, username);
          await page.goto(`${server.url}/explore`);
          expect(await page.evaluate(() => document.documentElement.lang)).toBe(lang);
          for (const width of [390, 360]) {
            const label = `${lang} ${who} ${width}px`;
            await page.setViewportSize({ width, height: width === 360 ? 740 : 844 });
            expect(await problemsOf(page), label).toEqual([]);
            // The icon buttons carry their words for screen readers.
            if (username || (await page.locator('.nav-upload').count())) await expect(page.getByRole('link', { name: nav.upload, exact: true }).isVisible(), label).resolves.toBe(true);
            const toggle = page.getByRole('button', { name: username ? nav['account-menu'].replace('{{name}}', username) : nav.menu, exact: true });
            await expect(toggle.isVisible(), label).resolves.toBe(true);
            if (width === 360 && ['en', 'ko', 'el'].includes(lang)) await page.screenshot({ path: path.join(ARTIFACTS, `everyday-header-phone-${lang}-${who}.png`) });
            // The rest is one tap away, whole and on the screen, and the keyboard's focus ring shows in it.
            await toggle.click();
            expect(await menuProblemsOf(page), label).toEqual([]);
            const last = page.locator('.nav-menu > :last-child').locator('xpath=descendant-or-self::*[self::a or self::button]').first();
            await expect(last.textContent(), label).resolves.toBe(username ? nav.logout : nav.signup);
            await last.focus();
            await page.keyboard.press('Shift+Tab');
            await page.keyboard.press('Tab');
            const ring = await last.evaluate((el) => {
              const style = getComputedStyle(el);
              const r = el.getBoundingClientRect();
              const menu = el.closest('.nav-menu')!.getBoundingClientRect();
              return { focused: document.activeElement === el, ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2, inside: r.left - parseFloat(style.outlineOffset) - 2 >= menu.left - 0.5 || parseFloat(style.outlineOffset) < 0 };
            });
            expect(ring, label).toEqual({ focused: true, ring: true, inside: true });
            if (width === 360 && ['en', 'ko', 'el'].includes(lang) && who !== 'member') await page.screenshot({ path: path.join(ARTIFACTS, `everyday-header-phone-${lang}-${who}-menu.png`) });
            await page.keyboard.press('Escape');
            await expect(page.locator('.nav-menu').isVisible(), label).resolves.toBe(false);
          }
          // The search field opens when tapped and takes the visitor's text, and the row still fits.
          await page.locator('.header-search input').focus();
          await page.waitForTimeout(300);
          expect((await page.locator('.header-search').boundingBox())!.width).toBeGreaterThan(180);
          expect(await problemsOf(page), `${lang} ${who} searching`).toEqual([]);
          if (who === 'member') {
            // Log out from the menu signs out.
            await page.locator('.nav-menu-toggle').click();
            await Promise.all([page.waitForURL(/notice=signed-out/), page.getByRole('button', { name: nav.logout, exact: true }).click()]);
          }
        });
      }
    }
  }, 240_000);

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

  it('tags files in the uploader (for all and per file) and copies each file’s link and code from the results', async () => {
    await withPage({}, async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await signIn(page, server.url, 'alice');
      await page.goto(`${server.url}/upload`);
      await page.waitForSelector('.uppy-Dashboard-inner');
      await page.getByLabel('Tags for all files').fill('trip, 2024');
      await page.getByLabel('Tags for all files').dispatchEvent('change');
      await dropFiles(page, '.uppy-Dashboard-inner', [
        { name: 'one.png', mimeType: 'image/png', buffer: await makePng(50, 40, '#123456') },
        { name: 'two.png', mimeType: 'image/png', buffer: await makePng(60, 40, '#654321') },
      ]);
      await page.locator('.uppy-Dashboard-Item', { hasText: 'two.png' }).locator('.uppy-Dashboard-Item-previewInnerWrap').click();
      await page.fill('#uppy-Dashboard-FileCard-input-tags', 'trip, harbour');
      await page.click('.uppy-Dashboard-FileCard-actionsBtn[type="submit"]');
      // Uppy's upload button in the site's own accent colour.
      expect(await page.locator('.uppy-StatusBar-actionBtn--upload').evaluate((b) => getComputedStyle(b).backgroundColor)).toBe('rgb(43, 108, 223)');
      await page.click('.uppy-StatusBar-actionBtn--upload');
      await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 2);
      const tagsOf = async (name: string) => {
        const row = await server.ctx.db.selectFrom('images').select('id').where('original_filename', '=', name).executeTakeFirstOrThrow();
        return (await server.ctx.db.selectFrom('image_tags').innerJoin('tags', 'tags.id', 'image_tags.tag_id').select('tags.name').where('image_id', '=', row.id).orderBy('tags.name').execute()).map((r) => r.name);
      };
      expect(await tagsOf('one.png')).toEqual(['2024', 'trip']);
      expect(await tagsOf('two.png')).toEqual(['harbour', 'trip']);
      const first = page.locator('.su-result').first();
      await first.locator('.su-copy-link').click();
      const link = await page.evaluate(() => navigator.clipboard.readText());
      expect(link).toBe(await first.locator('.su-result-title').getAttribute('href'));
      await page.locator('.su-codes-head select').selectOption('markdown-full-linked');
      await first.locator('.su-copy-code').click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toMatch(/^\[!\[.+\]\(http.+\)\]\(http.+\)$/);
      await shot(page, 'uploader-results-copy');
    });
  });

  it('opens a lightbox over a listing: arrows, actual size, Esc, the viewer link; swipe on a phone', async () => {
    const { key } = await server.createUserWithKey('lena');
    const titles = ['Lb one', 'Lb two', 'Lb three'];
    for (const title of titles) await uploadFile(server.url, await makeJpeg(900, 600, '#2a9d8f'), `${title}.jpg`, { title }, { 'X-API-Key': key });
    await withPage({}, async (page) => {
      await page.goto(`${server.url}/lena`);
      await page.locator('a[data-lightbox]').first().click();
      const box = page.locator('dialog.lightbox');
      expect(await box.isVisible()).toBe(true);
      expect(page.url()).toBe(`${server.url}/lena`);
      await expect(box.locator('.lightbox-title').textContent()).resolves.toBe('Lb three');
      await expect(box.locator('.lightbox-position').textContent()).resolves.toBe('1 of 3');
      await page.keyboard.press('ArrowRight');
      await expect(box.locator('.lightbox-title').textContent()).resolves.toBe('Lb two');
      await page.keyboard.press('ArrowLeft');
      await page.keyboard.press('ArrowLeft');
      await expect(box.locator('.lightbox-title').textContent()).resolves.toBe('Lb one');
      await box.locator('.lightbox-zoom').click();
      await page.waitForFunction(() => (document.querySelector('.lightbox-stage img') as HTMLImageElement)?.complete);
      expect(await box.locator('.lightbox-stage img').evaluate((img: HTMLImageElement) => img.getBoundingClientRect().width)).toBe(900);
      await shot(page, 'lightbox-zoomed');
      await page.keyboard.press('Escape');
      expect(await box.isVisible()).toBe(false);
      // The title links to the file's page, which then offers previous/next within this listing.
      await page.locator('a[data-lightbox]').nth(1).click();
      await Promise.all([page.waitForURL(/\/image\//), box.locator('.lightbox-title').click()]);
      await expect(page.locator('h1.viewer-title').textContent()).resolves.toBe('Lb two');
      expect(await page.locator('.viewer-prev').isVisible()).toBe(true);
      await Promise.all([page.waitForURL(/\/image\//), page.keyboard.press('ArrowRight')]);
      await page.waitForFunction(() => document.querySelector('h1.viewer-title')?.textContent === 'Lb one');
      expect(await page.locator('.viewer-next').count()).toBe(0);
      await Promise.all([page.waitForURL(/\/image\//), page.keyboard.press('ArrowLeft')]);
      await page.waitForFunction(() => document.querySelector('h1.viewer-title')?.textContent === 'Lb two');
    });
    await withPage({ device: 'phone', locale: 'ko-KR' }, async (page) => {
      await page.goto(`${server.url}/lena`);
      await page.locator('a[data-lightbox]').first().tap();
      const box = page.locator('dialog.lightbox');
      await expect(box.locator('.lightbox-position').textContent()).resolves.toBe('3개 중 1');
      const swipe = async (from: number, to: number) => page.locator('.lightbox-stage').evaluate((stage, [a, b]) => {
        const touch = (x: number) => new Touch({ identifier: 1, target: stage, clientX: x, clientY: 300 });
        stage.dispatchEvent(new TouchEvent('touchstart', { touches: [touch(a)], changedTouches: [touch(a)], bubbles: true }));
        stage.dispatchEvent(new TouchEvent('touchend', { touches: [], changedTouches: [touch(b)], bubbles: true }));
      }, [from, to]);
      await swipe(300, 100);
      await expect(box.locator('.lightbox-title').textContent()).resolves.toBe('Lb two');
      await swipe(100, 300);
      await expect(box.locator('.lightbox-title').textContent()).resolves.toBe('Lb three');
      await shot(page, 'lightbox-phone-ko');
      await page.keyboard.press('Escape');
      // A long press on a tile shows its copy-link button (not the first tile: focus went back to it).
      const tile = page.locator('.tile').nth(2);
      const shown = () => tile.locator('.tile-copy').evaluate((b) => getComputedStyle(b).display !== 'none' && getComputedStyle(b).opacity === '1');
      expect(await shown()).toBe(false);
      await tile.evaluate((el) => {
        const touch = new Touch({ identifier: 2, target: el, clientX: 50, clientY: 50 });
        el.dispatchEvent(new TouchEvent('touchstart', { touches: [touch], changedTouches: [touch], bubbles: true }));
      });
      await page.waitForTimeout(700);
      expect(await tile.evaluate((el) => el.classList.contains('show-actions'))).toBe(true);
      await page.waitForTimeout(300);
      expect(await shown()).toBe(true);
      await expect(tile.locator('.tile-copy').textContent()).resolves.toBe('링크 복사');
    });
  });

  it('selects with shift-click ranges and "select all", copies the links, and asks before deleting', async () => {
    const { key } = await server.createUserWithKey('sel');
    const made: any[] = [];
    for (let i = 1; i <= 5; i++) made.push((await uploadFile(server.url, await makePng(30, 30, '#e9c46a'), `s${i}.png`, { title: `Sel ${i}` }, { 'X-API-Key': key })).body.image);
    await withPage({}, async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await signIn(page, server.url, 'sel');
      await page.goto(`${server.url}/sel`);
      const boxes = page.locator('input[data-select]');
      await boxes.nth(0).click();
      await boxes.nth(3).click({ modifiers: ['Shift'] });
      expect(await boxes.evaluateAll((all) => all.map((b) => (b as HTMLInputElement).checked))).toEqual([true, true, true, true, false]);
      await expect(page.locator('.bulk-count').textContent()).resolves.toBe('4 selected');
      await page.locator('[data-copy-selection]').click();
      await page.waitForFunction(() => document.querySelector('[data-copy-selection]')?.textContent === 'Copied!');
      const copied = (await page.evaluate(() => navigator.clipboard.readText())).split('\n');
      expect(copied.sort()).toEqual(made.slice(1).map((f) => f.url_viewer).sort());
      await page.locator('[data-select-all]').check();
      await expect(page.locator('.bulk-count').textContent()).resolves.toBe('5 selected');
      await shot(page, 'selection');
      await page.locator('[data-bulk-action]').selectOption('delete');
      let asked = '';
      page.once('dialog', (dialog) => { asked = dialog.message(); void dialog.dismiss(); });
      await page.locator('#bulk-form button[type="submit"]').click();
      expect(asked).toContain('Delete the selected files?');
      expect(await server.ctx.db.selectFrom('images').select('id').where('user_id', '=', made[0] && (await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'sel').executeTakeFirstOrThrow()).id).execute()).toHaveLength(5);
      page.once('dialog', (dialog) => void dialog.accept());
      await Promise.all([page.waitForURL(/notice=files-deleted-many/), page.locator('#bulk-form button[type="submit"]').click()]);
      await expect(page.locator('.notice').textContent()).resolves.toBe('The selected files were deleted.');
      expect(await page.locator('.tile').count()).toBe(0);
    });
  });

  it('loads more tiles in place with the total shown, and lays out whole pictures on request', async () => {
    const { key } = await server.createUserWithKey('many');
    for (let i = 0; i < 27; i++) await uploadFile(server.url, await makePng(i % 2 ? 80 : 40, 40, '#264653'), `m${i}.png`, { title: `Many ${i}` }, { 'X-API-Key': key });
    await withPage({}, async (page) => {
      await page.goto(`${server.url}/many`);
      await expect(page.locator('.listing-total').textContent()).resolves.toBe('27 files');
      expect(await page.locator('.tile').count()).toBe(24);
      // The viewer's "next" goes past the listing page's edge: from the 24th file to the 25th.
      const tile24 = await page.locator('a[data-lightbox]').nth(23).getAttribute('href');
      await page.goto(`${server.url}${tile24}`);
      await page.locator('.viewer-next').waitFor();
      await expect(page.locator('.viewer-next').getAttribute('title')).resolves.toBe('Many 2');
      await expect(page.locator('.viewer-prev').getAttribute('title')).resolves.toBe('Many 4');
      await page.goto(`${server.url}/many`);
      await page.locator('[data-load-more]').click();
      await page.waitForFunction(() => document.querySelectorAll('.tile').length === 27);
      expect(await page.locator('[data-load-more]').count()).toBe(0);
      await page.locator('[data-grid-layout="justified"]').click();
      const widths = await page.locator('.tile').evaluateAll((tiles) => tiles.slice(0, 2).map((t) => t.getBoundingClientRect().width / t.getBoundingClientRect().height));
      // A 2:1 picture's tile is about twice as wide as a 1:1 one's.
      expect(Math.max(...widths) / Math.min(...widths)).toBeGreaterThan(1.5);
      await shot(page, "justified");
    });
  });

  it('links previous/next on the viewer from the server within the album it was opened from, with and without JavaScript', async () => {
    const { userId, key } = await server.createUserWithKey('walk');
    const album = await createAlbum(server.ctx.db, { userId, name: 'Coast walk' });
    const albumId = server.ctx.ids.encode(album.id);
    const colours = ['#264653', '#2a9d8f', '#e9c46a', '#f4a261'];
    for (let i = 0; i < colours.length; i++) {
      await uploadFile(server.url, await makeJpeg(1200, 800, colours[i]), `walk${i}.jpg`, { title: `Walk ${i + 1}`, album_id: albumId }, { 'X-API-Key': key });
      // A loose file between the album's files: not part of the album's walk.
      if (i === 1) await uploadFile(server.url, await makePng(40, 40, '#000000'), 'loose.png', { title: 'Loose' }, { 'X-API-Key': key });
    }
    const title = (page: Page) => page.locator('h1.viewer-title').textContent();

    // No JavaScript at all: a plain link from the album page, then plain previous/next links.
    const plain = await browser.newContext({ javaScriptEnabled: false, viewport: viewports.desktop, locale: 'en-US', extraHTTPHeaders: { 'Accept-Language': 'en-US' } });
    try {
      const page = await plain.newPage();
      await page.goto(`${server.url}/album/${albumId}`);
      await Promise.all([page.waitForURL(/\/image\//), page.locator('.tile a').nth(1).click()]);
      expect(new URL(page.url()).search).toBe(`?from=album%3A${albumId}`);
      await expect(title(page)).resolves.toBe('Walk 3');
      await Promise.all([page.waitForURL(/\/image\//), page.locator('a.viewer-next').click()]);
      await expect(title(page)).resolves.toBe('Walk 2');
      await Promise.all([page.waitForURL(/\/image\//), page.locator('a.viewer-next').click()]);
      // Past the loose file to the album's oldest, and there the walk ends.
      await expect(title(page)).resolves.toBe('Walk 1');
      expect(await page.locator('a.viewer-next').count()).toBe(0);
      await expect(page.locator('.viewer-context a').textContent()).resolves.toBe('Album: Coast walk');
    } finally {
      await plain.close();
    }

    // With JavaScript: ←/→ follow the same links, on a desktop and a phone, in English and Korean.
    for (const [device, locale] of [['desktop', 'en-US'], ['phone', 'en-US'], ['desktop', 'ko-KR'], ['phone', 'ko-KR']] as const) {
      await withPage({ device, locale }, async (page) => {
        await page.goto(`${server.url}/album/${albumId}`);
        const firstTile = await page.locator('a[data-lightbox]').first().getAttribute('href');
        await page.goto(`${server.url}${firstTile}`);
        await expect(title(page)).resolves.toBe('Walk 4');
        await Promise.all([page.waitForURL(/\/image\//), page.keyboard.press('ArrowRight')]);
        await page.waitForFunction(() => document.querySelector('h1.viewer-title')?.textContent === 'Walk 3');
        expect(await page.locator('a.viewer-prev').isVisible()).toBe(true);
        expect(await page.locator('a.viewer-next').isVisible()).toBe(true);
        if (locale === 'ko-KR') await expect(page.locator('a.viewer-prev').textContent()).resolves.toBe('← 이전');
        // No sideways scrolling on a phone.
        expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
        await page.screenshot({ path: path.join(ARTIFACTS, `everyday-viewer-prevnext-${device}-${locale.slice(0, 2)}.png`) });
        await Promise.all([page.waitForURL(/\/image\//), page.keyboard.press('ArrowLeft')]);
        await page.waitForFunction(() => document.querySelector('h1.viewer-title')?.textContent === 'Walk 4');
        expect(await page.locator('a.viewer-prev').count()).toBe(0);
      });
    }
  });

  it('tells an admin on /explore why someone else’s file cannot go into their album, and moves their own', async () => {
    const { userId: bossId, key: bossKey } = await server.createUserWithKey('boss', { admin: true });
    const { key: otherKey } = await server.createUserWithKey('olga');
    const album = await createAlbum(server.ctx.db, { userId: bossId, name: 'Boss picks' });
    const mine = (await uploadFile(server.url, await makePng(40, 40, '#2a9d8f'), 'mine.png', { title: 'Boss own' }, { 'X-API-Key': bossKey })).body.image;
    const theirs = (await uploadFile(server.url, await makePng(40, 40, '#e76f51'), 'theirs.png', { title: 'Olga file' }, { 'X-API-Key': otherKey })).body.image;
    for (const [device, locale] of [['desktop', 'en-US'], ['phone', 'ko-KR']] as const) {
      await withPage({ device, locale }, async (page) => {
        await signIn(page, server.url, 'boss');
        await page.goto(`${server.url}/explore`);
        await page.locator(`input[name="image"][value="${theirs.id_encoded}"]`).check();
        await page.locator('[data-bulk-action]').selectOption('move');
        await page.locator('select[name="target"]').selectOption(server.ctx.ids.encode(album.id));
        await Promise.all([page.waitForURL(/\/files\/bulk$/), page.locator('#bulk-form button[type="submit"]').click()]);
        await expect(page.locator('.status-code').textContent()).resolves.toBe('409');
        await expect(page.locator('.error-detail').textContent()).resolves.toContain('boss');
        await page.screenshot({ path: path.join(ARTIFACTS, `everyday-admin-move-refused-${device}-${locale.slice(0, 2)}.png`) });
        // Back to the listing, and their own file moves.
        await Promise.all([page.waitForURL(/\/explore$/), page.locator('main a.button.primary').click()]);
        await page.locator(`input[name="image"][value="${mine.id_encoded}"]`).check();
        await page.locator('[data-bulk-action]').selectOption('move');
        await page.locator('select[name="target"]').selectOption(server.ctx.ids.encode(album.id));
        await Promise.all([page.waitForURL(/notice=files-moved/), page.locator('#bulk-form button[type="submit"]').click()]);
      });
    }
    const rows = await server.ctx.db.selectFrom('images').select(['album_id', 'user_id']).where('id', 'in', [mine, theirs].map((f) => server.ctx.ids.decode(f.id_encoded)!)).orderBy('id').execute();
    expect(rows.map((r) => r.album_id)).toEqual([album.id, null]);
  });

  it('shares with the share sheet where there is one, else copies the link; the QR code opens', async () => {
    await withPage({}, async (page, context) => {
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await page.goto(logoViewer);
      // Chromium on Linux has no share sheet: the link is copied.
      await page.evaluate(() => { Object.defineProperty(navigator, 'share', { value: undefined, configurable: true }); });
      await page.locator('[data-share]').click();
      await page.waitForFunction(() => document.querySelector('[data-share]')?.textContent === 'Copied!');
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(logoViewer);
      // Where there is one, it gets the title and the link.
      await page.evaluate(() => {
        (window as any).shared = null;
        Object.defineProperty(navigator, 'share', { value: async (data: unknown) => { (window as any).shared = data; }, configurable: true });
      });
      await page.locator('[data-share]').click();
      expect(await page.evaluate(() => (window as any).shared)).toEqual({ title: 'Dark logo', url: logoViewer });
      await page.locator('.qr-details summary').click();
      expect((await page.locator('svg.qr-code').boundingBox())!.width).toBeGreaterThan(100);
      await shot(page, 'share-qr');
    });
  });

  for (const [lang, locale] of [['en', 'en-US'], ['ko', 'ko-KR']] as const) {
    for (const device of ['desktop', 'phone'] as const) {
      it(`renders explore tabs, /tags, a search with filters and an owner's album page in ${lang} on a ${device} without sideways scrolling`, async () => {
        await withPage({ device, locale }, async (page) => {
          const view = async (name: string, url: string) => {
            await page.goto(url);
            expect(await page.getAttribute('html', 'lang'), name).toBe(lang);
            expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), `${name} scrolls sideways`).toBeLessThanOrEqual(0);
            await shot(page, `${name}-${lang}-${device}`);
          };
          await view('explore-popular', `${server.url}/explore?sort=popular`);
          await view('tags', `${server.url}/tags`);
          await view('search-filtered', `${server.url}/search?q=logo&type=image`);
          await signIn(page, server.url, 'alice');
          const album = await server.ctx.db.selectFrom('albums').select('id').where('name', '=', 'Logos').executeTakeFirstOrThrow();
          await view('album-owner', `${server.url}/album/${server.ctx.ids.encode(album.id)}`);
          await view('album-add', `${server.url}/album/${server.ctx.ids.encode(album.id)}/add`);
        });
      });
    }
  }
});

