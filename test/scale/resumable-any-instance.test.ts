import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../../src/db/database.js';
import { regenerateApiKey } from '../../src/db/repositories/api-keys.js';
import { createUser } from '../../src/db/repositories/users.js';
import { ensureBucket, s3ClientConfig, type S3Options } from '../../src/storage/s3.js';
import { createPostgresDatabase, postgresSkipReason, type TestPostgresDatabase } from '../support/databases.js';
import { startInstance, waitFor, type ShoeboxInstance } from '../support/instance.js';
import { makePng, writeBigPng } from '../support/media.js';
import { s3TestSkipReason, startS3ForTests, type TestS3Server } from '../support/s3.js';
import { freePort } from '../support/server.js';
import { tusUpload } from '../support/tus.js';

/**
 * Resumable uploads behind a load balancer with no sticky sessions: two real `shoebox serve`
 * processes on one PostgreSQL database and one S3 bucket (Ceph radosgw), and a round-robin
 * proxy in front that sends each request to the next instance. tus-js-client, the reference
 * client, uploads through the proxy; one instance is killed and restarted in the middle.
 */
const skipReason = s3TestSkipReason() ?? (await postgresSkipReason());
const BIG_BYTES = 300 * 1024 * 1024;
const CHUNK_BYTES = 16 * 1024 * 1024;
const PREFIX = 'site';

type Which = 'a' | 'b';

/** A load balancer that sends each request to the next backend in turn, and counts what each answered. */
function roundRobin(ports: Record<Which, number>) {
  let turn = 0;
  const answered: Record<Which, { method: string; status: number }[]> = { a: [], b: [] };
  const server: Server = createServer((req, res) => {
    const which: Which = turn++ % 2 === 0 ? 'a' : 'b';
    const upstream = request(
      { host: '127.0.0.1', port: ports[which], method: req.method, path: req.url, headers: req.headers },
      (reply) => {
        answered[which].push({ method: req.method ?? '', status: reply.statusCode ?? 0 });
        res.writeHead(reply.statusCode ?? 502, reply.headers);
        reply.pipe(res);
        reply.once('error', () => res.destroy());
      },
    );
    upstream.once('error', () => {
      // The backend is down or died mid-request: a load balancer answers 502 (or drops the connection).
      if (!res.headersSent) res.writeHead(502, { 'Tus-Resumable': '1.0.0' }).end();
      else res.destroy();
      req.resume();
    });
    req.pipe(upstream);
  });
  return { server, answered };
}

