/**
 * Reusable buffers for sending stored files. A download reads its file 1 MiB at a time; a
 * fresh 1 MiB buffer for every read meant gigabytes a second of new memory under load: page
 * faults to map it and, because V8 counts such buffers as external memory, a full garbage
 * collection every few dozen MB (bench/serving.ts). Buffers are lent here and come back once
 * the socket has taken their bytes (`recycleChunk` in the write callback).
 *
 * A buffer that is never given back (a reader that stops early, `migrate-storage`) is simply
 * left to the garbage collector; one given back twice is ignored, so no two readers ever share
 * one.
 */
export const CHUNK_BYTES = 1024 * 1024;
/** Spare buffers kept for the next reads: 16 MiB at most, whatever the traffic was. */
const MAX_SPARE = 16;

const spare: Buffer[] = [];
const lent = new WeakSet<ArrayBuffer>();

export function takeChunkBuffer(): Buffer {
  const buffer = spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK_BYTES);
  lent.add(buffer.buffer as ArrayBuffer);
  return buffer;
}

/**
 * Gives a chunk (or any view into it) back once nothing reads it any more. Chunks that did not
 * come from takeChunkBuffer(), or that were already given back, are ignored.
 */
export function recycleChunk(chunk: Buffer): void {
  const memory = chunk.buffer as ArrayBuffer;
  if (!lent.delete(memory)) return;
  if (spare.length < MAX_SPARE) spare.push(Buffer.from(memory, 0, CHUNK_BYTES));
}
