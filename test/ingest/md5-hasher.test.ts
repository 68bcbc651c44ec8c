import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Md5Hasher } from '../../src/ingest/md5-hasher.js';

const MiB = 1024 * 1024;

/** Feeds `bytes` in uneven chunks, waiting whenever the hasher asks to, as the spool does. */
async function md5ByHasher(bytes: Buffer, chunkSizes = [65_536, 1, 300_000, 7]): Promise<{ hex: string; waits: number }> {
  const hasher = new Md5Hasher();
  let waits = 0;
  for (let offset = 0, i = 0; offset < bytes.length; i++) {
    const size = chunkSizes[i % chunkSizes.length];
    const behind = hasher.update(bytes.subarray(offset, offset + size));
    if (behind) {
      waits++;
      await behind;
    }
    offset += size;
  }
  return { hex: await hasher.digest(), waits };
}

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

describe('Md5Hasher (md5 of an upload, on a worker thread past the first MiB)', () => {
  it('gives the same md5 as node:crypto at every size around the batch edges', async () => {
    for (const size of [0, 1, 1000, MiB - 1, MiB, MiB + 1, 3 * MiB + 12_345]) {
      const bytes = randomBytes(size);
      expect((await md5ByHasher(bytes)).hex, `${size} bytes`).toBe(md5(bytes));
    }
  });

  it('keeps concurrent uploads apart', async () => {
    const files = [randomBytes(5 * MiB + 3), randomBytes(2 * MiB), randomBytes(4 * MiB + 999)];
    const hexes = await Promise.all(files.map((f, i) => md5ByHasher(f, [[65_536], [1_000_000], [131_072, 17]][i])));
    expect(hexes.map((h) => h.hex)).toEqual(files.map(md5));
  });

  it('asks the caller to wait when the worker falls behind, instead of queueing without bound', async () => {
    // One 40 MiB chunk queues 40 batches at once: far past the backlog the hasher allows.
    const bytes = randomBytes(40 * MiB);
    const { hex, waits } = await md5ByHasher(bytes, [40 * MiB]);
    expect(waits).toBe(1);
    expect(hex).toBe(md5(bytes));
  });

  it('can be abandoned part-way and does not disturb the next upload', async () => {
    const abandoned = new Md5Hasher();
    await abandoned.update(randomBytes(3 * MiB));
    abandoned.abort();
    const bytes = randomBytes(2 * MiB + 5);
    expect((await md5ByHasher(bytes)).hex).toBe(md5(bytes));
  });
});