describe.skipIf(skipReason !== undefined)('resumable uploads on any instance (PostgreSQL + S3)', () => {
  let s3: TestS3Server;
  let s3Options: S3Options;
  let client: S3Client;
  let database: TestPostgresDatabase;
  let db: DatabaseHandle;
  let sharedEnv: Record<string, string>;
  const dataDirs: Record<Which, string> = { a: '', b: '' };
  const ports: Record<Which, number> = { a: 0, b: 0 };
  const instances: Partial<Record<Which, ShoeboxInstance>> = {};
  let work: string;
  let key: string;
  let balancer: ReturnType<typeof roundRobin>;
  let endpoint: string;

  const envOf = (which: Which) => ({
    ...sharedEnv,
    PORT: String(ports[which]),
    SHOEBOX_BASE_URL: `http://127.0.0.1:${ports[which]}`,
    SHOEBOX_DATA_DIR: dataDirs[which],
  });

  async function resumableObjects(): Promise<string[]> {
    const listed = await client.send(new ListObjectsV2Command({ Bucket: s3Options.bucket, Prefix: `${PREFIX}/resumable/` }));
    return (listed.Contents ?? []).map((o) => o.Key!);
  }

  async function openMultipartUploads(): Promise<string[]> {
    const listed = await client.send(new ListMultipartUploadsCommand({ Bucket: s3Options.bucket, Prefix: `${PREFIX}/resumable/` }));
    return (listed.Uploads ?? []).map((u) => u.Key!);
  }

  beforeAll(async () => {
    const started = await startS3ForTests();
    if (!started) throw new Error('an S3 server was expected');
    s3 = started;
    s3Options = {
      bucket: `shoebox-tus-${randomUUID().slice(0, 8)}`, prefix: PREFIX, region: 'us-east-1', endpoint: s3.endpoint,
      forcePathStyle: true, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, multipartThreshold: 5 * 1024 * 1024,
    };
    await ensureBucket(s3Options);
    client = new S3Client(s3ClientConfig(s3Options));
    database = await createPostgresDatabase();
    sharedEnv = {
      SHOEBOX_DATABASE_URL: database.url,
      SHOEBOX_STORAGE: 's3',
      SHOEBOX_S3_BUCKET: s3Options.bucket,
      SHOEBOX_S3_PREFIX: PREFIX,
      SHOEBOX_S3_ENDPOINT: s3.endpoint,
      SHOEBOX_S3_ACCESS_KEY_ID: s3.accessKeyId,
      SHOEBOX_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
      SHOEBOX_MAX_UPLOAD_SIZE: '400MB',
      SHOEBOX_RESUMABLE_EXPIRY: '60',
      SHOEBOX_SWEEP_INTERVAL: '1',
      SHOEBOX_LOG_LEVEL: 'warn',
    };
    for (const which of ['a', 'b'] as const) {
      dataDirs[which] = await mkdtemp(path.join(tmpdir(), `shoebox-tus-${which}-`));
      ports[which] = await freePort();
    }
    [instances.a, instances.b] = await Promise.all([startInstance(envOf('a')), startInstance(envOf('b'))]);
    db = openDatabase(database.url);
    const user = await createUser(db.db, { username: 'mover', password: 'password123', isAdmin: false });
    key = await regenerateApiKey(db.db, user.id);
    balancer = roundRobin(ports);
    await new Promise<void>((resolve) => balancer.server.listen(0, '127.0.0.1', resolve));
    const address = balancer.server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/upload/tus`;
    work = await mkdtemp(path.join(tmpdir(), 'shoebox-tus-work-'));
  }, 180_000);

  afterAll(async () => {
    balancer?.server.close();
    await Promise.all([instances.a?.kill('SIGTERM'), instances.b?.kill('SIGTERM')]);
    client?.destroy();
    await db?.close();
    await database?.drop();
    await s3?.stop();
    for (const dir of [...Object.values(dataDirs), work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('takes a 300 MB upload whose chunks alternate between two instances, one killed and restarted midway, and stores it byte for byte', async () => {
    const file = path.join(work, 'big.png');
    const sourceMd5 = await writeBigPng(BIG_BYTES, file);
    const size = (await stat(file)).size;

    let killed = false;
    let restarted: Promise<void> | undefined;
    let patchesBeforeRestart = 0;
    const outcome = await tusUpload(createReadStream(file), {
      endpoint,
      chunkSize: CHUNK_BYTES,
      headers: { 'X-API-Key': key },
      metadata: { filename: 'big.png', title: 'Moved between instances' },
      // Enough retries to ride out the instance that is down (every other request goes to it).
      retryDelays: Array.from({ length: 40 }, () => 500),
      onProgress: (sent) => {
        if (!killed && sent > size / 3) {
          // Kill B while a chunk is on its way (to it or to A), then bring it back on the same port.
          killed = true;
          restarted = (async () => {
            await instances.b!.kill('SIGKILL');
            patchesBeforeRestart = balancer.answered.b.filter((r) => r.method === 'PATCH' && r.status === 204).length;
            await new Promise((resolve) => setTimeout(resolve, 3000));
            instances.b = await startInstance(envOf('b'));
          })();
        }
      },
    });
    await restarted;

    expect(outcome.error?.message).toBeUndefined();
    expect(outcome.status).toBe(200);
    expect(outcome.body.image.md5).toBe(sourceMd5);
    expect(outcome.body.image.size).toBe(size);
    expect(outcome.body.image.title).toBe('Moved between instances');

    // Both instances took chunks, B before it was killed and again after its restart.
    const accepted = (which: Which) => balancer.answered[which].filter((r) => r.method === 'PATCH' && [200, 204].includes(r.status)).length;
    expect(patchesBeforeRestart).toBeGreaterThan(0);
    expect(accepted('a')).toBeGreaterThan(0);
    expect(accepted('b')).toBeGreaterThan(patchesBeforeRestart);

    // The stored file is the same bytes, served by either instance.
    for (const which of ['a', 'b'] as const) {
      const res = await fetch(`http://127.0.0.1:${ports[which]}${new URL(outcome.body.image.url).pathname}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('etag')).toContain(sourceMd5);
      expect(Number(res.headers.get('content-length'))).toBe(size);
      await res.body?.cancel();
    }
    // The answer is kept for a client that lost it, on any instance; the parts are gone from the bucket.
    const id = outcome.url!.split('/').pop()!;
    for (const which of ['a', 'b'] as const) {
      const res = await fetch(`http://127.0.0.1:${ports[which]}/upload/tus/${id}/result`, { headers: { 'X-API-Key': key } });
      expect(res.status).toBe(200);
      expect((await res.json()).image.md5).toBe(sourceMd5);
    }
    expect(await resumableObjects()).toEqual([]);
    expect(await openMultipartUploads()).toEqual([]);
    expect(await db.db.selectFrom('resumable_uploads').selectAll().execute()).toEqual([]);
  }, 600_000);

  it('expires unfinished uploads in the bucket: the parts, the multipart upload and the record go', async () => {
    const png = await makePng(64, 48);
    // 9 MB of a 20 MB upload: one full 8 MiB part in S3's multipart upload and a partial chunk beside it.
    const bytes = Buffer.concat([png, Buffer.alloc(9 * 1024 * 1024 - png.length, 7)]);
    const created = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Length': String(20 * 1024 * 1024), 'X-API-Key': key, 'Upload-Metadata': `filename ${Buffer.from('left.png').toString('base64')}` },
    });
    expect(created.status).toBe(201);
    const uploadPath = new URL(created.headers.get('location')!, endpoint).pathname;
    const patched = await fetch(`http://127.0.0.1:${ports.a}${uploadPath}`, {
      method: 'PATCH',
      headers: { 'Tus-Resumable': '1.0.0', 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream', 'X-API-Key': key },
      body: bytes,
    });
    expect(patched.status).toBe(204);
    // The other instance knows where it stands.
    const head = await fetch(`http://127.0.0.1:${ports.b}${uploadPath}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', 'X-API-Key': key } });
    expect(head.headers.get('upload-offset')).toBe(String(bytes.length));
    expect((await resumableObjects()).length).toBeGreaterThan(0);
    expect((await openMultipartUploads()).length).toBe(1);

    // Age it past SHOEBOX_RESUMABLE_EXPIRY; the instances' background sweep (every second) removes it.
    await db.db.updateTable('resumable_uploads').set({ created_at: new Date(Date.now() - 120_000).toISOString() }).execute();
    await waitFor('the sweep to remove the expired upload', async () => (await db.db.selectFrom('resumable_uploads').selectAll().execute()).length === 0, 30_000);
    expect(await resumableObjects()).toEqual([]);
    expect(await openMultipartUploads()).toEqual([]);
    const after = await fetch(`http://127.0.0.1:${ports.b}${uploadPath}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0', 'X-API-Key': key } });
    expect([404, 410]).toContain(after.status);
  }, 120_000);
});
