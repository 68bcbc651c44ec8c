import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MAX_HASHING_THREADS, Md5Hasher, uploadsPerHashingThread } from '../../src/ingest/md5-hasher.js';
import { uploadFile } from '../support/api.js';
import { writeBigPng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

// As on a 4-core machine: up to three hashing threads, whatever this machine has.
vi.mock('node:os', async (importOriginal) => ({ ...(await importOriginal<typeof import('node:os')>()), availableParallelism: () => 4 }));

const MiB = 1024 * 1024;
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');
const busyThreads = () => uploadsPerHashingThread().filter((n) => n > 0).length;

/** Feeds `bytes` in odd chunks, yielding between them so uploads at once interleave; records how many threads were busy. */
async function hashInChunks(bytes: Buffer, seen: { threads: number }, stopAt = bytes.length, hasher = new Md5Hasher()): Promise<Md5Hasher> {
  const sizes = [65_536, 7, 300_001, 131_072];
  for (let offset = 0, i = 0; offset < stopAt; i++) {
    const size = Math.min(sizes[i % sizes.length], stopAt - offset);
    const behind = hasher.update(bytes.subarray(offset, offset + size));
    if (behind) await behind;
    offset += size;
    seen.threads = Math.max(seen.threads, busyThreads());
    await new Promise((resolve) => setImmediate(resolve));
  }
  return hasher;
}

describe('md5 on several hashing threads (many big uploads at once)', () => {
  it('spreads big uploads over the threads, one thread per upload, and every md5 is right', async () => {
    expect(MAX_HASHING_THREADS).toBe(3);
    const files = [MiB + 1, 3 * MiB - 7, 5 * MiB + 12_345, 2 * MiB, 7 * MiB + 3, 4 * MiB + 999].map((size) => randomBytes(size));
    const seen = { threads: 0 };
    const hexes = await Promise.all(files.map(async (file) => (await hashInChunks(file, seen)).digest()));
    expect(hexes).toEqual(files.map(md5));
    expect(seen.threads).toBe(3);
    expect(uploadsPerHashingThread().every((n) => n === 0)).toBe(true);
  });

  it('an upload abandoned part-way frees its thread; the uploads beside it and after it are right', async () => {
    const files = [6 * MiB + 1, 5 * MiB + 77, 4 * MiB + 3].map((size) => randomBytes(size));
    const seen = { threads: 0 };
    const [first, abandoned, third] = await Promise.all([
      hashInChunks(files[0], seen),
      hashInChunks(files[1], seen, 3 * MiB + 5),
      hashInChunks(files[2], seen),
    ]);
    abandoned.abort();
    expect([await first.digest(), await third.digest()]).toEqual([md5(files[0]), md5(files[2])]);
    expect(uploadsPerHashingThread().every((n) => n === 0)).toBe(true);
    const after = await Promise.all(files.map(async (file) => (await hashInChunks(file, seen)).digest()));
    expect(after).toEqual(files.map(md5));
  });
});

describe('big uploads through the API with several hashing threads', () => {
  let server: TestServer;
  let key: string;
  let scratch: string;
  beforeAll(async () => {
    server = await startTestServer();
    key = (await server.createUserWithKey('hasher')).key;
    scratch = await mkdtemp(path.join(tmpdir(), 'shoebox-md5-threads-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const bigPng = async (bytes: number) => {
    const file = path.join(scratch, `${bytes}.png`);
    const hex = await writeBigPng(bytes, file);
    return { bytes: await readFile(file), hex };
  };

  it('a client that hangs up mid-body leaves no file and no upload on a hashing thread; the next uploads answer the right md5', async () => {
    const cut = await bigPng(6 * MiB + 13);
    const boundary = 'shoeboxcutoff';
    const req = request(`${server.url}/api/1/upload`, {
      method: 'POST',
      headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'X-API-Key': key, 'Content-Length': String(cut.bytes.length + 200) },
    });
    req.on('error', () => undefined);
    req.write(`--${boundary}\r\nContent-Disposition: form-data; name="source"; filename="cut.png"\r\nContent-Type: image/png\r\n\r\n`);
    req.write(cut.bytes.subarray(0, 4 * MiB));
    // Past the first MiB the upload is being hashed on a thread; then the client goes away.
    await vi.waitFor(() => expect(busyThreads()).toBe(1), { timeout: 10_000, interval: 20 });
    req.destroy();
    await vi.waitFor(
      async () => {
        expect(uploadsPerHashingThread().every((n) => n === 0)).toBe(true);
        // No spooled bytes and no upload work folder are left (tmp/tus is the resumable store's own).
        const left = await readdir(path.join(server.dataDir, 'tmp'), { recursive: true, withFileTypes: true });
        expect(left.filter((e) => e.isFile() || e.name !== 'tus').map((e) => e.name)).toEqual([]);
      },
      { timeout: 10_000, interval: 50 },
    );

    const pngs = await Promise.all([2 * MiB + 1, 3 * MiB + 333, 5 * MiB - 1].map(bigPng));
    const answers = await Promise.all(pngs.map((png, i) => uploadFile(server.url, png.bytes, `big-${i}.png`, {}, { 'X-API-Key': key })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.map((a) => a.body.image.md5)).toEqual(pngs.map((p) => p.hex));
    expect(answers.map((a) => a.body.image.size)).toEqual(pngs.map((p) => p.bytes.length));
    expect(uploadsPerHashingThread().every((n) => n === 0)).toBe(true);
  }, 60_000);
});
