import { describe, expect, it } from 'vitest';
import { CHUNK_BYTES, recycleChunk, takeChunkBuffer } from '../../src/storage/chunk-pool.js';

describe('chunk pool (buffers for sending stored files)', () => {
  it('lends a buffer again once it is given back, also through a view of its first bytes', () => {
    const first = takeChunkBuffer();
    expect(first.length).toBe(CHUNK_BYTES);
    recycleChunk(first.subarray(0, 10));
    const again = takeChunkBuffer();
    expect(again.buffer).toBe(first.buffer);
    recycleChunk(again);
  });

  it('never lends one buffer to two readers, even when it is given back twice', () => {
    const chunk = takeChunkBuffer();
    recycleChunk(chunk);
    recycleChunk(chunk);
    const a = takeChunkBuffer();
    const b = takeChunkBuffer();
    expect(a.buffer).not.toBe(b.buffer);
    recycleChunk(a);
    recycleChunk(b);
  });

  it('ignores buffers it did not lend', () => {
    const foreign = Buffer.allocUnsafeSlow(CHUNK_BYTES);
    recycleChunk(foreign);
    const lent = [takeChunkBuffer(), takeChunkBuffer(), takeChunkBuffer()];
    expect(lent.some((b) => b.buffer === foreign.buffer)).toBe(false);
    for (const b of lent) recycleChunk(b);
  });
});
