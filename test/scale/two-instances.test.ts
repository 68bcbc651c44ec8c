import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { regenerateApiKey } from '../../src/db/repositories/api-keys.js';
import { createUser } from '../../src/db/repositories/users.js';
import { S3Storage, ensureBucket, type S3Options } from '../../src/storage/s3.js';
import { uploadFile } from '../support/api.js';
import { createPostgresDatabase, postgresSkipReason, type TestPostgresDatabase } from '../support/databases.js';
import { startInstance, waitFor, type ShoeboxInstance } from '../support/instance.js';
import { makeJpeg, makePng } from '../support/media.js';
import { sample } from '../support/prometheus.js';
import { REDIS_TEST_URL, redisSkipReason, uniqueRedisPrefix } from '../support/redis.js';
import { s3TestSkipReason, startS3ForTests, type TestS3Server } from '../support/s3.js';
import { freePort } from '../support/server.js';

/**
 * Two real `shoebox serve` processes on different ports sharing one PostgreSQL database, one
 * S3 bucket (Ceph radosgw) and one Redis: the setup of a site behind a load balancer.
 */
const skipReason = s3TestSkipReason() ?? (await postgresSkipReason()) ?? (await redisSkipReason());

/** The same path on another instance (what a load balancer does when it picks the other one). */
function on(instance: ShoeboxInstance, url: string): string {
  const parsed = new URL(url);
  return `${instance.url}${parsed.pathname}${parsed.search}`;
}

function cookiesOf(res: Response): string {
  return res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
}

