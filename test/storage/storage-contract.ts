import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Storage } from '../../src/storage/storage.js';

/**
 * What every storage driver promises, run against each real driver (local folder, S3 server),
 * so the rest of Shoebox can treat them as one.
 */
export interface StorageContractTarget {
  /** A fresh, empty storage that sees no other test's keys. */
  create(): Promise<Storage>;
  /** A storage of the same driver that cannot work, so `checkHealth` must throw. */
  createBroken(): Promise<Storage>;
}

/** Bigger than the multipart threshold the S3 suite sets (5 MiB), spanning several parts. */
export const LARGE_FILE_BYTES = 12 * 1024 * 1024;
const SMALL_FILE_BYTES = 100 * 1024;

export async function sha256Of(stream: AsyncIterable<Buffer>): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function bytesOf(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const keys: string[] = [];
  for await (const key of iterable) keys.push(key);
  return keys.sort();
}

/** Registers the contract's tests in the caller's `describe`. */
export function runStorageContract(target: StorageContractTarget): void {
  let workDir: string;
  let small: Buffer;
  let large: Buffer;
  const opened: Storage[] = [];
  let fileCount = 0;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(tmpdir(), 'shoebox-storage-contract-'));
    small = randomBytes(SMALL_FILE_BYTES);
    large = randomBytes(LARGE_FILE_BYTES);
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((storage) => storage.close()));
  });

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function freshStorage(): Promise<Storage> {
    const storage = await target.create();
    opened.push(storage);
    return storage;
  }

  /** A new local file with these bytes, as the ingest pipeline's spool would leave it. */
  async function localFile(bytes: Buffer): Promise<string> {
    const file = path.join(workDir, `upload-${++fileCount}.bin`);
    await writeFile(file, bytes);
    return file;
  }

  it('copyIn stores a small file byte for byte and leaves the local file', async () => {
    const storage = await freshStorage();
    const file = await localFile(small);
    await storage.copyIn('images/2024/10/10/small.jpeg', file, 'image/jpeg');
    expect(existsSync(file)).toBe(true);
    expect(await sha256Of(await storage.read('images/2024/10/10/small.jpeg'))).toBe(sha256(small));
    const info = await storage.stat('images/2024/10/10/small.jpeg');
    expect(info?.size).toBe(SMALL_FILE_BYTES);
    expect(info?.lastModified).toBeInstanceOf(Date);
  });

  it('moveIn stores a large file byte for byte and removes the local file', async () => {
    const storage = await freshStorage();
    const file = await localFile(large);
    await storage.moveIn('images/2024/10/10/large.mp4', file, 'video/mp4');
    expect(existsSync(file)).toBe(false);
    expect(await sha256Of(await storage.read('images/2024/10/10/large.mp4'))).toBe(sha256(large));
    expect((await storage.stat('images/2024/10/10/large.mp4'))?.size).toBe(LARGE_FILE_BYTES);
  });

  it('moveIn of a missing local file fails and stores nothing', async () => {
    const storage = await freshStorage();
    await expect(storage.moveIn('images/2024/10/10/none.png', path.join(workDir, 'does-not-exist.png'), 'image/png')).rejects.toThrow();
    expect(await storage.stat('images/2024/10/10/none.png')).toBeNull();
  });

  it('overwrites a key that exists', async () => {
    const storage = await freshStorage();
    await storage.copyIn('images/2024/10/10/same.png', await localFile(large), 'image/png');
    await storage.copyIn('images/2024/10/10/same.png', await localFile(small), 'image/png');
    expect(await sha256Of(await storage.read('images/2024/10/10/same.png'))).toBe(sha256(small));
  });

  it('ranged reads return exactly the requested bytes (end inclusive)', async () => {
    const storage = await freshStorage();
    await storage.copyIn('images/2024/10/10/ranged.bin', await localFile(large), 'application/octet-stream');
    const fiveMiB = 5 * 1024 * 1024;
    const ranges = [
      { start: 0, end: 0 },
      { start: 0, end: 1023 },
      { start: 4096, end: 8191 },
      // Across the boundary of the first and second multipart part on S3.
      { start: fiveMiB - 10, end: fiveMiB + 10 },
      { start: LARGE_FILE_BYTES - 1, end: LARGE_FILE_BYTES - 1 },
      { start: LARGE_FILE_BYTES - 3000, end: LARGE_FILE_BYTES - 1 },
    ];
    for (const range of ranges) {
      const bytes = await bytesOf(await storage.read('images/2024/10/10/ranged.bin', range));
      expect(bytes.length, `bytes=${range.start}-${range.end}`).toBe(range.end - range.start + 1);
      expect(bytes.equals(large.subarray(range.start, range.end + 1)), `bytes=${range.start}-${range.end}`).toBe(true);
    }
  });

  it('stat is null and read rejects for a key that does not exist', async () => {
    const storage = await freshStorage();
    expect(await storage.stat('images/2024/10/10/missing.jpeg')).toBeNull();
    await expect(storage.read('images/2024/10/10/missing.jpeg')).rejects.toThrow();
  });

  it('lists every key under a folder prefix, and nothing beside it', async () => {
    const storage = await freshStorage();
    const keys = [
      'images/2024/01/01/a.jpeg',
      'images/2024/01/01/a.th.jpeg',
      'images/2024/02/03/b.png',
      'images/2025/01/01/c.gif',
      // Shares the text prefix "images/2024" but is another folder.
      'images/2024x/01/01/d.webp',
    ];
    for (const key of keys) await storage.copyIn(key, await localFile(small), 'image/jpeg');
    const in2024 = ['images/2024/01/01/a.jpeg', 'images/2024/01/01/a.th.jpeg', 'images/2024/02/03/b.png'];
    expect(await collect(storage.list('images/2024'))).toEqual(in2024);
    expect(await collect(storage.list('images/2024/'))).toEqual(in2024);
    expect(await collect(storage.list('images'))).toEqual([...keys].sort());
    expect(await collect(storage.list('images/1999'))).toEqual([]);
  });

  it('deletes keys, and keys that do not exist are not an error', async () => {
    const storage = await freshStorage();
    await storage.copyIn('images/2024/10/10/gone.jpeg', await localFile(small), 'image/jpeg');
    await storage.copyIn('images/2024/10/10/gone.th.jpeg', await localFile(small), 'image/jpeg');
    await storage.copyIn('images/2024/10/10/kept.jpeg', await localFile(small), 'image/jpeg');
    await storage.delete(['images/2024/10/10/gone.jpeg', 'images/2024/10/10/gone.th.jpeg', 'images/2024/10/10/never-there.jpeg']);
    expect(await storage.stat('images/2024/10/10/gone.jpeg')).toBeNull();
    expect(await storage.stat('images/2024/10/10/gone.th.jpeg')).toBeNull();
    expect(await storage.stat('images/2024/10/10/kept.jpeg')).not.toBeNull();
    expect(await collect(storage.list('images'))).toEqual(['images/2024/10/10/kept.jpeg']);
    await storage.delete([]);
  });

  it('refuses keys that would step outside the storage', async () => {
    const storage = await freshStorage();
    const file = await localFile(small);
    await expect(storage.copyIn('../escaped.jpeg', file, 'image/jpeg')).rejects.toThrow(/invalid storage key/);
    await expect(storage.copyIn('images/../../escaped.jpeg', file, 'image/jpeg')).rejects.toThrow(/invalid storage key/);
  });

  it('checkHealth passes when the storage works and throws when it cannot', async () => {
    const storage = await freshStorage();
    await expect(storage.checkHealth()).resolves.toBeUndefined();
    const broken = await target.createBroken();
    opened.push(broken);
    await expect(broken.checkHealth()).rejects.toThrow();
  });
}
