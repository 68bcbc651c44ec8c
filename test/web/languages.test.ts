import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Formats, LANGUAGES, languageFromAcceptHeader, siteCatalog } from '../../src/web/i18n.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from './web-client.js';

type Catalog = Record<string, unknown>;

function catalog(code: string): Catalog {
  return siteCatalog(code) as Catalog;
}

/** Flat keys with plural suffixes folded (`files_one`/`files_other` → `files`): languages have different plural forms. */
function keysOf(tree: Catalog, prefix = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    if (value && typeof value === 'object') for (const [k, v] of keysOf(value as Catalog, `${prefix}${key}.`)) out.set(k, v);
    else out.set(`${prefix}${key}`.replace(/_(zero|one|two|few|many|other)$/, ''), String(value));
  }
  return out;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

describe('languages', () => {
  let server: TestServer;
  let viewerPath: string;
  beforeAll(async () => {
    server = await startTestServer();
    const { key } = await server.createUserWithKey('polyglot');
    const res = await uploadFile(server.url, await makeJpeg(1200, 800), 'photo.jpg', { title: 'Photo' }, { 'X-API-Key': key });
    viewerPath = res.body.image.path_viewer;
  });
  afterAll(async () => {
    await server.close();
  });

  it('has one catalog per language, each with every key of the English one, really translated', () => {
    const english = keysOf(catalog('en'));
    for (const { code } of LANGUAGES) {
      const keys = keysOf(catalog(code));
      expect([...english.keys()].filter((k) => !keys.has(k)), code).toEqual([]);
      expect([...keys.keys()].filter((k) => !english.has(k)), code).toEqual([]);
      if (code === 'en') continue;
      // Names (ShareX, Markdown, NSFW...) may stay; everything else is the language's own.
      const same = [...english].filter(([k, v]) => keys.get(k) === v && /[a-z]{4,}/.test(v.replace(/\{\{\w+\}\}|ShareX|PicGo|BBCodes?|Markdown|HTML|NSFW|Shoebox|Album|Links|Video|Email|Type|Tags|Apps|Account/g, '')));
      expect(same.map(([k]) => k), code).toEqual([]);
    }
  });

  it('renders each language, chosen by Accept-Language', async () => {
    const cases: [string, string][] = [
      ['en-US,en;q=0.9', 'en'], ['ko-KR,ko;q=0.9,en;q=0.5', 'ko'], ['zh-CN,zh;q=0.9', 'zh-CN'], ['zh-TW', 'zh-CN'],
      ['nl-BE,nl;q=0.8', 'nl'], ['id-ID', 'id'], ['el-GR,el;q=0.9', 'el'], ['fr-FR,el;q=0.5', 'el'], ['fr-FR', 'en'],
    ];
    for (const [header, code] of cases) {
      const page = await new WebClient(server.url, { 'Accept-Language': header }).get('/');
      const strings = keysOf(catalog(code));
      expect(page.text, header).toContain(`<html lang="${code}">`);
      expect(page.headers.get('content-language')).toBe(code);
      expect(page.text, header).toContain(`<h1>${escapeHtml(strings.get('home.headline')!)}</h1>`);
      expect(page.text, header).toContain(`>${escapeHtml(strings.get('nav.explore')!)}</a>`);
    }
  });

  it('writes counts, sizes and dates the way each language does', async () => {
    const korean = await new WebClient(server.url, { 'Accept-Language': 'ko' }).get(viewerPath);
    expect(korean.text).toMatch(/\d{4}년 \d{1,2}월 \d{1,2}일/);
    expect(korean.text).toContain('조회 1회');
    const dutch = await new WebClient(server.url, { 'Accept-Language': 'nl' }).get(viewerPath);
    expect(dutch.text).toContain('2 weergaven');
    expect(dutch.text).toMatch(/\d+,\d kB|\d+ kB/);
    const greek = await new WebClient(server.url, { 'Accept-Language': 'el' }).get(viewerPath);
    expect(greek.text).toContain('3 προβολές');
    expect(new Formats('nl', 'UTC').size(1_550_000)).toBe('1,6 MB');
    expect(new Formats('en', 'UTC').size(1_550_000)).toBe('1.6 MB');
    expect(new Formats('el', 'UTC').count(1234567)).toBe('1.234.567');
    expect(new Formats('id', 'UTC').dateOf('2024-03-05 10:00:00')).toBe('5 Mar 2024');
    expect(new Formats('zh-CN', 'UTC').dateOf('2024-03-05 10:00:00')).toBe('2024年3月5日');
  });

  it('lets the language picker (a cookie) override the browser, and the account setting override both', async () => {
    const browser = new WebClient(server.url, { 'Accept-Language': 'en' });
    await browser.get('/');
    const picked = await browser.post('/language', { language: 'el', return: '/explore' });
    expect(picked.status).toBe(303);
    expect(picked.location).toBe('/explore');
    expect(browser.lastSetCookies.find((c) => c.startsWith('shoebox_lang=el'))).toMatch(/Max-Age=31536000/);
    expect((await browser.get('/explore')).text).toContain('<html lang="el">');
    // Unknown languages and foreign return addresses are ignored.
    expect((await browser.post('/language', { language: 'xx', return: 'https://evil.example/' })).location).toBe('/');
    expect((await browser.get('/')).text).toContain('<html lang="el">');
    // The picker is on every page without a token: a post from another site, or with neither
    // Origin nor Referer, is refused (403); the page's own Referer is enough.
    for (const origin of ['https://evil.example', null]) {
      const forged = await browser.post('/language', { language: 'ko', return: '/' }, { origin });
      expect(forged.status, String(origin)).toBe(403);
    }
    expect((await browser.get('/')).text).toContain('<html lang="el">');
    const byReferer = await fetch(`${server.url}/nsfw`, {
      method: 'POST',
      body: new URLSearchParams({ show: '1', return: '/' }),
      headers: { 'content-type': 'application/x-www-form-urlencoded', referer: `${server.url}/explore` },
      redirect: 'manual',
    });
    expect(byReferer.status).toBe(303);

    await browser.signup('linguist');
    await browser.get('/settings');
    await browser.post('/settings/preferences', { language: 'id' });
    const elsewhere = new WebClient(server.url, { 'Accept-Language': 'ko' });
    elsewhere.cookies.set('shoebox_lang', 'nl');
    expect((await elsewhere.get('/')).text).toContain('<html lang="nl">');
    await elsewhere.login('linguist', 'correct horse battery');
    expect((await elsewhere.get('/settings')).text).toContain('<html lang="id">');
  });

  it('parses Accept-Language by quality', () => {
    expect(languageFromAcceptHeader('de;q=0.9, ko;q=0.8, en;q=0.7')).toBe('ko');
    expect(languageFromAcceptHeader('en;q=0.1, nl')).toBe('nl');
    expect(languageFromAcceptHeader('*')).toBeNull();
    expect(languageFromAcceptHeader('ko;q=0, en')).toBe('en');
    expect(languageFromAcceptHeader('in-ID')).toBe('id');
    expect(languageFromAcceptHeader(undefined)).toBeNull();
  });
});

describe('the default language', () => {
  it('is SHOEBOX_DEFAULT_LANGUAGE when the browser asks for none we have', async () => {
    const server = await startTestServer({ SHOEBOX_DEFAULT_LANGUAGE: 'ko' });
    try {
      expect((await new WebClient(server.url, { 'Accept-Language': 'fr' }).get('/')).text).toContain('<html lang="ko">');
      expect((await new WebClient(server.url, { 'Accept-Language': 'nl' }).get('/')).text).toContain('<html lang="nl">');
    } finally {
      await server.close();
    }
  });
});
