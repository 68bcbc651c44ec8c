import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { formatUtc } from '../../src/core/dates.js';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrate.js';
import { claimFileName, insertImageWithTags } from '../../src/db/repositories/images.js';
import type { ImageRow } from '../../src/db/schema.js';
import { sweepExpiredImages } from '../../src/jobs/expiry-sweep.js';
import { releaseStaleNameClaims, STALE_CLAIM_SECONDS } from '../../src/jobs/stale-name-claims.js';
import { removeAbandonedTempFiles } from '../../src/jobs/temp-cleanup.js';
import { LocalStorage } from '../../src/storage/local.js';
import { objectKeysOf } from '../../src/storage/object-keys.js';
import { testDialects } from '../support/databases.js';
import { imageRow } from './image-rows.js';

/** A disk that fails every delete, as a bucket that is down would. */
class FailingDeletes extends LocalStorage {
  override async delete(): Promise<void> {
    throw new Error('storage is down');
  }
}

const dialects = await testDialects();

describe.each(dialects)('background jobs on $name', (dialect) => {
  let dataDir: string;
  let url: string;
  let drop: () => Promise<void>;
  let instanceA: DatabaseHandle;
  let instanceB: DatabaseHandle;
  let storage: LocalStorage;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-jobs-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));
  beforeEach(async () => {
    ({ url, drop } = await dialect.create(dataDir));
    instanceA = openDatabase(url);
    instanceB = openDatabase(url);
    await migrateToLatest(instanceA);
    storage = new LocalStorage(path.join(dataDir, `files-${Math.random().toString(36).slice(2)}`));
  });
  afterEach(async () => {
    await instanceA.close();
    await instanceB.close();
    await drop();
  });

  /** An upload as the pipeline leaves it: a claimed name, its files in storage, its row. */
  async function storedUpload(name: string, expiresAt: string | null): Promise<ImageRow> {
    const folder = '2024/05/06';
    expect(await claimFileName(instanceA.db, folder, name)).toBe(true);
    const row = imageRow({ folder, name, chain: 5, expires_at: expiresAt });
    for (const key of objectKeysOf({ ...row, chain: 5 })) {
      await mkdir(path.dirname(storage.pathOf(key)), { recursive: true });
      await writeFile(storage.pathOf(key), `bytes of ${key}`);
    }
    return (await insertImageWithTags(instanceA.db, row, ['tagged'])).image;
  }

  async function filesLeft(): Promise<string[]> {
    const found: string[] = [];
    for await (const key of storage.list('images')) found.push(key);
    return found;
  }

  it('deletes each expired upload exactly once when two instances sweep at the same time', async () => {
    const expired = [];
    for (let i = 0; i < 24; i++) expired.push(await storedUpload(`old-${i}`, '2020-01-01 00:00:00'));
    const kept = await storedUpload('kept', null);
    const [a, b] = await Promise.all([
      sweepExpiredImages(instanceA.db, storage, new Date(), 5),
      sweepExpiredImages(instanceB.db, storage, new Date(), 5),
    ]);
    expect(a + b).toBe(24);
    expect(await filesLeft()).toEqual(objectKeysOf(kept).sort());
    expect((await instanceA.db.selectFrom('images').select('name').execute()).map((r) => r.name)).toEqual(['kept']);
    expect((await instanceA.db.selectFrom('file_names').select('name').execute()).map((r) => r.name)).toEqual(['kept']);
    expect(await instanceA.db.selectFrom('image_tags').select('image_id').execute()).toEqual([{ image_id: kept.id }]);
    expect(await sweepExpiredImages(instanceB.db, storage)).toBe(0);
    expect(expired).toHaveLength(24);
  });

  it('deletes like every other deletion when the files cannot be deleted: row gone, name kept, the stale-claims job finishes', async () => {
    const image = await storedUpload('stubborn', '2020-01-01 00:00:00');
    await expect(sweepExpiredImages(instanceA.db, new FailingDeletes(storage.root))).rejects.toThrow('storage is down');
    // The row went first (the file is never served or listed again); the name stays claimed, so no new upload can take it.
    expect(await instanceA.db.selectFrom('images').select('id').execute()).toEqual([]);
    expect(await instanceA.db.selectFrom('image_tags').select('image_id').where('image_id', '=', image.id).execute()).toEqual([]);
    expect(await filesLeft()).toHaveLength(2);
    expect(await claimFileName(instanceB.db, image.folder, image.name)).toBe(false);
    expect(await sweepExpiredImages(instanceB.db, storage)).toBe(0);
    // The claim without a row is debris the stale-name-claims job removes, files first.
    const later = new Date(Date.now() + (STALE_CLAIM_SECONDS + 60) * 1000);
    expect(await releaseStaleNameClaims(instanceB.db, storage, later)).toBe(1);
    expect(await filesLeft()).toEqual([]);
    expect(await instanceA.db.selectFrom('file_names').select('name').execute()).toEqual([]);
  });

  it('deletes the files of an upload that died between claiming its name and writing its row', async () => {
    const now = new Date('2030-06-01T00:00:00Z');
    const dayAgo = formatUtc(new Date(now.getTime() - 25 * 3600 * 1000));
    // Debris: a day-old claim whose files reached storage, and no row.
    await instanceA.db.insertInto('file_names').values({ folder: '2030/05/31', name: 'orphan', claimed_at: dayAgo }).execute();
    const debris = ['images/2030/05/31/orphan.mp4', 'images/2030/05/31/orphan.fr.jpeg', 'images/2030/05/31/orphan.th.jpeg'];
    // Not debris: a fresh claim (an upload in progress) and a claim with its row.
    await instanceA.db.insertInto('file_names').values({ folder: '2030/05/31', name: 'uploading', claimed_at: formatUtc(now) }).execute();
    const live = await storedUpload('live', null);
    await instanceA.db.updateTable('file_names').set({ claimed_at: dayAgo }).execute();
    await instanceA.db.updateTable('file_names').set({ claimed_at: formatUtc(now) }).where('name', '=', 'uploading').execute();
    for (const key of [...debris, 'images/2030/05/31/orphan-other.mp4']) {
      await mkdir(path.dirname(storage.pathOf(key)), { recursive: true });
      await writeFile(storage.pathOf(key), 'x');
    }
    const [a, b] = await Promise.all([releaseStaleNameClaims(instanceA.db, storage, now), releaseStaleNameClaims(instanceB.db, storage, now)]);
    expect(a + b).toBe(1);
    const left = await filesLeft();
    for (const key of debris) expect(left).not.toContain(key);
    expect(left).toContain('images/2030/05/31/orphan-other.mp4');
    for (const key of objectKeysOf(live)) expect(left).toContain(key);
    expect((await instanceA.db.selectFrom('file_names').select('name').orderBy('name').execute()).map((r) => r.name)).toEqual(['live', 'uploading']);
  });
});

