import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum } from '../../src/db/repositories/albums.js';
import { LANGUAGES } from '../../src/web/i18n.js';
import { UPLOADER_BUNDLE_DIR } from '../../src/web/uploader/register-web-uploader.js';
import { periodOf } from '../../src/web/uploader/uploader-config.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from './web-client.js';

describe('the /upload page and the uploader settings', () => {
  let server: TestServer;
  let guestServer: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_CHUNK_SIZE: '20MB', SHOEBOX_ACCEPTED_TYPES: 'jpg,png,gif,webp,bmp,mov,mp4,webm' });
    const { userId } = await server.createUserWithKey('alice');
    await createAlbum(server.ctx.db, { userId, name: 'Holidays' });
    guestServer = await startTestServer({ SHOEBOX_GUEST_WEB_UPLOADS: '1', SHOEBOX_GUEST_MAX_UPLOAD_SIZE: '500KB', SHOEBOX_GUEST_EXPIRATION: '604800' });
  });
  afterAll(async () => {
    await server.close();
    await guestServer.close();
  });

  it('sends visitors to sign in when guests may not upload', async () => {
    const visitor = new WebClient(server.url);
    const page = await visitor.get('/upload');
    expect(page.status).toBe(303);
    expect(page.location).toBe('/login?next=%2Fupload');
    expect((await visitor.get('/upload/config.json')).status).toBe(401);
    // No upload button, no uploader script in the header for them.
    expect((await visitor.get('/explore')).text).not.toContain('/assets/uploader/launcher.js');
  });

  it("gives a signed-in user the page, and the uploader's settings from the site's", async () => {
    const alice = new WebClient(server.url);
    await alice.login('alice', 'password123');
    const page = await alice.get('/upload');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Upload images and videos</h1>');
    expect(page.text).toContain('data-config-url="/upload/config.json"');
    // Every page loads the small launcher that turns the header's Upload button into the modal.
    expect((await alice.get('/explore')).text).toContain('<script type="module" src="/assets/uploader/launcher.js"></script>');

    const config = JSON.parse((await alice.get('/upload/config.json')).text);
    expect(config.limitsLabel).toBe('JPG JPEG PNG GIF WEBP BMP MOV MP4 WEBM max 100 MB');
    expect(config.chunkSize).toBe(20_000_000);
    expect(config.maxFileSize).toBe(100_000_000);
    expect(config.endpoints).toEqual({ tus: '/upload/tus', url: '/upload/url', album: '/upload/album' });
    expect(config.user.albums.map((a: { name: string }) => a.name)).toEqual(['Holidays']);
    expect(config.guest).toBeNull();
    expect(config.allowedFileTypes).toEqual(expect.arrayContaining(['.jpg', '.jpeg', 'image/jpeg', '.mov', 'video/quicktime']));
    expect(config.allowedFileTypes).not.toContain('.heic');
    expect(config.embed.codes['viewer-links']).toBe('Viewer link');
    expect(config.expirations[0]).toEqual({ value: 'PT5M', unit: 'minutes', count: 5 });
  });

  it('gives a guest the guest limit, the forced expiry and the sign-up links, in their language', async () => {
    const guest = new WebClient(guestServer.url, { 'Accept-Language': 'ko-KR,ko;q=0.9' });
    const config = JSON.parse((await guest.get('/upload/config.json')).text);
    expect(config.lang).toBe('ko');
    expect(config.maxFileSize).toBe(500_000);
    expect(config.limitsLabel).toBe('JPG JPEG PNG GIF WEBP BMP AVIF HEIC MP4 MOV WEBM 최대 500 KB');
    expect(config.guest).toEqual({ expiration: { unit: 'weeks', count: 1 }, signupUrl: '/signup', loginUrl: '/login?next=%2Fupload' });
    expect(config.user).toBeNull();
    expect(config.strings.guest['save-prompt']).toBe('이 콘텐츠를 계정에 저장하려면 계정을 만들거나 로그인해야 합니다.');
  });

  it('serves the browser bundle when it has been built', async () => {
    if (!existsSync(path.join(UPLOADER_BUNDLE_DIR, 'launcher.js'))) {
      if (process.env.CI === 'true') throw new Error('the uploader bundle is missing: npm install (prepare) builds it');
      return;
    }
    const res = await fetch(`${server.url}/assets/uploader/launcher.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/javascript/);
    expect(res.headers.get('cache-control')).toBe('public, no-cache');
    const chunk = /\.\/(app-[\w-]+\.js)/.exec(await res.text())?.[1];
    expect(chunk).toBeDefined();
    const app = await fetch(`${server.url}/assets/uploader/${chunk}`);
    expect(app.status).toBe(200);
    expect(app.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await app.text()).length).toBeGreaterThan(1000);
  });
});

describe('the uploader strings', () => {
  type Tree = { [key: string]: string | Tree };
  const load = async (lang: string) => JSON.parse(await readFile(path.resolve('locales', lang, 'uploader.json'), 'utf8')) as Tree;
  const flatten = (tree: Tree, prefix = ''): Record<string, string> =>
    Object.fromEntries(Object.entries(tree).flatMap(([k, v]) => (typeof v === 'string' ? [[`${prefix}${k}`, v]] : Object.entries(flatten(v, `${prefix}${k}.`)))));
  /** i18next plural keys (`_one`, `_other`) and Uppy's ({0, 1}) count as one key. */
  const baseKey = (key: string) => key.replace(/_(zero|one|two|few|many|other)$/, '').replace(/\.[01]$/, '');
  const placeholders = (text: string) => [...text.matchAll(/\{\{\s*(\w+)\s*\}\}|%\{(\w+)\}/g)].map((m) => m[1] ?? m[2]).sort();

  it('exist in all six languages, with the same placeholders as English', async () => {
    const english = flatten(await load('en'));
    const englishBases = new Set(Object.keys(english).map(baseKey));
    for (const { code } of LANGUAGES) {
      const strings = flatten(await load(code));
      const bases = new Set(Object.keys(strings).map(baseKey));
      expect([...englishBases].filter((k) => !bases.has(k)), `${code} is missing`).toEqual([]);
      expect([...bases].filter((k) => !englishBases.has(k)), `${code} has extra`).toEqual([]);
      // Every language has the `_other` form its plural rules always need.
      for (const key of Object.keys(english).filter((k) => k.endsWith('_other'))) expect(strings[key], `${code} ${key}`).toBeTypeOf('string');
      for (const [key, text] of Object.entries(strings)) {
        const reference = english[key] ?? english[key.replace(/_(zero|one|two|few|many|other)$/, '_other')];
        if (reference !== undefined) expect(placeholders(text), `${code} ${key}`).toEqual(placeholders(reference));
      }
    }
  });

  it('names auto-delete periods in their largest whole unit', () => {
    expect(periodOf(604_800)).toEqual({ unit: 'weeks', count: 1 });
    expect(periodOf(86_400 * 3)).toEqual({ unit: 'days', count: 3 });
    expect(periodOf(5400)).toEqual({ unit: 'minutes', count: 90 });
    expect(periodOf(31_536_000)).toEqual({ unit: 'years', count: 1 });
  });
});
