import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { buildUploaderBundle, chromiumSkipReason, dropFiles, launchChromium, signIn } from './browser-support.js';

/**
 * Issue 13: the pages' Content-Security-Policy holds in Chromium without a single violation:
 * every main page is opened (signed out and signed in), the uploader is opened and used, and
 * the test listens for `securitypolicyviolation` events and CSP console reports on each.
 */
const skipReason = chromiumSkipReason();

describe.skipIf(skipReason !== undefined)(`Content-Security-Policy in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;
  let viewerUrl: string;
  let albumUrl: string;

  beforeAll(async () => {
    await buildUploaderBundle();
    server = await startTestServer();
    const { key, userId } = await server.createUserWithKey('alice');
    const album = await createAlbum(server.ctx.db, { userId, name: 'Trip' });
    const { body } = await uploadFile(server.url, await makeJpeg(900, 600, '#2a9d8f'), 'harbour.jpg', { title: 'Harbour', tags: 'sea', album_id: server.ctx.ids.encode(album.id) }, { 'X-API-Key': key });
    viewerUrl = body.image.url_viewer;
    albumUrl = `${server.url}/album/${server.ctx.ids.encode(album.id)}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** Collects every CSP violation the page reports, from the DOM event and from the console. */
  async function watch(page: Page): Promise<string[]> {
    const violations: string[] = [];
    await page.exposeFunction('__reportCspViolation', (text: string) => violations.push(text));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        (window as unknown as { __reportCspViolation(t: string): void }).__reportCspViolation(
          `${event.violatedDirective} blocked ${event.blockedURI || '(inline)'} at ${event.sourceFile}:${event.lineNumber}`,
        );
      });
    });
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(`console: ${message.text()}`);
    });
    return violations;
  }

  it('the main pages, signed out and signed in, report no violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const violations = await watch(page);
    try {
      const pages = ['/', '/explore', '/login', '/signup', '/search?q=harbour', '/tag/sea', '/alice', '/no-such-page'];
      for (const p of pages) {
        const res = await page.goto(`${server.url}${p}`);
        expect(res?.headers()['content-security-policy'], p).toContain("frame-ancestors 'self'");
      }
      await page.goto(viewerUrl);
      await page.goto(albumUrl);
      await signIn(page, server.url, 'alice');
      for (const p of ['/settings', '/albums/new', '/alice?tab=albums', '/upload']) await page.goto(`${server.url}${p}`);
      await page.goto(viewerUrl);
      // The viewer's interactive parts (embed codes) run too.
      await page.locator('details[data-group="markdown"] > summary').click();
      await page.goto(albumUrl);
      await page.waitForTimeout(300);
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('the uploader, opened and used to upload a file, reports no violation', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const violations = await watch(page);
    try {
      await signIn(page, server.url, 'alice');
      await page.goto(`${server.url}/upload`);
      await page.waitForSelector('.uppy-Dashboard-inner');
      await dropFiles(page, '.uppy-Dashboard-inner', [{ name: 'red.png', mimeType: 'image/png', buffer: await makePng(120, 90, '#e63946') }]);
      await page.click('.uppy-StatusBar-actionBtn--upload');
      await page.waitForFunction(() => document.querySelectorAll('.su-result').length === 1, undefined, { timeout: 30_000 });
      await page.waitForTimeout(500);
      expect(violations).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
