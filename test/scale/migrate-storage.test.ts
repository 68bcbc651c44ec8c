import { execFile } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { filesOf } from '../../src/cli/migrate-storage.js';
import { LocalStorage } from '../../src/storage/local.js';
import { S3Storage, type S3Options } from '../../src/storage/s3.js';
import { uploadFile } from '../support/api.js';
import { runShoebox } from '../support/cli.js';
import { makeAnimated, makeJpeg } from '../support/media.js';
import { s3TestSkipReason, startS3ForTests, type TestS3Server } from '../support/s3.js';
import { startTestServer } from '../support/server.js';

const skipReason = s3TestSkipReason();

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

async function makeMp4(dir: string): Promise<Buffer> {
  const file = path.join(dir, 'clip.mp4');
  await promisify(execFile)('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'testsrc=duration=1:size=160x120:rate=10', '-pix_fmt', 'yuv420p', '-y', file]);
  return readFile(file);
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe.skipIf(skipReason !== undefined)('shoebox migrate-storage (local ↔ S3)', () => {
  let s3: TestS3Server;
  let s3Options: S3Options;
  let dataDir: string;
  let env: Record<string, string>;
  /** Every stored key of the site with the md5 of its bytes, as they were on the local disk. */
  const original = new Map<string, string>();
  let uploads: any[] = [];

  beforeAll(async () => {
    const started = await startS3ForTests();
    if (!started) throw new Error('an S3 server was expected');
    s3 = started;
    s3Options = {
      bucket: `shoebox-migrate-${randomUUID().slice(0, 8)}`, prefix: 'site', region: 'us-east-1', endpoint: s3.endpoint,
      forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, multipartThreshold: 5 * 1024 * 1024,
    };
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-migrate-'));
    env = {
      SHOEBOX_DATA_DIR: dataDir,
      SHOEBOX_S3_BUCKET: s3Options.bucket,
      SHOEBOX_S3_PREFIX: s3Options.prefix,
      SHOEBOX_S3_ENDPOINT: s3.endpoint,
      SHOEBOX_S3_ACCESS_KEY_ID: s3.accessKeyId,
      SHOEBOX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      SHOEBOX_S3_MULTIPART_THRESHOLD: '5MB',
    };

    // A site on the local disk with an image (thumb + medium), an animation and a video (frame).
    const site = await startTestServer({ SHOEBOX_DATA_DIR: dataDir, SHOEBOX_DATABASE_URL: `sqlite:${dataDir}/shoebox.sqlite` });
    const { key } = await site.createUserWithKey('owner');
    for (const [bytes, name] of [
      [await makeJpeg(1200, 800), 'wide.jpg'],
      [await makeAnimated('gif', 200, 100, 3), 'moving.gif'],
      [await makeMp4(dataDir), 'clip.mp4'],
    ] as const) {
      const res = await uploadFile(site.url, bytes, name, {}, { 'X-API-Key': key });
      expect(res.status).toBe(200);
      uploads.push(res.body.image);
    }
    const local = new LocalStorage(dataDir);
    for await (const storedKey of local.list('images')) original.set(storedKey, md5(await readFile(local.pathOf(storedKey))));
    const rows = await site.ctx.db.selectFrom('images').selectAll().execute();
    expect([...original.keys()].sort()).toEqual(rows.flatMap((row) => filesOf(row).map((f) => f.key)).sort());
    expect(original.size).toBeGreaterThanOrEqual(8);
    await site.app.close();
    await site.ctx.close();
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await s3?.stop();
  });

  it('copies every file to S3, checked, and the site then serves them from the bucket alone', async () => {
    const run = await runShoebox(['migrate-storage', '--to', 's3'], env);
    expect(run.stderr).toContain('migrate-storage → s3');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`3 uploads: ${original.size} files copied`);
    expect(run.stdout).toContain('set SHOEBOX_STORAGE=s3');

    const bucket = new S3Storage(s3Options);
    try {
      for (const [key, sum] of original) expect(md5(await readAll(await bucket.read(key))), key).toBe(sum);
    } finally {
      await bucket.close();
    }

    // Move the local files away: whatever the site serves now comes from S3.
    await rename(path.join(dataDir, 'images'), path.join(dataDir, 'images-away'));
    const site = await startTestServer({ ...env, SHOEBOX_STORAGE: 's3', SHOEBOX_DATABASE_URL: `sqlite:${dataDir}/shoebox.sqlite` });
    try {
      for (const image of uploads) {
        const res = await fetch(image.url.replace(new URL(image.url).origin, site.url));
        expect(res.status).toBe(200);
        expect(md5(Buffer.from(await res.arrayBuffer()))).toBe(image.md5);
      }
    } finally {
      await site.app.close();
      await site.ctx.close();
    }
  });

  it('carries on where it stopped: a second run copies only what is missing', async () => {
    const bucket = new S3Storage(s3Options);
    const lost = [...original.keys()].find((k) => k.includes('.th.'))!;
    await bucket.delete([lost]);
    await bucket.close();
    await rename(path.join(dataDir, 'images-away'), path.join(dataDir, 'images'));
    const run = await runShoebox(['migrate-storage', '--to', 's3'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`1 files copied`);
    expect(run.stdout).toContain(`${original.size - 1} already in s3`);
  });

  it('with --verify, finds and replaces a copy whose bytes differ from the source', async () => {
    const key = [...original.keys()].find((k) => k.endsWith('.md.jpeg') || k.endsWith('.md.jpg'))!;
    const bucket = new S3Storage(s3Options);
    const bytes = await readAll(await bucket.read(key));
    bytes[bytes.length - 3] ^= 0xff;
    const tampered = path.join(dataDir, 'tampered');
    await writeFile(tampered, bytes);
    await bucket.copyIn(key, tampered, 'image/jpeg');
    expect((await runShoebox(['migrate-storage', '--to', 's3'], env)).stdout).toContain('0 files copied');
    const run = await runShoebox(['migrate-storage', '--to', 's3', '--verify'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('1 files copied');
    expect(md5(await readAll(await bucket.read(key)))).toBe(original.get(key));
    await bucket.close();
  });

  it('copies back to the local disk from S3, and says so when the source was damaged', async () => {
    await rm(path.join(dataDir, 'images'), { recursive: true, force: true });
    const run = await runShoebox(['migrate-storage', '--to', 'local'], { ...env, SHOEBOX_STORAGE: 's3' });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${original.size} files copied`);
    const local = new LocalStorage(dataDir);
    for (const [key, sum] of original) expect(md5(await readFile(local.pathOf(key))), key).toBe(sum);

    // An original whose bytes no longer match the md5 of its row: copied as is, and reported.
    const db = openDatabase(`sqlite:${dataDir}/shoebox.sqlite`);
    const image = await db.db.selectFrom('images').selectAll().where('extension', '=', 'gif').executeTakeFirstOrThrow();
    await db.close();
    const originalKey = filesOf(image)[0].key;
    const bytes = await readFile(local.pathOf(originalKey));
    bytes[bytes.length - 2] ^= 0x01;
    await writeFile(local.pathOf(originalKey), bytes);
    const bucket = new S3Storage(s3Options);
    await bucket.delete([originalKey]);
    await bucket.close();
    const damaged = await runShoebox(['migrate-storage', '--to', 's3'], env);
    expect(damaged.code).toBe(1);
    expect(damaged.stdout).toContain(`its md5 differs from the one recorded at upload: ${originalKey}`);
  });

  it('refuses to migrate to the storage the site already uses', async () => {
    const run = await runShoebox(['migrate-storage', '--to', 'local'], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('already uses local storage');
    expect((await runShoebox(['migrate-storage', '--to', 'ftp'], env)).code).toBe(1);
  });
});
