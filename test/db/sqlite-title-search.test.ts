import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { countSearch, listImages } from '../../src/db/repositories/listings.js';
import { forgetTitleSample, gramCounts, rareTrigrams } from '../../src/db/repositories/sqlite-title-search.js';
import { foldTitle } from '../../src/db/title-fold.js';
import { imageRow } from './image-rows.js';

/**
 * SQLite's title search narrows the FTS5 walk to the text's rare trigrams and checks the whole
 * text with shoebox_title_contains (sqlite-title-search.ts, title-fold.ts): its rows must be the
 * ones the plain FTS5 phrase finds, for any script and any case.
 */
describe('title search on SQLite', () => {
  it('folds every code point as the FTS5 trigram tokenizer does', () => {
    const sqlite = new SqliteDatabase(':memory:');
    try {
      sqlite.exec("create virtual table t using fts5(x, tokenize='trigram'); create virtual table v using fts5vocab(t, 'instance')");
      const insert = sqlite.prepare('insert into t(rowid, x) values (?, ?)');
      sqlite.transaction(() => {
        // Planes 2 to 16 hold no cased letters (CJK, private use): both leave them as they are.
        for (let code = 1; code <= 0x1ffff; code++) if (code < 0xd800 || code > 0xdfff) insert.run(code, `${String.fromCodePoint(code)}!!`);
      })();
      const differ: string[] = [];
      for (const { doc, term } of sqlite.prepare('select doc, term from v').iterate() as Iterable<{ doc: number; term: string }>) {
        const ours = foldTitle(`${String.fromCodePoint(doc)}!!`);
        if (ours !== term) differ.push(`U+${doc.toString(16)}: FTS5 ${[...term].map((c) => c.codePointAt(0)!.toString(16)).join(' ')}, ours ${[...ours].map((c) => c.codePointAt(0)!.toString(16)).join(' ')}`);
      }
      expect(differ).toEqual([]);
    } finally {
      sqlite.close();
    }
  });

  it('picks the rare trigrams of a text, or none when all are common', () => {
    const sample = gramCounts(Array.from({ length: 100 }, (_, i) => (i < 30 ? `PHOTO 1x${i}` : `photo ${i}`)));
    // " 12" is in one sampled title of 100, "o 1" in 30: only the first narrows the walk.
    expect(rareTrigrams('photo 12', sample)).toEqual([5]);
    // Two rare ones, apart from each other.
    expect(rareTrigrams('photo 123456', sample).length).toBe(2);
    expect(rareTrigrams('photo', sample)).toEqual([]);
  });

  describe('against the FTS5 phrase', () => {
    let dataDir: string;
    let handle: DatabaseHandle;
    const titles = [
      'Ärger im Büro', 'ÄRGER IM BÜRO', 'ärger', 'İstanbul by night', 'istanbul', 'ISTANBUL', 'ΣΊΣΥΦΟΣ ο βασιλιάς', 'σίσυφος', 'Σίσυφος',
      'МОСКВА ночью', 'москва', 'Straße', 'STRASSE', 'ſtraße', 'Kelvin 5 \u212a', 'kelvin 5 k', 'µ-Meter', 'μ-meter', 'Ꭰ Cherokee Ꭱ', 'ꭰ cherokee',
      'He said "hi" (OR *) NEAR me', 'a OR b*', 'x AND y', '"quoted"', 'Fußball-WM', 'FUSSBALL', 'Ǆemal', 'ǆemal', 'ǅemal', 'Ὀδυσσεύς', 'ὀδυσσεύς',
      'Cafe\u0301 crème', 'CAFÉ CRÈME', 'naïve NAÏVE', 'photo 12', 'Photo 123456', 'PHOTO 1234567', 'photo 1 12', null,
    ];
    const texts = [
      'ärger', 'ÄRGER', 'äRgEr Im', 'im bü', 'İstanbul', 'istanbul', 'ISTANBUL', 'i̇stanbul', 'σίσυφος', 'ΣΊΣΥΦΟΣ', 'ΣΊΣΥΦΟς', 'σίσυφοσ', 'москва', 'МоСкВа',
      'straße', 'STRASSE', 'strasse', 'ſtra', 'kelvin 5 k', 'KELVIN 5 K', '5 \u212a', 'µ-m', 'μ-M', 'ꭰ c', 'Ꭰ C', '"hi"', '(OR *)', 'OR *', 'a OR b*', 'AND y', '""quoted""',
      '"quoted"', 'fußball', 'FUSSBALL', 'ǆem', 'ǅEM', 'ὀδυσσ', 'ὈΔΥΣΣ', 'café', 'cafe\u0301', 'CRÈME', 'naïve naïve', 'photo 12', 'PHOTO 123456', 'photo 1', 'oto', 'nothing at all',
    ];
    const phraseIds = async (text: string) =>
      (await sql<{ id: number }>`select images.id from images_title_fts cross join images on images.id = images_title_fts.rowid
        where images_title_fts match ${`"${text.replace(/"/g, '""')}"`} and images.listed = 1 order by images.id desc`.execute(handle.db)).rows.map((r) => Number(r.id));
    const searchIds = async (text: string) => {
      const ids: number[] = [];
      let before: number | null = null;
      for (;;) {
        const page = await listImages(handle.db, { kind: 'search', text }, { before, limit: 2 });
        ids.push(...page.items.map((i) => Number(i.id)));
        if (page.olderCursor === null) return ids;
        before = page.olderCursor;
      }
    };

    beforeAll(async () => {
      dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-title-search-'));
      handle = openDatabase(`sqlite:${path.join(dataDir, 'db.sqlite')}`);
      await migrateToLatest(handle);
      for (const title of titles) await handle.db.insertInto('images').values(imageRow({ title })).execute();
    });
    afterAll(async () => {
      await handle.close();
      await rm(dataDir, { recursive: true, force: true });
    });

    it('finds what the phrase finds, with rare trigrams (few titles alike) and with the phrase (most titles alike)', async () => {
      forgetTitleSample(handle.db);
      for (const text of texts) expect(await searchIds(text), text).toEqual(await phraseIds(text));
      expect(await searchIds('ärger')).toHaveLength(3);
      expect(await searchIds('σίσυφος')).toHaveLength(3);
      expect(await searchIds('"hi"')).toHaveLength(1);

      // Many newer titles that hold every trigram of the texts but none of the texts: the sample
      // now finds "oto", "pho" and the rest common, and the old hits are below them all.
      const fillers = Array.from({ length: 400 }, (_, i) => imageRow({ title: `Photo 1 ${i} ärger-im büro σίσυφοσ ${i}` }));
      for (let i = 0; i < fillers.length; i += 100) await handle.db.insertInto('images').values(fillers.slice(i, i + 100)).execute();
      forgetTitleSample(handle.db);
      for (const text of texts) expect(await searchIds(text), text).toEqual(await phraseIds(text));
      expect(await searchIds('photo 12')).toHaveLength(3);
      expect(await countSearch(handle.db, 'photo 12', 100)).toBe(3);
      expect(await searchIds('ärger im')).toHaveLength(2);
      // Keyset pages in both directions over old hits.
      const all = await searchIds('photo 12');
      const back = await listImages(handle.db, { kind: 'search', text: 'photo 12' }, { after: all[2], limit: 2 });
      expect(back.items.map((i) => Number(i.id))).toEqual(all.slice(0, 2));
    });
  });
});
