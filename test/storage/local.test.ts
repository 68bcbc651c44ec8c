import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/storage/local.js';
import { runStorageContract } from './storage-contract.js';

describe('LocalStorage', () => {
  let baseDir: string;
  let roots = 0;

  beforeAll(async () => {
    baseDir = await mkdtemp(path.join(tmpdir(), 'shoebox-local-storage-'));
  });

  afterAll(async () => {
    if (baseDir) await rm(baseDir, { recursive: true, force: true });
  });

  runStorageContract({
    async create() {
      return new LocalStorage(path.join(baseDir, `root-${++roots}`));
    },
    async createBroken() {
      // A root below a regular file can never be created or written.
      const file = path.join(baseDir, `not-a-folder-${++roots}`);
      await writeFile(file, '');
      return new LocalStorage(path.join(file, 'root'));
    },
  });

  /** Open descriptors of this process that point into `dir`. */
  function openFilesUnder(dir: string): number {
    let count = 0;
    for (const fd of readdirSync('/proc/self/fd')) {
      try {
        if (readlinkSync(`/proc/self/fd/${fd}`).startsWith(dir)) count++;
      } catch {
        // closed while listing
      }
    }
    return count;
  }

  it('closes the file when a reader stops early, never starts, or reads to the end', async () => {
    const storage = new LocalStorage(path.join(baseDir, `root-${++roots}`));
    const source = path.join(baseDir, `big-${roots}.bin`);
    await writeFile(source, Buffer.alloc(3 * 1024 * 1024 + 5, 7));
    await storage.copyIn('images/2024/01/01/big.bin', source, 'application/octet-stream');

    for await (const chunk of await storage.read('images/2024/01/01/big.bin')) {
      expect(chunk.length).toBe(1024 * 1024);
      break;
    }
    const neverRead = await storage.read('images/2024/01/01/big.bin');
    await neverRead[Symbol.asyncIterator]().return?.();
    let total = 0;
    for await (const chunk of await storage.read('images/2024/01/01/big.bin', { start: 10, end: 2 * 1024 * 1024 + 9 })) total += chunk.length;
    expect(total).toBe(2 * 1024 * 1024);
    // One descriptor served all three readers, and it is closed soon after the last one is done.
    expect(openFilesUnder(storage.root)).toBeLessThanOrEqual(1);
    await expect.poll(() => openFilesUnder(storage.root), { timeout: 3000, interval: 100 }).toBe(0);
  });

  it('reads a file deleted or replaced through the storage never again through its old descriptor', async () => {
    const storage = new LocalStorage(path.join(baseDir, `root-${++roots}`));
    const first = path.join(baseDir, `first-${roots}.bin`);
    const second = path.join(baseDir, `second-${roots}.bin`);
    await writeFile(first, Buffer.alloc(1000, 1));
    await writeFile(second, Buffer.alloc(2000, 2));
    const key = 'images/2024/01/01/swap.bin';
    const readAll = async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of await storage.read(key)) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks);
    };
    await storage.copyIn(key, first, 'application/octet-stream');
    expect((await readAll()).equals(Buffer.alloc(1000, 1))).toBe(true);
    // Replaced within the second its descriptor is shared: the new bytes at once.
    await storage.copyIn(key, second, 'application/octet-stream');
    expect((await readAll()).equals(Buffer.alloc(2000, 2))).toBe(true);
    expect(openFilesUnder(storage.root)).toBeLessThanOrEqual(1);
    // Deleted: closed at once, and gone for the next reader.
    await storage.delete([key]);
    await expect.poll(() => openFilesUnder(storage.root), { timeout: 500, interval: 20 }).toBe(0);
    await expect(storage.read(key)).rejects.toThrow();
  });
});
