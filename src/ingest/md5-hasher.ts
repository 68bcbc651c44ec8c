import { createHash, type Hash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * The md5 of an upload, worked out while it streams in. The API must answer with it
 * (Chevereto's `md5`), and at about 1.4 CPU-seconds per GB it is the biggest single cost of a
 * large upload; on the main thread it also delays reading the socket. So past the first
 * MiB the bytes are hashed on a hashing thread (see MAX_HASHING_THREADS), fed in 1 MiB batches
 * (transferred, not copied again), while the main thread goes on parsing and writing
 * (bench/big-upload.ts). Small files, most images, never leave the main thread.
 *
 * Memory stays bounded: at most MAX_BATCHES_IN_FLIGHT batches wait for the thread per upload;
 * past that, update() returns a promise the caller waits on (backpressure to the socket).
 */
const BATCH_BYTES = 1024 * 1024;
const MAX_BATCHES_IN_FLIGHT = 2;

// Plain CommonJS, evaluated in the worker, so it runs the same under tsx, vitest and dist/.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const hashes = new Map();
parentPort.on('message', (message) => {
  const { id, kind } = message;
  if (kind === 'data') {
    let hash = hashes.get(id);
    if (!hash) hashes.set(id, (hash = createHash('md5')));
    hash.update(new Uint8Array(message.bytes, 0, message.length));
    // The batch goes back to be filled again: no new memory per MiB hashed.
    parentPort.postMessage({ id, kind: 'ack', bytes: message.bytes }, [message.bytes]);
  } else if (kind === 'end') {
    const hash = hashes.get(id) || createHash('md5');
    hashes.delete(id);
    parentPort.postMessage({ id, kind: 'digest', hex: hash.digest('hex') });
  } else if (kind === 'abort') {
    hashes.delete(id);
  }
});
`;

type Reply = { id: number; kind: 'ack'; bytes: ArrayBuffer } | { id: number; kind: 'digest'; hex: string };

interface Listener {
  ack(): void;
  digest(hex: string): void;
  fail(error: Error): void;
}

/** Batches back from the worker, ready to be filled again (a few, whatever the number of uploads). */
const spareBatches: ArrayBuffer[] = [];
const MAX_SPARE_BATCHES = 8;

function takeBatch(): Buffer {
  const spare = spareBatches.pop();
  return spare ? Buffer.from(spare) : Buffer.allocUnsafeSlow(BATCH_BYTES);
}

/** Keeps a whole batch for the next upload, up to MAX_SPARE_BATCHES. */
function keepSpare(bytes: ArrayBuffer): void {
  if (spareBatches.length < MAX_SPARE_BATCHES && bytes.byteLength === BATCH_BYTES) spareBatches.push(bytes);
}

/**
 * The hashing threads: one per core beside the main thread (which reads the socket, parses
 * multipart and writes the spool), at least one and at most four, started when first needed.
 * md5 cannot be split within one file, so each upload keeps the thread it was given (its
 * batches are hashed in order there) and a new upload goes to an idle thread, else to a new one
 * while there is room, else to the one hashing the fewest uploads. With several big uploads at
 * once, each spare core hashes a share of them. On 2 cores that is one thread: a second one
 * measured no faster there, as the two cores are already busy (bench/findings.ts).
 */
export const MAX_HASHING_THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));

interface HashingThread {
  worker: Worker;
  /** Ids of the uploads being hashed there (until their digest, an abort or a failure). */
  uploads: Set<number>;
}

const threads: HashingThread[] = [];
let nextId = 1;
const listeners = new Map<number, Listener>();

function startThread(): HashingThread {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  // An idle hashing thread never keeps the process alive.
  worker.unref();
  const thread: HashingThread = { worker, uploads: new Set() };
  worker.on('message', (reply: Reply) => {
    if (reply.kind === 'ack') keepSpare(reply.bytes);
    else thread.uploads.delete(reply.id);
    const listener = listeners.get(reply.id);
    if (!listener) return;
    if (reply.kind === 'ack') listener.ack();
    else listener.digest(reply.hex);
  });
  let failed = false;
  const fail = (error: Error) => {
    if (failed) return;
    failed = true;
    const index = threads.indexOf(thread);
    if (index >= 0) threads.splice(index, 1);
    for (const id of thread.uploads) {
      listeners.get(id)?.fail(error);
      listeners.delete(id);
    }
    thread.uploads.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`an md5 thread stopped (exit ${code})`)));
  threads.push(thread);
  return thread;
}

/** The thread for a new upload: an idle one, else a new one while there is room, else the least busy. */
function threadForNewUpload(): HashingThread {
  let best: HashingThread | null = null;
  for (const thread of threads) if (!best || thread.uploads.size < best.uploads.size) best = thread;
  if (best && (best.uploads.size === 0 || threads.length >= MAX_HASHING_THREADS)) return best;
  return startThread();
}

/** How many uploads each hashing thread is hashing now (for tests and diagnostics). */
export function uploadsPerHashingThread(): number[] {
  return threads.map((thread) => thread.uploads.size);
}

export class Md5Hasher {
  /** Hashes on this thread until the upload outgrows one batch. */
  private local: Hash | null = createHash('md5');
  private batch: Buffer = takeBatch();
  private used = 0;
  private id = 0;
  private thread: HashingThread | null = null;
  private inFlight = 0;
  private error: Error | null = null;
  private drained: (() => void) | null = null;
  private onDigest: ((hex: string) => void) | null = null;
  private onFail: ((error: Error) => void) | null = null;

  /** Adds bytes; when the worker is behind, returns a promise to wait on before sending more. */
  update(chunk: Buffer): Promise<void> | undefined {
    if (this.error) return Promise.reject(this.error);
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(chunk.length - offset, BATCH_BYTES - this.used);
      chunk.copy(this.batch, this.used, offset, offset + take);
      this.used += take;
      offset += take;
      if (this.used === BATCH_BYTES) this.sendBatch();
    }
    if (this.inFlight < MAX_BATCHES_IN_FLIGHT) return undefined;
    return new Promise((resolve, reject) => {
      this.drained = resolve;
      this.onFail = reject;
    });
  }

  async digest(): Promise<string> {
    if (this.error) throw this.error;
    if (this.local) {
      const hex = this.local.update(this.batch.subarray(0, this.used)).digest('hex');
      keepSpare(this.batch.buffer as ArrayBuffer);
      this.used = 0;
      return hex;
    }
    if (this.used > 0) this.sendBatch();
    const thread = this.thread!;
    return new Promise((resolve, reject) => {
      this.onDigest = resolve;
      this.onFail = reject;
      thread.worker.postMessage({ id: this.id, kind: 'end' });
    });
  }

  /** Forgets the upload (it failed or was refused); its thread drops its state. */
  abort(): void {
    if (this.local || !listeners.has(this.id)) return;
    listeners.delete(this.id);
    const thread = this.thread!;
    thread.uploads.delete(this.id);
    thread.worker.postMessage({ id: this.id, kind: 'abort' });
  }

  private sendBatch(): void {
    if (this.local) {
      // The upload outgrew one batch: the first one moves to the worker like every other.
      this.local = null;
      this.id = nextId++;
      this.thread = threadForNewUpload();
      this.thread.uploads.add(this.id);
      listeners.set(this.id, {
        ack: () => {
          this.inFlight--;
          if (this.drained && this.inFlight < MAX_BATCHES_IN_FLIGHT) {
            const resume = this.drained;
            this.drained = null;
            resume();
          }
        },
        digest: (hex) => {
          listeners.delete(this.id);
          this.onDigest?.(hex);
        },
        fail: (error) => {
          this.error = error;
          this.onFail?.(error);
        },
      });
    }
    // The batch owns its whole ArrayBuffer (allocUnsafeSlow or one back from the worker), so it moves to the worker without a copy.
    const bytes = this.batch.buffer as ArrayBuffer;
    const length = this.used;
    this.batch = takeBatch();
    this.used = 0;
    this.inFlight++;
    this.thread!.worker.postMessage({ id: this.id, kind: 'data', bytes, length }, [bytes]);
  }
}
