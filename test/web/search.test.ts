import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countSearch, listImages } from '../../src/db/repositories/listings.js';
import { sql } from 'kysely';
import { isPostgres } from '../../src/db/dialect.js';
import { forgetTitleGramStats, WALK_ROWS } from '../../src/db/repositories/postgres-title-search.js';
import { textGrams } from '../../src/db/title-fold.js';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, memberWithKey, tileLinks, WebClient } from './web-client.js';

type Uploaded = { path_viewer: string; id_encoded: string };

/** Search by title (trigram index on SQLite and PostgreSQL) and by tag, as a visitor sees it. */
describe('search', () => {
  let server: TestServer;
  let key: string;
  let owner: WebClient;
  let n = 0;
  const guest = () => new WebClient(server.url);
  const search = async (q: string) => {
    const page = await guest().get(`/search?q=${encodeURIComponent(q)}`);
    expect(page.status, q).toBe(200);
    return tileLinks(page.text);
  };
  async function upload(title: string, fields: Record<string, string> = {}): Promise<Uploaded> {
    const res = await uploadFile(server.url, await makePng(10 + n++, 10), 'x.png', { title, ...fields }, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.image;
  }

  let sunflower: Uploaded, seoul: Uploaded, beijing: Uploaded, quoted: Uploaded, tagged: Uploaded;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0' });
    ({ browser: owner, key } = await memberWithKey(server.url, 'searcher'));
    sunflower = await upload('Sunflower Field at Dawn');
    seoul = await upload('서울의 밤거리 풍경');
    beijing = await upload('北京天安门广场');
    quoted = await upload('He said "hi" (OR *) NEAR me');
    tagged = await upload('Untitled thing', { tags: '猫' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('matches a substring in the middle of a word, whatever the case', async () => {
    expect(await search('flow')).toEqual([sunflower.path_viewer]);
    expect(await search('FLOWER FI')).toEqual([sunflower.path_viewer]);
    expect(await search('sUnFlOwEr')).toEqual([sunflower.path_viewer]);
    expect(await search('dawnx')).toEqual([]);
  });

  it('matches Korean and Chinese titles, which have no spaces between words', async () => {
    expect(await search('밤거리')).toEqual([seoul.path_viewer]);
    expect(await search('의 밤')).toEqual([seoul.path_viewer]);
    expect(await search('天安门')).toEqual([beijing.path_viewer]);
    expect(await search('京天安')).toEqual([beijing.path_viewer]);
    expect(await search('上海市')).toEqual([]);
  });

  it('matches one character (and two Latin ones) against whole tag names only, and says so; two CJK characters search titles', async () => {
    expect(await search('猫')).toEqual([tagged.path_viewer]);
    // Two Chinese, Japanese or Korean characters are a word: titles are searched (cjk_title_grams, issue 19).
    expect(await search('天安')).toEqual([beijing.path_viewer]);
    expect(await search('安门')).toEqual([beijing.path_viewer]);
    expect(await search('天门')).toEqual([]);
    expect((await guest().get(`/search?q=${encodeURIComponent('天安')}`)).text).not.toContain('Titles are searched from');
    const short = await guest().get(`/search?q=${encodeURIComponent('ab')}`);
    expect(short.text).toContain('Titles are searched from 3 characters on');
    const korean = await new WebClient(server.url, { 'Accept-Language': 'ko' }).get(`/search?q=${encodeURIComponent('猫')}`);
    expect(korean.text).toContain('제목은 3자 이상일 때 검색됩니다');
    expect((await guest().get(`/search?q=${encodeURIComponent('天安门')}`)).text).not.toContain('Titles are searched from');
  });

  it('matches titles in other scripts whatever the case of either, letters with marks as they are', async () => {
    const aerger = await upload('Ärger im Büro');
    const istanbul = await upload('İstanbul by night');
    const sisyphus = await upload('Ο Σίσυφος σπρώχνει');
    const moscow = await upload('Москва ночью');
    expect(await search('äRGER IM')).toEqual([aerger.path_viewer]);
    expect(await search('BÜRO')).toEqual([aerger.path_viewer]);
    expect(await search('arger')).toEqual([]);
    // The text is folded as the titles are (FTS5's fold on SQLite, lower() on PostgreSQL), never by JavaScript's toLowerCase (İ to i and a combining dot).
    expect(await search('İSTANBUL')).toEqual([istanbul.path_viewer]);
    expect(await search('ΣΊΣΥΦ')).toEqual([sisyphus.path_viewer]);
    expect(await search('σΠΡΏΧ')).toEqual([sisyphus.path_viewer]);
    expect(await search('мОСКВА н')).toEqual([moscow.path_viewer]);
  });

  it('never reads the visitor text as query syntax', async () => {
    for (const q of ['"', '""', '"hi"', '*', 'OR', 'a OR b', '(', ')', 'NEAR(', 'title:x', '-', '^', '%', '_', '\\', "'; drop table images; --", 'x\u0000y']) {
      const page = await guest().get(`/search?q=${encodeURIComponent(q)}`);
      expect(page.status, q).toBe(200);
    }
    expect(await search('"hi"')).toEqual([quoted.path_viewer]);
    expect(await search('(OR *)')).toEqual([quoted.path_viewer]);
    expect(await search('OR *')).toEqual([quoted.path_viewer]);
    expect(await search('said "hi" (or *) near')).toEqual([quoted.path_viewer]);
    expect(await search('"HI" (OR')).toEqual([quoted.path_viewer]);
    expect(await search('"hi" OR *')).toEqual([]);
    expect(await search('%%%')).toEqual([]);
    expect(await search('___')).toEqual([]);
  });

  it('never shows files of private, unlisted, password or expired files, nor of sub-albums of hidden albums', async () => {
    const hiddenTitles: Uploaded[] = [];
    for (const privacy of ['private', 'unlisted', 'password']) {
      const album = await createAlbum(owner, { name: `Hidden ${privacy}`, privacy, password: 'pw' });
      hiddenTitles.push(await upload(`Zebra crossing ${privacy}`, { album_id: album }));
      const child = await createAlbum(owner, { name: `Public child of ${privacy}`, privacy: 'public', parent: album });
      hiddenTitles.push(await upload(`Zebra crossing child of ${privacy}`, { album_id: child }));
    }
    const expired = await upload('Zebra crossing expired');
    await server.ctx.db.updateTable('images').set({ expires_at: '2000-01-01 00:00:00' }).where('id', '=', server.ctx.ids.decode(expired.id_encoded)!).execute();
    const visible = await upload('Zebra crossing public');
    expect(await search('zebra')).toEqual([visible.path_viewer]);
    expect(await search('crossing child')).toEqual([]);
  });

  it('pages through many hits newest first, without gaps or repeats, title and tag hits merged', async () => {
    const made: Uploaded[] = [];
    for (let i = 0; i < 7; i++) made.push(await upload(i % 3 === 0 ? 'Untitled' : `Pagination marker ${i}`, i % 3 === 0 ? { tags: 'pagination marker' } : {}));
    const ids = made.map((u) => server.ctx.ids.decode(u.id_encoded)!).reverse();
    const seen: number[] = [];
    let before: number | null = null;
    let pages = 0;
    for (;;) {
      const page = await listImages(server.ctx.db, { kind: 'search', text: 'pagination marker' }, { before, limit: 3 });
      seen.push(...page.items.map((i) => Number(i.id)));
      pages++;
      if (page.olderCursor === null) break;
      before = page.olderCursor;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(ids);
    // Back from the last page: the newer page is the middle one.
    const back = await listImages(server.ctx.db, { kind: 'search', text: 'pagination marker' }, { after: ids[6], limit: 3 });
    expect(back.items.map((i) => Number(i.id))).toEqual(ids.slice(3, 6));
  });
  it('finds old matches below many newer files that do not match, newest first, on pages that span both', async () => {
    // On PostgreSQL the newest files are walked first (WALK_ROWS of them), then the trigram index
    // takes the files past the walk: a row lost or repeated at that boundary shows here.
    const idOf = (u: Uploaded) => server.ctx.ids.decode(u.id_encoded)!;
    const one = await upload('Old needle sunrise one');
    const unlisted = await upload('Old needle sunrise two');
    await upload('Sunrise old needle, the words the other way round');
    const four = await upload('Old needle sunrise four');
    const expired = await upload('Old needle sunrise five');
    await server.ctx.db.updateTable('images').set({ listed: 0 }).where('id', '=', idOf(unlisted)).execute();
    await server.ctx.db.updateTable('images').set({ expires_at: '2000-01-01 00:00:00' }).where('id', '=', idOf(expired)).execute();
    // Newer files whose titles share a word with the text (so it is common among them) but never the text.
    const { id: _id, ...template } = await server.ctx.db.selectFrom('images').selectAll().where('id', '=', idOf(four)).executeTakeFirstOrThrow();
    for (let start = 0; start < WALK_ROWS + 100; start += 100) {
      const rows = Array.from({ length: 100 }, (_, i) => ({ ...template, name: `filler${start + i}`, title: `Old photo ${start + i}` }));
      await server.ctx.db.insertInto('images').values(rows).execute();
    }
    const newer = await upload('Old needle sunrise newer');
    const newest = await upload('An old needle sunrise, the newest');
    const expected = [newest, newer, four, one].map(idOf);

    const text = 'old needle sunrise';
    const pages: number[][] = [];
    let before: number | null = null;
    for (;;) {
      const page = await listImages(server.ctx.db, { kind: 'search', text }, { before, limit: 3 });
      pages.push(page.items.map((i) => Number(i.id)));
      if (page.olderCursor === null) break;
      before = page.olderCursor;
    }
    // The first page holds the two newest (found by the walk) and the newest old one (past it).
    expect(pages).toEqual([expected.slice(0, 3), expected.slice(3)]);
    const back = await listImages(server.ctx.db, { kind: 'search', text }, { after: expected[3], limit: 3 });
    expect(back.items.map((i) => Number(i.id))).toEqual(expected.slice(0, 3));
    const fromOld = await listImages(server.ctx.db, { kind: 'search', text }, { before: expected[2], limit: 3 });
    expect(fromOld.items.map((i) => Number(i.id))).toEqual(expected.slice(3));
    const images = await listImages(server.ctx.db, { kind: 'search', text, type: 'image' }, { limit: 10 });
    expect(images.items.map((i) => Number(i.id))).toEqual(expected);
    expect((await listImages(server.ctx.db, { kind: 'search', text, type: 'video' }, { limit: 10 })).items).toEqual([]);
    expect(await countSearch(server.ctx.db, text, 100)).toBe(4);
    expect(await countSearch(server.ctx.db, 'old photo', 100)).toBe(101);
  });

  it('finds many old matches below thousands of newer titles that hold every piece of the text, newest first, across pages and edits', async () => {
    // On PostgreSQL the text's rarest three-character piece is then walked newest first in
    // title_grams (0020_title_grams) from where the walk of recent files stopped (200 titles, then
    // as many more as their hits say are needed), and the trigram index takes the rest: here the
    // first page of images holds two hits found by that walk and one found by the index past it.
    const idOf = (u: Uploaded) => server.ctx.ids.decode(u.id_encoded)!;
    const { id: _id, ...template } = await server.ctx.db.selectFrom('images').selectAll().where('id', '=', idOf(sunflower)).executeTakeFirstOrThrow();
    const fillers = async (count: number, label: string) => {
      for (let start = 0; start < count; start += 250) {
        // Every piece of "kiwi 12" is in these titles, never the text itself.
        const rows = Array.from({ length: Math.min(250, count - start) }, (_, i) => ({ ...template, name: `kiwi${label}${start + i}`, title: `Kiwi 1 12 ${label}${start + i}` }));
        await server.ctx.db.insertInto('images').values(rows).execute();
      }
    };
    await fillers(1000, 'a');
    const one = await upload('Kiwi 12 one');
    const unlisted = await upload('Kiwi 12 two');
    await upload('12 kiwi, the other way round');
    const four = await upload('Kiwi 12 four');
    const expired = await upload('Kiwi 12 five');
    await fillers(2200, 'c');
    const six = await upload('Kiwi 12 six');
    const seven = await upload('A kiwi 12 seven');
    const video = await upload('Kiwi 12 video');
    await fillers(50, 'd');
    await fillers(WALK_ROWS + 100, 'e');
    await server.ctx.db.updateTable('images').set({ listed: 0 }).where('id', '=', idOf(unlisted)).execute();
    await server.ctx.db.updateTable('images').set({ expires_at: '2000-01-01 00:00:00' }).where('id', '=', idOf(expired)).execute();
    await server.ctx.db.updateTable('images').set({ type: 'video' }).where('id', '=', idOf(video)).execute();
    if (isPostgres(server.ctx.db)) {
      // What autovacuum would do on a live site: the gram statistics the search reads.
      await sql`analyze title_grams`.execute(server.ctx.db);
      forgetTitleGramStats(server.ctx.db);
    }
    const text = 'kiwi 12';
    const pagesOf = async (type?: 'image' | 'video') => {
      const pages: number[][] = [];
      let before: number | null = null;
      for (;;) {
        const page = await listImages(server.ctx.db, { kind: 'search', text, type }, { before, limit: 3 });
        pages.push(page.items.map((i) => Number(i.id)));
        if (page.olderCursor === null) return pages;
        before = page.olderCursor;
      }
    };
    const expected = [video, seven, six, four, one].map(idOf);
    expect(await pagesOf()).toEqual([expected.slice(0, 3), expected.slice(3)]);
    const images = expected.filter((id) => id !== idOf(video));
    expect(await pagesOf('image')).toEqual([images.slice(0, 3), images.slice(3)]);
    expect(await pagesOf('video')).toEqual([[idOf(video)]]);
    // Back from the last page (walked oldest first from its first row), and from inside the walked titles.
    const back = await listImages(server.ctx.db, { kind: 'search', text, type: 'image' }, { after: images[3], limit: 3 });
    expect(back.items.map((i) => Number(i.id))).toEqual(images.slice(0, 3));
    expect(back.newerCursor).toBeNull();
    const fromSix = await listImages(server.ctx.db, { kind: 'search', text }, { before: idOf(six), limit: 3 });
    expect(fromSix.items.map((i) => Number(i.id))).toEqual([idOf(four), idOf(one)]);
    expect(await countSearch(server.ctx.db, text, 100)).toBe(5);
    expect(await search('kiwi 12 s')).toEqual([seven.path_viewer, six.path_viewer]);

    // A new title is found under it at once, the old one no longer; a deleted file leaves nothing behind.
    await server.ctx.db.updateTable('images').set({ title: 'Kiwi 1 12 six, renamed' }).where('id', '=', idOf(six)).execute();
    await server.ctx.db.updateTable('images').set({ title: 'Kiwi 12 renamed from a filler' }).where('name', '=', 'kiwic7').execute();
    const renamed = Number((await server.ctx.db.selectFrom('images').select('id').where('name', '=', 'kiwic7').executeTakeFirstOrThrow()).id);
    await server.ctx.db.deleteFrom('images').where('id', '=', idOf(four)).execute();
    const after = [idOf(video), idOf(seven), renamed, idOf(one)];
    expect((await pagesOf()).flat()).toEqual(after);
    expect(await countSearch(server.ctx.db, text, 100)).toBe(4);
    if (isPostgres(server.ctx.db)) {
      const gramsOf = async (id: number) => (await sql<{ gram: string }>`select gram from title_grams where image_id = ${id}`.execute(server.ctx.db)).rows.map((r) => r.gram).sort();
      expect(await gramsOf(idOf(six))).toEqual(textGrams('kiwi 1 12 six, renamed').sort());
      expect(await gramsOf(renamed)).toEqual(textGrams('kiwi 12 renamed from a filler').sort());
      expect(await gramsOf(idOf(four))).toEqual([]);
    }
  });
});
