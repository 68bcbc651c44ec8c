import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Migrator, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { initialMigration } from '../../src/db/migrations/0001_initial.js';
import { webMigration } from '../../src/db/migrations/0002_web.js';
import { scaleOutMigration } from '../../src/db/migrations/0003_scale_out.js';
import { listImages } from '../../src/db/repositories/listings.js';
import { formatUtc } from '../../src/core/dates.js';
import { testDialects } from '../support/databases.js';
import { imageRow } from './image-rows.js';

const dialects = await testDialects();

/** 0004_search_privacy on a site that already has files and albums. */
describe.each(dialects)('the search and privacy migration on $name', (dialect) => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-migrate-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('indexes existing titles for search and hides what sits below a hidden album', async () => {
    const { url, drop } = await dialect.create(dataDir);
    const handle = openDatabase(url);
    try {
      const older = new Migrator({
        db: handle.db,
        provider: { getMigrations: async () => ({ '0001_initial': initialMigration(handle.dialect), '0002_web': webMigration(handle.dialect), '0003_scale_out': scaleOutMigration(handle.dialect) }) },
      });
      expect((await older.migrateToLatest()).error).toBeUndefined();
      const db = handle.db as unknown as Kysely<any>;
      const user = await db.insertInto('users').values({ username: 'old', email: 'old@example.test', password_hash: 'x', is_admin: 0, created_at: formatUtc(new Date()) }).returning('id').executeTakeFirstOrThrow();
      const album = (name: string, privacy: string, parent: number | null) =>
        db.insertInto('albums').values({ user_id: user.id, parent_id: parent, name, privacy, created_at: formatUtc(new Date()) }).returning('id').executeTakeFirstOrThrow();
      const hidden = await album('Hidden', 'private', null);
      const child = await album('Public child', 'public', hidden.id);
      const grandchild = await album('Public grandchild', 'public', child.id);
      const open = await album('Open', 'public', null);
      const image = (title: string, albumId: number | null, listed: number) =>
        db.insertInto('images').values({ ...imageRow({ title, user_id: user.id, album_id: albumId }), listed }).returning('id').executeTakeFirstOrThrow();
      const visible = await image('Old Lighthouse photo', open.id, 1);
      await image('Old lighthouse in hidden', hidden.id, 0);
      // Before 0004, a public sub-album of a private album was public: its files were listed.
      await image('Old lighthouse in grandchild', grandchild.id, 1);
      const loose = await image('老灯塔 照片', null, 1);

      await migrateToLatest(handle);
      const found = await listImages(handle.db, { kind: 'search', text: 'lighthouse' }, { limit: 10 });
      expect(found.items.map((i) => Number(i.id))).toEqual([Number(visible.id)]);
      expect((await listImages(handle.db, { kind: 'search', text: '老灯塔' }, { limit: 10 })).items.map((i) => Number(i.id))).toEqual([Number(loose.id)]);
      const albums = await handle.db.selectFrom('albums').select(['name', 'listed']).orderBy('id').execute();
      expect(albums.map((a) => [a.name, Number(a.listed)])).toEqual([['Hidden', 0], ['Public child', 0], ['Public grandchild', 0], ['Open', 1]]);
      expect((await listImages(handle.db, { kind: 'explore' }, { limit: 10 })).items.map((i) => i.title)).toEqual(['老灯塔 照片', 'Old Lighthouse photo']);

      // Rows written after the migration are indexed (and unindexed) by the triggers (SQLite) or the index.
      const fresh = await image('Brand new lighthouse', null, 1);
      expect((await listImages(handle.db, { kind: 'search', text: 'new light' }, { limit: 10 })).items.map((i) => Number(i.id))).toEqual([Number(fresh.id)]);
      await db.updateTable('images').set({ title: 'Renamed' }).where('id', '=', fresh.id).execute();
      expect((await listImages(handle.db, { kind: 'search', text: 'new light' }, { limit: 10 })).items).toEqual([]);
      expect((await listImages(handle.db, { kind: 'search', text: 'renamed' }, { limit: 10 })).items.map((i) => Number(i.id))).toEqual([Number(fresh.id)]);
      await db.deleteFrom('images').where('id', '=', fresh.id).execute();
      expect((await listImages(handle.db, { kind: 'search', text: 'renamed' }, { limit: 10 })).items).toEqual([]);
    } finally {
      await handle.close();
      await drop();
    }
  });
});
