import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { ARTIFACTS, chromiumSkipReason, launchChromium, runWatchingForProblems, signIn } from './browser-support.js';

const skipReason = chromiumSkipReason();

/**
 * The moderation tools and categories of the dashboard in Chromium: an admin bans a range,
 * adds stop words, counts and confirms a purge, makes a category and opens its page, through
 * the real forms. Screenshots in English and Korean at desktop and phone widths go to
 * test-artifacts/moddash-*.png.
 */
describe.skipIf(skipReason !== undefined)(`moderation screens of the dashboard in Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let server: TestServer;
  let browser: Browser;
  let trollKey: string;
  let adminKey: string;
  let seed = 9100;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_TRUST_PROXY: '127.0.0.1' });
    ({ key: adminKey } = await server.createUserWithKey('admin', { admin: true }));
    ({ key: trollKey } = await server.createUserWithKey('troll'));
    await server.ctx.moderation.blocklist.add([{ md5: 'a'.repeat(32), phash: '0123456789abcdef', reason: 'copyright claim 42' }], 'admin');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  const viewports = { desktop: { width: 1280, height: 860 }, phone: { width: 390, height: 844 } } as const;
  for (const [lang, locale] of [['en', 'en-US'], ['ko', 'ko-KR']] as const) {
    for (const [device, viewport] of Object.entries(viewports)) {
      it(`bans, stop words, purge, blocklist and categories in ${lang} on a ${device}`, async () => {
        const tag = `${lang}-${device}`;
        for (let i = 0; i < 3; i++) {
          const res = await uploadFile(server.url, await makeVariedImage(seed++, { width: 320, height: 240 }), 't.jpg', { title: `Troll ${i}` }, { 'X-API-Key': trollKey, 'X-Forwarded-For': '198.51.100.23' });
          expect(res.status).toBe(200);
        }
        await runWatchingForProblems(await browser.newContext({ viewport, locale, extraHTTPHeaders: { 'Accept-Language': locale } }), async (page) => {
          await signIn(page, server.url, 'admin');
          const shoot = async (name: string) => {
            expect(await page.getAttribute('html', 'lang'), name).toBe(lang);
            const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
            expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
            await page.screenshot({ path: path.join(ARTIFACTS, `moddash-${name}-${tag}.png`), fullPage: true });
          };

          // IP bans: the form, then the list with the new ban.
          await page.goto(`${server.url}/dashboard/moderation/bans`);
          await page.fill('input[name="range"]', `203.0.113.${device === 'phone' ? 64 : 0}/26`);
          await page.fill('input[name="expires"]', '7d');
          await page.fill('input[name="message"]', lang === 'ko' ? '스팸' : 'Spam wave');
          await Promise.all([page.waitForURL(/done=ban-added/), page.click('main form button.primary')]);
          expect(await page.locator('.dash-done').count()).toBe(1);
          await shoot('bans');

          // Stop words: two words into Refuse, one into Hold.
          await page.goto(`${server.url}/dashboard/moderation/stop-words`);
          await page.fill('textarea[name="words"]', `casino-${tag}\ncheap pills ${tag}`);
          await Promise.all([page.waitForURL(/done=word-saved/), page.click('main form button.primary')]);
          await page.fill('textarea[name="words"]', `crypto giveaway ${tag}`);
          await page.selectOption('select[name="action"]', 'hold');
          await Promise.all([page.waitForURL(/done=word-saved/), page.click('main form button.primary')]);
          await shoot('stop-words');

          // Purge: count by range, then confirm the delete.
          await page.goto(`${server.url}/dashboard/moderation/purge`);
          await page.check('input[name="by"][value="ip"]');
          await page.fill('input[name="value"]', '198.51.100.0/24');
          await Promise.all([page.waitForURL(/value=198/), page.click('main form[method="get"] button')]);
          await expect.poll(() => page.locator('#purge-confirm h2').textContent()).toMatch(/3/);
          await shoot('purge-count');
          await page.check('#purge-confirm input[name="confirm"]');
          await Promise.all([page.waitForURL(/done=purged/), page.click('#purge-confirm button.danger')]);
          expect(await page.locator('.dash-done').textContent()).toMatch(/3/);

          // Blocklist: the count, the download link and the import form.
          await page.goto(`${server.url}/dashboard/moderation/blocklist`);
          const download = await Promise.all([page.waitForEvent('download'), page.click('a[download]')]);
          expect(download[0].suggestedFilename()).toBe('shoebox-blocklist.json');
          await shoot('blocklist');

          // Categories: create one, see the list, open its page.
          await page.goto(`${server.url}/dashboard/categories`);
          const name = lang === 'ko' ? `풍경 ${device}` : `Landscapes ${device}`;
          await page.fill('input[name="name"]', name);
          await page.fill('input[name="url_key"]', `landscapes-${tag}`);
          await page.fill('textarea[name="description"]', lang === 'ko' ? '언덕, 바다, 하늘' : 'Hills, seas and skies');
          await Promise.all([page.waitForURL(/done=category-saved/), page.click('main form button.primary')]);
          await shoot('categories');
          // Its page and explore's filter, with a file in it.
          const category = await server.ctx.db.selectFrom('categories').select('id').where('url_key', '=', `landscapes-${tag}`).executeTakeFirstOrThrow();
          const filed = await uploadFile(server.url, await makeVariedImage(seed++, { width: 640, height: 480 }), 'hill.jpg', { title: name, category_id: String(category.id) }, { 'X-API-Key': adminKey });
          expect(filed.status).toBe(200);
          await page.goto(`${server.url}/category/landscapes-${tag}`);
          expect(await page.locator('h1').textContent()).toBe(name);
          expect(await page.locator('.grid li').count()).toBe(1);
          await shoot('category-page');
          await page.goto(`${server.url}/explore`);
          await page.selectOption('select[name="category"]', `landscapes-${tag}`);
          await Promise.all([page.waitForURL(/category=landscapes/), page.click('form.category-filter button')]);
          expect(await page.locator('.grid li').count()).toBe(1);
          await shoot('explore-filter');
          await page.goto(`${server.url}/dashboard/settings`);
          expect(await page.locator('select[name="SHOEBOX_MODERATION"]').count()).toBe(1);
          await page.locator('select[name="SHOEBOX_MODERATION"]').scrollIntoViewIfNeeded();
          await page.screenshot({ path: path.join(ARTIFACTS, `moddash-settings-moderation-${tag}.png`) });
        });
      }, 120_000);
    }
  }
});