describe('temp folder cleanup', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-tmp-'));
  });
  afterEach(() => rm(dataDir, { recursive: true, force: true }));

  async function workFolder(name: string, ageMs: number, fileAgeMs = ageMs): Promise<string> {
    const folder = path.join(dataDir, 'tmp', name);
    await mkdir(folder, { recursive: true });
    const file = path.join(folder, 'upload.bin');
    await writeFile(file, 'partial upload');
    const fileTime = new Date(Date.now() - fileAgeMs);
    await utimes(file, fileTime, fileTime);
    const time = new Date(Date.now() - ageMs);
    await utimes(folder, time, time);
    return folder;
  }

  it('removes folders nobody wrote to for a while, never one an upload is still writing', async () => {
    await workFolder('api-crashed', 2 * 3600_000);
    await workFolder('ingest-crashed', 2 * 3600_000);
    // The folder is old but its spool file was written a second ago: a slow upload, alive.
    await workFolder('api-slow-upload', 2 * 3600_000, 1000);
    await workFolder('ingest-fresh', 1000);
    // Not ours to touch.
    await workFolder('tus', 2 * 3600_000);
    expect(await removeAbandonedTempFiles(dataDir, 3600_000)).toBe(2);
    expect((await readdir(path.join(dataDir, 'tmp'))).sort()).toEqual(['api-slow-upload', 'ingest-fresh', 'tus']);
  });

  it('removes each folder once when several instances share the data folder', async () => {
    for (let i = 0; i < 10; i++) await workFolder(`ingest-${i}`, 2 * 3600_000);
    const counts = await Promise.all([1, 2, 3].map(() => removeAbandonedTempFiles(dataDir, 3600_000)));
    expect(counts.reduce((x, y) => x + y, 0)).toBe(10);
    expect(await readdir(path.join(dataDir, 'tmp'))).toEqual([]);
  });
});
