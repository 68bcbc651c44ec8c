import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { regenerateApiKey } from '../../src/db/repositories/api-keys.js';
import { createUser } from '../../src/db/repositories/users.js';
import { LocalStorage } from '../../src/storage/local.js';
import { S3Storage, ensureBucket, type S3Options } from '../../src/storage/s3.js';
import type { Storage } from '../../src/storage/storage.js';
import { objectKeysOf, parseObjectPath } from '../../src/storage/object-keys.js';
import { runShoebox } from '../support/cli.js';
import { createPostgresDatabase, postgresSkipReason, type TestPostgresDatabase } from '../support/databases.js';
import { startInstance, waitFor, type ShoeboxInstance } from '../support/instance.js';
import { makeJpeg } from '../support/media.js';
import { s3TestSkipReason, startS3ForTests, type TestS3Server } from '../support/s3.js';
import { freePort } from '../support/server.js';

/**
 * Issue 13, crash safety: a real `shoebox serve` is killed with SIGKILL while 20 uploads are in
 * flight, on local storage (SQLite) and on S3 (radosgw, PostgreSQL). After a restart, within
 * SHOEBOX_UPLOAD_CLAIM_TIMEOUT plus a sweep, no file is left without its row, no name claim
 * without its row, and everything served is complete (its bytes are the row's size and md5).
 */
const CLAIM_TIMEOUT = 3;
const UPLOADS = 20;

interface Setup {
  env: Record<string, string>;
  storage: Storage;
  db: DatabaseHandle;
  cleanup(): Promise<void>;
}

async function objectKeys(storage: Storage): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of storage.list('images')) keys.push(key);
  return keys;
}

/** Files whose (folder, name) has no row. */
async function orphanFiles(setup: Setup): Promise<string[]> {
  const rows = await setup.db.db.selectFrom('images').select(['folder', 'name']).execute();
  const named = new Set(rows.map((r) => `${r.folder}/${r.name}`));
  return (await objectKeys(setup.storage)).filter((key) => {
    const parsed = parseObjectPath(key.slice('images/'.length));
    return !parsed || !named.has(`${parsed.folder}/${parsed.name}`);
  });
}

async function claimsWithoutRow(setup: Setup): Promise<number> {
  const rows = await setup.db.db
    .selectFrom('file_names')
    .select('name')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('images').select('images.id').whereRef('images.folder', '=', 'file_names.folder').whereRef('images.name', '=', 'file_names.name'))))
    .execute();
  return rows.length;
}

async function crashRound(setup: Setup, key: string, files: Buffer[]): Promise<{ instance: ShoeboxInstance; orphansAtCrash: number }> {
  let instance = await startInstance(setup.env);
  const uploads = files.map((file, i) => {
    const form = new FormData();
    form.append('source', new Blob([new Uint8Array(file)]), `crash-${i}.jpg`);
    return fetch(`${instance.url}/api/1/upload`, { method: 'POST', body: form, headers: { 'X-API-Key': key } }).then((r) => r.status, () => 'cut');
  });
  let settled = 0;
  for (const upload of uploads) void upload.then(() => settled++);
  // Freeze the process now and then and look: the moment some upload has stored files but not yet
  // written its row is when it dies (SIGKILL while stopped), with the others anywhere in between.
  const pid = instance.process.pid!;
  let orphansAtCrash = 0;
  while (settled < uploads.length) {
    process.kill(pid, 'SIGSTOP');
    orphansAtCrash = (await orphanFiles(setup)).length;
    if (orphansAtCrash > 0) break;
    process.kill(pid, 'SIGCONT');
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 4));
  }
  expect(await instance.kill('SIGKILL')).toBe('SIGKILL');
  const outcomes = await Promise.all(uploads);
  if (orphansAtCrash > 0) expect(outcomes.some((o) => o === 'cut')).toBe(true);
  instance = await startInstance(setup.env);
  return { instance, orphansAtCrash };
}

async function checkAfterRestart(setup: Setup, instance: ShoeboxInstance): Promise<void> {
  // Within the claim timeout plus a sweep or two, the dead uploads' files and claims are gone.
  const started = Date.now();
  await waitFor('no orphan files and no claims without rows', async () => (await orphanFiles(setup)).length === 0 && (await claimsWithoutRow(setup)) === 0, (CLAIM_TIMEOUT + 10) * 1000, 250);
  expect(Date.now() - started).toBeLessThan((CLAIM_TIMEOUT + 10) * 1000);
  // Everything a row points at is there and served whole.
  const rows = await setup.db.db.selectFrom('images').selectAll().execute();
  for (const row of rows) {
    for (const key of objectKeysOf(row)) expect(await setup.storage.stat(key), key).not.toBeNull();
    const res = await fetch(`${instance.url}/images/${row.folder}/${row.name}.${row.extension}`);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.length).toBe(row.size);
    expect(createHash('md5').update(bytes).digest('hex')).toBe(row.md5);
  }
  // The doctor agrees, from the command line.
  const doctor = await runShoebox(['doctor'], setup.env);
  expect(doctor.stdout, doctor.stderr).toContain('everything is in order');
  expect(doctor.code).toBe(0);
}

