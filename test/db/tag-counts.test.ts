import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Migrator, sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatUtc } from '../../src/core/dates.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { allMigrations, migrateToLatest } from '../../src/db/migrate.js';
import { mostUsedTags } from '../../src/db/repositories/browse.js';
import { addTagsTo, removeTagsFrom } from '../../src/db/repositories/bulk-edits.js';
import { updateImageDetails } from '../../src/db/repositories/image-edits.js';
import { takeExpiredImages } from '../../src/db/repositories/image-removal.js';
import { deleteImageRow, insertImageWithTags } from '../../src/db/repositories/images.js';
import type { Database } from '../../src/db/schema.js';
import { testDialects } from '../support/databases.js';
import { imageRow } from './image-rows.js';

const dialects = await testDialects();

/** Each tag's running count (tags.uses, 0019_tag_use_counts), zeros left out. */
async function counts(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('tags').select(['name', 'uses']).where('uses', '<>', 0).orderBy('name').execute();
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.uses)]));
}

/** What the counts must be: the tag links of listed files, counted from scratch. */
async function recount(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('image_tags')
    .innerJoin('images', 'images.id', 'image_tags.image_id')
    .innerJoin('tags', 'tags.id', 'image_tags.tag_id')
    .where('images.listed', '=', 1)
    .select((eb) => ['tags.name', eb.fn.countAll<number>().as('n')])
    .groupBy('tags.name')
    .orderBy('tags.name')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}