describe.skipIf(skipReason !== undefined)('two Shoebox instances on PostgreSQL + S3 + Redis', () => {
  let s3: TestS3Server;
  let s3Options: S3Options;
  let bucket: S3Storage;
  let database: TestPostgresDatabase;
  let db: DatabaseHandle;
  let sharedEnv: Record<string, string>;
  const dataDirs: Record<'a' | 'b', string> = { a: '', b: '' };
  const ports: Record<'a' | 'b', number> = { a: 0, b: 0 };
  let a: ShoeboxInstance;
  let b: ShoeboxInstance;
  let adminKey: string;

  const envOf = (which: 'a' | 'b') => ({
    ...sharedEnv,
    PORT: String(ports[which]),
    SHOEBOX_BASE_URL: `http://127.0.0.1:${ports[which]}`,
    SHOEBOX_DATA_DIR: dataDirs[which],
  });

  async function userWithKey(username: string, isAdmin = false): Promise<string> {
    const user = await createUser(db.db, { username, password: 'password123', isAdmin });
    return regenerateApiKey(db.db, user.id);
  }

  async function objectKeys(): Promise<string[]> {
    const keys: string[] = [];
    for await (const key of bucket.list('images')) keys.push(key);
    return keys.sort();
  }

  beforeAll(async () => {
    const started = await startS3ForTests();
    if (!started) throw new Error('an S3 server was expected');
    s3 = started;
    s3Options = {
      bucket: `shoebox-two-${randomUUID().slice(0, 8)}`, prefix: 'site', region: 'us-east-1', endpoint: s3.endpoint,
      forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, multipartThreshold: 5 * 1024 * 1024,
    };
    await ensureBucket(s3Options);
    bucket = new S3Storage(s3Options);
    database = await createPostgresDatabase();
    sharedEnv = {
      SHOEBOX_DATABASE_URL: database.url,
      SHOEBOX_STORAGE: 's3',
      SHOEBOX_S3_BUCKET: s3Options.bucket,
      SHOEBOX_S3_PREFIX: s3Options.prefix,
      SHOEBOX_S3_ENDPOINT: s3.endpoint,
      SHOEBOX_S3_ACCESS_KEY_ID: s3.accessKeyId,
      SHOEBOX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      SHOEBOX_REDIS_URL: REDIS_TEST_URL,
      SHOEBOX_REDIS_PREFIX: uniqueRedisPrefix(),
      SHOEBOX_FLOOD_LIMIT: '3',
      SHOEBOX_SWEEP_INTERVAL: '1',
      SHOEBOX_TEMP_MAX_AGE: '2',
      SHOEBOX_LOG_LEVEL: 'info',
    };
    for (const which of ['a', 'b'] as const) {
      dataDirs[which] = await mkdtemp(path.join(tmpdir(), `shoebox-instance-${which}-`));
      ports[which] = await freePort();
    }
    // Both start at once: they race to apply the migrations, as a rolling deploy would.
    [a, b] = await Promise.all([startInstance(envOf('a')), startInstance(envOf('b'))]);
    db = openDatabase(database.url);
    adminKey = await userWithKey('admin', true);
  });

  afterAll(async () => {
    await Promise.all([a?.kill('SIGTERM'), b?.kill('SIGTERM')]);
    await db?.close();
    await database?.drop();
    if (bucket) {
      await bucket.delete(await objectKeys()).catch(() => undefined);
      await bucket.close();
    }
    await s3?.stop();
    for (const dir of Object.values(dataDirs)) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('uploads through one instance, and reads and deletes through the other', async () => {
    const jpeg = await makeJpeg(800, 600);
    const { status, body } = await uploadFile(a.url, jpeg, 'shared.jpg', { title: 'Seen from both' }, { 'X-API-Key': adminKey });
    expect(status).toBe(200);
    const keys = await objectKeys();
    expect(keys.filter((k) => k.includes(`/${body.image.name}.`))).toHaveLength(3);

    const file = await fetch(on(b, body.image.url));
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(jpeg)).toBe(true);
    const part = await fetch(on(b, body.image.url), { headers: { Range: 'bytes=100-199' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(jpeg.subarray(100, 200))).toBe(true);
    expect(await (await fetch(on(b, body.image.url_viewer))).text()).toContain('Seen from both');

    const deleted = await fetch(on(b, body.image.delete_url), { redirect: 'manual' });
    expect(deleted.status).toBe(301);
    expect((await fetch(on(a, body.image.url))).status).toBe(404);
    expect((await objectKeys()).filter((k) => k.includes(`/${body.image.name}.`))).toEqual([]);
  });

  it('counts one flood limit across both instances', async () => {
    // A fixed one-minute window: a sequence that straddles a minute boundary proves nothing, so it is redone.
    for (let attempt = 0; attempt < 3; attempt++) {
      const key = await userWithKey(`flooder${attempt}`);
      const windowAtStart = Math.floor(Date.now() / 60_000);
      const answers = [];
      for (const instance of [a, b, a, b]) answers.push(await uploadFile(instance.url, await makePng(), 'f.png', {}, { 'X-API-Key': key }));
      if (Math.floor(Date.now() / 60_000) !== windowAtStart) continue;
      expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 429]);
      expect(answers[3].body.error.code).toBe(130);
      return;
    }
    throw new Error('a minute boundary fell inside every attempt');
  });

  it('deletes each expired file exactly once, with both instances sweeping every second', async () => {
    const before = await objectKeys();
    const names: string[] = [];
    for (const instance of [a, b, a, b, a]) {
      const { body } = await uploadFile(instance.url, await makePng(20, 20), 'brief.png', { expiration: '1' }, { 'X-API-Key': adminKey });
      names.push(body.image.name);
    }
    // Deletion goes row, files, then the name (ingest/remove-image.ts): the files are gone once the names are free.
    await waitFor('the expired uploads to be swept', async () => {
      const rows = await db.db.selectFrom('images').select('id').where('name', 'in', names).execute();
      const claims = await db.db.selectFrom('file_names').select('name').where('name', 'in', names).execute();
      return rows.length === 0 && claims.length === 0;
    });
    expect(await objectKeys()).toEqual(before);
    const sweptItems = async () => {
      const swept = await Promise.all([a, b].map(async (instance) => sample(await (await fetch(`${instance.url}/metrics`)).text(), 'shoebox_job_items_total', { job: 'expiry-sweep' })));
      return swept[0] + swept[1];
    };
    await waitFor('both instances to count the sweep', async () => (await sweptItems()) >= 5);
    expect(await sweptItems()).toBe(5);
    // Every sweep run was claimed by one instance: the job table names the last holder.
    const run = await db.db.selectFrom('job_runs').selectAll().where('name', '=', 'expiry-sweep').executeTakeFirstOrThrow();
    expect(run.holder).toMatch(/:\d+:[0-9a-f]{6}$/);
  });

  it('signs in on one instance and is signed in on the other; signing out on it signs out everywhere', async () => {
    await createUser(db.db, { username: 'walker', password: 'password123' });
    const page = await fetch(`${a.url}/login`);
    const csrfCookie = cookiesOf(page);
    const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
    const login = await fetch(`${a.url}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: csrfCookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, login: 'walker', password: 'password123', next: '' }),
    });
    expect(login.status).toBe(303);
    const session = cookiesOf(login);
    expect(session).toContain('shoebox_session=');
    const cookie = `${csrfCookie}; ${session}`;

    const onB = await fetch(`${b.url}/login`, { headers: { cookie }, redirect: 'manual' });
    expect(onB.status).toBe(303);
    expect(onB.headers.get('location')).toMatch(/\/walker$/);
    expect((await fetch(`${b.url}/login`, { redirect: 'manual' })).status).toBe(200);

    const profile = await fetch(`${b.url}/walker`, { headers: { cookie } });
    const logoutToken = /action="[^"]*\/logout"[\s\S]*?name="_csrf" value="([^"]+)"/.exec(await profile.text())?.[1];
    expect(logoutToken).toBeTruthy();
    const logout = await fetch(`${b.url}/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: logoutToken! }),
    });
    expect(logout.status).toBe(303);
    expect((await fetch(`${a.url}/login`, { headers: { cookie }, redirect: 'manual' })).status).toBe(200);
  });

  it('keeps serving from the other instance when one is killed mid-upload, and leaves nothing behind', async () => {
    const kept = await uploadFile(b.url, await makePng(64, 64), 'kept.png', {}, { 'X-API-Key': adminKey });
    const rowsBefore = await db.db.selectFrom('images').select('id').execute();
    const claimsBefore = await db.db.selectFrom('file_names').selectAll().execute();
    const objectsBefore = await objectKeys();

    // A big upload streams into instance A...
    const boundary = `----shoebox${randomBytes(8).toString('hex')}`;
    const upload = request({
      host: '127.0.0.1',
      port: a.port,
      path: '/api/1/upload',
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'x-api-key': adminKey },
    });
    const answered = new Promise<string>((resolve) => {
      upload.once('error', (error) => resolve(`error: ${error.message}`));
      upload.once('response', (res) => resolve(`status ${res.statusCode}`));
    });
    upload.write(`--${boundary}\r\nContent-Disposition: form-data; name="source"; filename="huge.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
    const chunk = randomBytes(256 * 1024);
    for (let i = 0; i < 24; i++) {
      if (!upload.write(chunk)) await new Promise((resolve) => upload.once('drain', resolve));
    }
    // ...until A has spooled a good part of it to its temp folder.
    const tmp = path.join(dataDirs.a, 'tmp');
    const spoolFolder = await waitFor('A to spool the upload', async () => {
      for (const entry of await readdir(tmp)) {
        if (!entry.startsWith('api-')) continue;
        const files = await readdir(path.join(tmp, entry));
        const sizes = await Promise.all(files.map(async (f) => (await stat(path.join(tmp, entry, f))).size));
        if (sizes.some((size) => size >= 1024 * 1024)) return entry;
      }
      return null;
    });

    expect(await a.kill('SIGKILL')).toBe('SIGKILL');
    expect(await answered).toMatch(/^error: /);

    // B serves on: old files, new uploads, health.
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
    expect((await fetch(on(b, kept.body.image.url))).status).toBe(200);
    const during = await uploadFile(b.url, await makePng(32, 32), 'during.png', {}, { 'X-API-Key': adminKey });
    expect(during.status).toBe(200);

    // The dead upload left no row, no name claim and no object: only B's upload is new.
    const rowsAfter = await db.db.selectFrom('images').select(['id', 'name']).execute();
    const newRows = rowsAfter.filter((row) => !rowsBefore.some((old) => old.id === row.id));
    expect(newRows.map((row) => row.name)).toEqual([during.body.image.name]);
    expect(await db.db.selectFrom('file_names').selectAll().execute()).toHaveLength(claimsBefore.length + 1);
    expect((await objectKeys()).filter((k) => !objectsBefore.includes(k)).every((k) => k.includes(`/${during.body.image.name}.`))).toBe(true);

    // Its half-written temp folder is still on A's disk, until A comes back and sweeps it.
    expect(await readdir(tmp)).toContain(spoolFolder);
    a = await startInstance(envOf('a'));
    await waitFor('the restarted A to remove the dead upload\'s temp folder', async () => !(await readdir(tmp)).includes(spoolFolder));
    expect((await readdir(tmp)).filter((e) => /^(api|ingest)-/.test(e))).toEqual([]);
    expect((await fetch(on(a, during.body.image.url))).status).toBe(200);
  });
});