async function runCrashTest(setup: Setup): Promise<void> {
  const user = await createUser(setup.db.db, { username: `crash${randomUUID().slice(0, 6)}`, password: 'password123' });
  const key = await regenerateApiKey(setup.db.db, user.id);
  const files = await Promise.all(Array.from({ length: UPLOADS }, (_, i) => makeJpeg(1600 + i * 8, 1200, `#${(0x203040 + i * 0x050301).toString(16).slice(-6)}`)));
  // Until a crash has really left files without a row (so the cleanup is put to the test).
  let sawOrphans = false;
  for (let round = 0; round < 4 && !sawOrphans; round++) {
    const { instance, orphansAtCrash } = await crashRound(setup, key, files);
    sawOrphans = orphansAtCrash > 0;
    try {
      await checkAfterRestart(setup, instance);
    } finally {
      await instance.kill('SIGTERM');
    }
  }
  expect(sawOrphans).toBe(true);
}

async function baseEnv(dataDir: string): Promise<Record<string, string>> {
  const port = await freePort();
  return {
    PORT: String(port),
    SHOEBOX_BASE_URL: `http://127.0.0.1:${port}`,
    SHOEBOX_DATA_DIR: dataDir,
    SHOEBOX_FLOOD_LIMIT: '0',
    SHOEBOX_SWEEP_INTERVAL: '1',
    SHOEBOX_TEMP_MAX_AGE: '2',
    SHOEBOX_UPLOAD_CLAIM_TIMEOUT: String(CLAIM_TIMEOUT),
    SHOEBOX_LOG_LEVEL: 'warn',
  };
}

describe('kill -9 with uploads in flight, then a restart', () => {
  it('local storage on SQLite: no orphan within the claim timeout, nothing incomplete served', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-crash-local-'));
    const env = await baseEnv(dataDir);
    // The schema first, through the CLI, so this process can watch the same SQLite file.
    expect((await runShoebox(['migrate'], env)).code).toBe(0);
    const db = openDatabase(`sqlite:${path.join(dataDir, 'shoebox.sqlite')}`);
    const setup: Setup = { env, storage: new LocalStorage(dataDir), db, cleanup: async () => undefined };
    try {
      await runCrashTest(setup);
    } finally {
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 300_000);

  const s3Skip = s3TestSkipReason();
  describe.skipIf(s3Skip !== undefined)(`on S3 (radosgw) and PostgreSQL${s3Skip ? ` (skipped: ${s3Skip})` : ''}`, () => {
    let s3: TestS3Server | null = null;
    let database: TestPostgresDatabase | null = null;
    let bucket: S3Storage | null = null;
    beforeAll(async () => {
      s3 = await startS3ForTests();
    });
    afterAll(async () => {
      if (bucket) {
        await bucket.delete(await objectKeys(bucket)).catch(() => undefined);
        await bucket.close();
      }
      await database?.drop();
      await s3?.stop();
    });

    it('S3 storage: no orphan within the claim timeout, nothing incomplete served', async () => {
      if (!s3) throw new Error('an S3 server was expected');
      const pgSkip = await postgresSkipReason();
      const dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-crash-s3-'));
      const options: S3Options = {
        bucket: `shoebox-crash-${randomUUID().slice(0, 8)}`, prefix: 'site', region: 'us-east-1', endpoint: s3.endpoint,
        forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, multipartThreshold: 5 * 1024 * 1024,
      };
      await ensureBucket(options);
      bucket = new S3Storage(options);
      database = pgSkip === undefined ? await createPostgresDatabase() : null;
      const env = {
        ...(await baseEnv(dataDir)),
        ...(database ? { SHOEBOX_DATABASE_URL: database.url } : {}),
        SHOEBOX_STORAGE: 's3',
        SHOEBOX_S3_BUCKET: options.bucket,
        SHOEBOX_S3_PREFIX: options.prefix,
        SHOEBOX_S3_ENDPOINT: s3.endpoint,
        SHOEBOX_S3_ACCESS_KEY_ID: s3.accessKeyId,
        SHOEBOX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      };
      expect((await runShoebox(['migrate'], env)).code).toBe(0);
      const db = openDatabase(database ? database.url : `sqlite:${path.join(dataDir, 'shoebox.sqlite')}`);
      try {
        await runCrashTest({ env, storage: bucket, db, cleanup: async () => undefined });
      } finally {
        await db.close();
        await rm(dataDir, { recursive: true, force: true });
      }
    }, 300_000);
  });
});
