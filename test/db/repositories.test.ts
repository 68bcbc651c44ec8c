import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ShoeboxError } from '../../src/core/errors.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { findUserByApiKey, regenerateApiKey } from '../../src/db/repositories/api-keys.js';
import { createAlbum, findAlbumById } from '../../src/db/repositories/albums.js';
import {
  claimFileName,
  deleteImageRow,
  findDuplicate,
  findExpiredImages,
  findImageByFile,
  findTagsOfImage,
  insertImageWithTags,
  releaseFileName,
} from '../../src/db/repositories/images.js';
import { createSession, deleteExpiredSessions, findSessionByToken } from '../../src/db/repositories/sessions.js';
import { createUser, findUserByUsername } from '../../src/db/repositories/users.js';
import { getOrInitVariable, loadSiteSecrets } from '../../src/db/repositories/variables.js';
import { claimJobRun } from '../../src/db/repositories/job-runs.js';
import { testDialects } from '../support/databases.js';
import { imageRow } from './image-rows.js';

const dialects = await testDialects();

describe.each(dialects)('repositories on $name', (dialect) => {
  let dataDir: string;
  let handle: DatabaseHandle;
  let url: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-db-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));
  beforeEach(async () => {
    const created = await dialect.create(dataDir);
    ({ url, drop } = created);
    handle = openDatabase(url);
    await migrateToLatest(handle);
  });
  afterEach(async () => {
    await handle.close();
    await drop();
  });

  it('runs on the dialect the URL names', () => {
    expect(handle.dialect).toBe(dialect.name);
  });

  it('applies the migrations once, even when two instances start at the same moment', async () => {
    // A second handle on the same database, as a second instance would open.
    const again = openDatabase(url);
    try {
      await Promise.all([migrateToLatest(handle), migrateToLatest(again)]);
      const applied = await handle.db.selectFrom('kysely_migration' as any).select('name' as any).execute();
      expect(applied.map((r: any) => r.name)).toEqual([...new Set(applied.map((r: any) => r.name))]);
      expect(applied.map((r: any) => r.name)).toContain('0003_scale_out');
    } finally {
      await again.close();
    }
  });

  it('creates users, refuses a taken name with 409, and returns ids as numbers', async () => {
    const user = await createUser(handle.db, { username: 'alice', password: 'password123', email: 'a@example.test' });
    expect(typeof user.id).toBe('number');
    expect((await findUserByUsername(handle.db, 'alice'))?.email).toBe('a@example.test');
    const error = await createUser(handle.db, { username: 'alice', password: 'password123' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ShoeboxError);
    expect((error as ShoeboxError).httpStatus).toBe(409);
  });

  it('keeps one API key per user: a new key revokes the old one', async () => {
    const user = await createUser(handle.db, { username: 'bob', password: 'password123' });
    const first = await regenerateApiKey(handle.db, user.id);
    const second = await regenerateApiKey(handle.db, user.id);
    expect(await findUserByApiKey(handle.db, first)).toBeUndefined();
    expect((await findUserByApiKey(handle.db, second))?.id).toBe(user.id);
  });

  it('lets the first writer of a site secret win, so every instance encodes ids the same way', async () => {
    const values = await Promise.all(['aaaa', 'bbbb', 'cccc', 'dddd'].map((v) => getOrInitVariable(handle.db, 'crypt_salt', v)));
    expect(new Set(values).size).toBe(1);
    expect((await loadSiteSecrets(handle.db, {})).cryptSalt).toBe(values[0]);
  });

  it('gives a file name to exactly one of many concurrent claimers', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, () => claimFileName(handle.db, '2024/05/06', 'cat')));
    expect(results.filter(Boolean)).toHaveLength(1);
    await releaseFileName(handle.db, '2024/05/06', 'cat');
    expect(await claimFileName(handle.db, '2024/05/06', 'cat')).toBe(true);
  });

  it('stores an image with its tags in one go and deletes it exactly once', async () => {
    const user = await createUser(handle.db, { username: 'carol', password: 'password123' });
    const album = await createAlbum(handle.db, { userId: user.id, name: 'Trips' });
    expect((await findAlbumById(handle.db, album.id))?.name).toBe('Trips');
    const { image, tags } = await insertImageWithTags(handle.db, imageRow({ user_id: user.id, album_id: album.id, size: 5_000_000_000 }), ['sea', 'Sun']);
    expect(image.size).toBe(5_000_000_000);
    expect(typeof image.id).toBe('number');
    expect(tags.map((t) => t.name)).toEqual(['sea', 'Sun']);
    expect((await findTagsOfImage(handle.db, image.id)).map((t) => t.name).sort()).toEqual(['Sun', 'sea']);
    // A second image reuses the existing tag rows.
    const other = await insertImageWithTags(handle.db, imageRow({ user_id: user.id }), ['sea']);
    expect(other.tags[0].id).toBe(tags[0].id);
    expect((await findImageByFile(handle.db, image.folder, image.name))?.id).toBe(image.id);
    expect((await findDuplicate(handle.db, user.id, image.md5))?.id).toBe(image.id);
    expect(await findDuplicate(handle.db, null, image.md5)).toBeUndefined();

    const deletions = await Promise.all([deleteImageRow(handle.db, image.id), deleteImageRow(handle.db, image.id)]);
    expect(deletions.filter(Boolean)).toHaveLength(1);
    expect(await findTagsOfImage(handle.db, image.id)).toEqual([]);
  });

  it('refuses a second row for the same stored file', async () => {
    await insertImageWithTags(handle.db, imageRow({ folder: '2024/01/01', name: 'same' }), []);
    await expect(insertImageWithTags(handle.db, imageRow({ folder: '2024/01/01', name: 'same' }), ['t'])).rejects.toThrow();
    // The failed insert left no tag behind: the transaction rolled back as a whole.
    expect(await handle.db.selectFrom('tags').selectAll().execute()).toEqual([]);
  });

  it('finds expired uploads oldest first, and only those', async () => {
    const now = new Date('2030-01-01T00:00:00Z');
    await insertImageWithTags(handle.db, imageRow({ name: 'later', expires_at: '2030-01-01 00:00:01' }), []);
    await insertImageWithTags(handle.db, imageRow({ name: 'second', expires_at: '2029-12-31 00:00:00' }), []);
    await insertImageWithTags(handle.db, imageRow({ name: 'first', expires_at: '2029-01-01 00:00:00' }), []);
    await insertImageWithTags(handle.db, imageRow({ name: 'forever' }), []);
    expect((await findExpiredImages(handle.db, now, 10)).map((i) => i.name)).toEqual(['first', 'second']);
  });

  it('keeps sessions in the database, where every instance finds them until they expire', async () => {
    const user = await createUser(handle.db, { username: 'dave', password: 'password123' });
    const past = new Date(Date.now() - 40 * 86_400_000);
    const { token } = await createSession(handle.db, user.id, { ip: '127.0.0.1', userAgent: 'test' });
    const { token: oldToken } = await createSession(handle.db, user.id, { ip: null, userAgent: null }, past);
    expect((await findSessionByToken(handle.db, token))?.user.username).toBe('dave');
    expect(await findSessionByToken(handle.db, oldToken)).toBeNull();
    expect(await deleteExpiredSessions(handle.db)).toBe(1);
  });

  it('claims each due run of a cluster job for exactly one instance', async () => {
    const claims = await Promise.all(Array.from({ length: 8 }, (_, i) => claimJobRun(handle.db, 'expiry-sweep', 60, `instance-${i}`)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    // Not due again until the interval has passed.
    expect(await claimJobRun(handle.db, 'expiry-sweep', 60, 'late')).toBe(false);
    // Other jobs have their own schedule.
    expect(await claimJobRun(handle.db, 'expired-sessions', 60, 'late')).toBe(true);
    const row = await handle.db.selectFrom('job_runs').selectAll().where('name', '=', 'expiry-sweep').executeTakeFirstOrThrow();
    expect(row.next_run_at > row.started_at!).toBe(true);
    expect(row.next_run_at).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });
});

