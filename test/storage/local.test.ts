import { readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOT_FILE_MAX_BYTES, LocalStorage, OPEN_FILE_REUSE_MS } from '../../src/storage/local.js';
import { InMemory } from '../../src/storage/storage.js';
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

  it('keeps a file asked for again within the second in memory, for exactly as long as its descriptor', async () => {
    const storage = new LocalStorage(path.join(baseDir, `root-${++roots}`));
    const key = 'images/2024/01/01/hot.bin';
    const bytesOf = (n: number, fill: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + fill) % 251));
    const first = path.join(baseDir, `hot-a-${roots}.bin`);
    await writeFile(first, bytesOf(300_000, 1));
    await storage.copyIn(key, first, 'application/octet-stream');
    const readAll = async (range?: { start: number; end: number }) => {
      const chunks = await storage.read(key, range);
      const parts: Buffer[] = [];
      for await (const chunk of chunks) parts.push(Buffer.from(chunk));
      return { inMemory: chunks instanceof InMemory, bytes: Buffer.concat(parts) };
    };
    // Read once: from the file. Asked for again: from memory, the same bytes, ranges included.
    expect((await readAll()).inMemory).toBe(false);
    const again = await readAll();
    expect(again.inMemory).toBe(true);
    expect(again.bytes.equals(bytesOf(300_000, 1))).toBe(true);
    const part = await readAll({ start: 1000, end: 1999 });
    expect(part.inMemory).toBe(true);
    expect(part.bytes.equals(bytesOf(300_000, 1).subarray(1000, 2000))).toBe(true);

    // Replaced by another process (not through this storage): the new bytes once the second is over.
    const second = path.join(baseDir, `hot-b-${roots}.bin`);
    await writeFile(second, bytesOf(200_000, 2));
    await rename(second, storage.pathOf(key));
    await new Promise((resolve) => setTimeout(resolve, OPEN_FILE_REUSE_MS + 100));
    expect((await readAll()).bytes.equals(bytesOf(200_000, 2))).toBe(true);
    expect((await readAll()).inMemory).toBe(true);

    // Deleted through the storage: gone at once, memory included.
    await storage.delete([key]);
    await expect(storage.read(key)).rejects.toThrow();
  });

  it('reads files bigger than HOT_FILE_MAX_BYTES in chunks however often they are asked for', async () => {
    const storage = new LocalStorage(path.join(baseDir, `root-${++roots}`));
    const key = 'images/2024/01/01/large.bin';
    const source = path.join(baseDir, `large-${roots}.bin`);
    await writeFile(source, Buffer.alloc(HOT_FILE_MAX_BYTES + 1, 3));
    await storage.copyIn(key, source, 'application/octet-stream');
    for (let i = 0; i < 3; i++) {
      const chunks = await storage.read(key);
      expect(chunks instanceof InMemory).toBe(false);
      let total = 0;
      for await (const chunk of chunks) total += chunk.length;
      expect(total).toBe(HOT_FILE_MAX_BYTES + 1);
    }
  });
});