describe.each(dialects)('running tag counts on $name', (dialect) => {
  let dataDir: string;
  let handle: DatabaseHandle;
  let drop: () => Promise<void>;
  let url: string;
  let db: Kysely<Database>;
  /** The counts now, checked against a recount of the links. */
  const expectCounts = async (expected: Record<string, number>) => {
    expect(await counts(db)).toEqual(expected);
    expect(await recount(db)).toEqual(expected);
  };
  const file = async (tags: string[], fields: { listed?: number; expires_at?: string | null } = {}) =>
    (await insertImageWithTags(db, { ...imageRow({ expires_at: fields.expires_at ?? null }), listed: fields.listed ?? 1 }, tags)).image.id;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-tagcounts-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));
  beforeEach(async () => {
    const created = await dialect.create(dataDir);
    ({ drop, url } = created);
    handle = openDatabase(created.url);
    db = handle.db;
  });
  afterEach(async () => {
    await handle.close();
    await drop();
  });

  it('counts the links of files already there when the migration runs, public files only', async () => {
    const migrations = allMigrations(handle.dialect);
    delete migrations['0019_tag_use_counts'];
    const older = new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
    expect((await older.migrateToLatest()).error).toBeUndefined();
    const old = db as unknown as Kysely<any>;
    const tag = async (name: string) => Number((await old.insertInto('tags').values({ name }).returning('id').executeTakeFirstOrThrow()).id);
    const [sea, sky, hidden] = [await tag('sea'), await tag('sky'), await tag('hidden')];
    const image = async (listed: number, tags: number[]) => {
      const { id } = await old.insertInto('images').values({ ...imageRow(), listed }).returning('id').executeTakeFirstOrThrow();
      for (const t of tags) await old.insertInto('image_tags').values({ image_id: id, tag_id: t }).execute();
    };
    await image(1, [sea, sky]);
    await image(1, [sea]);
    await image(0, [sea, hidden]);

    await migrateToLatest(handle);
    await expectCounts({ sea: 2, sky: 1 });
    // And kept from then on.
    await file(['hidden']);
    await expectCounts({ hidden: 1, sea: 2, sky: 1 });
  });

  describe('after the migration', () => {
    beforeEach(() => migrateToLatest(handle));

    it('follows uploads, edits, bulk tagging, listed flips and every kind of deletion, counting each change once', async () => {
      const a = await file(['sea', 'sky']);
      const b = await file(['sky']);
      const unlisted = await file(['sky', 'secret'], { listed: 0 });
      await expectCounts({ sea: 1, sky: 2 });

      // A tag edit takes the old links off and puts the new ones on.
      await updateImageDetails(db, a, { title: 'A', description: null, nsfw: false, tags: ['sun', 'sky'], album: null });
      await expectCounts({ sky: 2, sun: 1 });

      // Bulk tags on several files at once (one statement), a tag already there kept once.
      await addTagsTo(db, [a, b, unlisted], ['sky', 'night']);
      await expectCounts({ night: 2, sky: 2, sun: 1 });
      await removeTagsFrom(db, [a, b, unlisted], ['night']);
      await expectCounts({ sky: 2, sun: 1 });

      // listed flips, both ways, several rows in one statement; an update leaving it as it was changes nothing.
      await db.updateTable('images').set({ listed: 1 }).where('id', 'in', [unlisted, b]).execute();
      await expectCounts({ secret: 1, sky: 3, sun: 1 });
      await db.updateTable('images').set({ listed: 0 }).where('id', 'in', [unlisted, a]).execute();
      await expectCounts({ sky: 1 });
      await db.updateTable('images').set({ listed: 1, views: 5 }).where('id', '=', a).execute();
      await db.updateTable('images').set({ views: 9 }).where('id', '=', a).execute();
      await expectCounts({ sky: 2, sun: 1 });

      // A link moved to another tag or file (no code does it; the count follows all the same).
      const moon = Number((await db.insertInto('tags').values({ name: 'moon' }).returning('id').executeTakeFirstOrThrow()).id);
      await db.updateTable('image_tags').set({ tag_id: moon }).where('image_id', '=', a).where('tag_id', '=', (qb) => qb.selectFrom('tags').select('id').where('name', '=', 'sun')).execute();
      await expectCounts({ moon: 1, sky: 2 });

      // Deleting: links first, then the row (removeImage's way) ...
      expect(await deleteImageRow(db, b)).toBe(true);
      await expectCounts({ moon: 1, sky: 1 });
      // ... the row alone, its links going by the foreign key's cascade ...
      await db.deleteFrom('images').where('id', '=', a).execute();
      await expectCounts({});
      // ... an unlisted file takes nothing ...
      await db.deleteFrom('images').where('id', '=', unlisted).execute();
      await expectCounts({});
      expect(await db.selectFrom('image_tags').select('tag_id').execute()).toEqual([]);
    });

    it('drops expired files when the sweep deletes them (several rows in one statement, links by cascade), not before', async () => {
      const past = formatUtc(new Date(Date.now() - 60_000));
      await file(['fleeting', 'sea'], { expires_at: past });
      await file(['fleeting'], { expires_at: past });
      await file(['fleeting'], { expires_at: past, listed: 0 });
      await file(['sea']);
      // A count has no clock: expired files count until the sweep deletes them.
      await expectCounts({ fleeting: 2, sea: 2 });
      expect(await takeExpiredImages(db, new Date(), 10)).toHaveLength(3);
      await expectCounts({ sea: 1 });
    });

    it('follows a tag deleted with its links', async () => {
      await file(['gone', 'kept']);
      await db.deleteFrom('tags').where('name', '=', 'gone').execute();
      await expectCounts({ kept: 1 });
    });

    it.skipIf(dialect.name !== 'postgres')('counts a link removed while another transaction flips its file once, whichever goes first (PostgreSQL)', async () => {
      const first = new pg.Client({ connectionString: url });
      const second = new pg.Client({ connectionString: url });
      await first.connect();
      await second.connect();
      try {
        // The flip first: the link's removal waits for it (the trigger reads the file FOR SHARE), then sees it unlisted.
        const a = await file(['race']);
        await first.query('begin');
        await first.query('update images set listed = 0 where id = $1', [a]);
        const removal = second.query('delete from image_tags where image_id = $1', [a]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await first.query('commit');
        await removal;
        await expectCounts({});

        // The removal first: the flip waits for it, then finds no link to count.
        const b = await file(['race']);
        await expectCounts({ race: 1 });
        await first.query('begin');
        await first.query('delete from image_tags where image_id = $1', [b]);
        const flip = second.query('update images set listed = 0 where id = $1', [b]);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await first.query('commit');
        await flip;
        await expectCounts({});
      } finally {
        await first.end();
        await second.end();
      }
    });

    it('gives the most used tags first, ties by name, only tags some public file carries', async () => {
      for (const tags of [['b', 'c'], ['c', 'a'], ['c', 'b'], ['d'], ['z']]) await file(tags);
      await file(['private-only'], { listed: 0 });
      expect(await mostUsedTags(db, 10)).toEqual([
        { name: 'c', uses: 3 },
        { name: 'b', uses: 2 },
        { name: 'a', uses: 1 },
        { name: 'd', uses: 1 },
        { name: 'z', uses: 1 },
      ]);
      expect((await mostUsedTags(db, 3)).map((t) => t.name)).toEqual(['c', 'b', 'a']);
    });

    it('reads the top of one index, never the tag links', async () => {
      const query = 'select name, uses from tags where uses > 0 order by uses desc, name limit 200';
      if (handle.dialect === 'sqlite') {
        const plan = (await sql.raw<{ detail: string }>(`explain query plan ${query}`).execute(db)).rows.map((r) => r.detail).join('\n');
        expect(plan).toMatch(/SEARCH tags USING COVERING INDEX tags_uses_name \(uses>\?\)/);
        expect(plan).not.toMatch(/TEMP B-TREE|image_tags/);
      } else {
        // A handful of rows: tell the planner a scan is dear, as it is with many tags (one transaction, one connection).
        const plan = await db.transaction().execute(async (trx) => {
          await sql`set local enable_seqscan = off`.execute(trx);
          return (await sql.raw<{ 'QUERY PLAN': string }>(`explain ${query}`).execute(trx)).rows.map((r) => r['QUERY PLAN']).join('\n');
        });
        expect(plan).toMatch(/Index (Only )?Scan using tags_uses_name/);
        expect(plan).not.toMatch(/Sort|image_tags/);
      }
    });
  });
});
