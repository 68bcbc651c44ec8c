import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { errors } from '../core/errors.js';

/**
 * HEIC/HEIF from phones, decoded with heic-decode (libheif compiled to wasm, installed from
 * npm; sharp's prebuilt libvips has no HEVC decoder). libheif applies the container's
 * rotation and mirroring (`irot`/`imir`), so the pixels come out upright and the EXIF
 * Orientation, which describes the same turn, must not be applied again.
 *
 * The decode runs in a worker thread: it is synchronous wasm that would otherwise stall
 * every other request for the second or so a 12 MP photo takes, and the wasm memory goes
 * away with the worker. The caller checks the header's dimensions against the pixel limit
 * before this runs; the worker checks them again before decoding.
 */

export interface HeicPixels {
  /** RGBA, 4 bytes per pixel. */
  data: Buffer;
  width: number;
  height: number;
}

const require = createRequire(import.meta.url);

// Plain CommonJS, evaluated in the worker, so it runs the same under tsx, vitest and dist/.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const decode = require(workerData.heicDecode);
(async () => {
  const images = await decode.all({ buffer: readFileSync(workerData.file) });
  try {
    const image = images[workerData.index] || images[0];
    if (image.width * image.height > workerData.maxPixels) throw new Error('image too large to decode');
    const { width, height, data } = await image.decode();
    parentPort.postMessage({ width, height, data }, [data.buffer]);
  } finally {
    images.dispose();
  }
})().catch((error) => parentPort.postMessage({ error: String((error && error.message) || error) }));
`;

export interface HeicDecodeOptions {
  /** Index of the primary image among the top-level images (sharp's `pagePrimary`). */
  index: number;
  maxPixels: number;
  timeoutMs: number;
}

/** Decodes at once, at most: each holds its whole file, the wasm heap and the RGBA result. */
const MAX_PARALLEL_DECODES = Math.max(1, Math.min(4, Math.floor(availableParallelism() / 2)));
let running = 0;
const waiting: (() => void)[] = [];

async function withDecodeSlot<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_PARALLEL_DECODES) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await work();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

export function decodeHeic(file: string, options: HeicDecodeOptions): Promise<HeicPixels> {
  return withDecodeSlot(() => decodeInWorker(file, options));
}

function decodeInWorker(file: string, options: HeicDecodeOptions): Promise<HeicPixels> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, heicDecode: require.resolve('heic-decode'), index: options.index, maxPixels: options.maxPixels },
      stdout: true,
      stderr: true,
    });
    // libheif reports problems on the console; keep them for the error message, not the log.
    let logged = '';
    const collect = (chunk: Buffer) => {
      if (logged.length < 2000) logged += chunk.toString();
    };
    worker.stdout.on('data', collect);
    worker.stderr.on('data', collect);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(errors.unreadable(`HEIC decoding took longer than ${options.timeoutMs} ms`))), options.timeoutMs);
    worker.once('message', (message: { error?: string; width?: number; height?: number; data?: Uint8ClampedArray }) => {
      if (message.error || !message.data || !message.width || !message.height) {
        const why = message.error ?? 'no pixels';
        finish(() => reject(errors.unreadable(`HEIC: ${why}${logged ? ` (${logged.trim().split('\n')[0]})` : ''}`)));
        return;
      }
      const data = Buffer.from(message.data.buffer, message.data.byteOffset, message.data.byteLength);
      const { width, height } = message;
      finish(() => resolve({ data, width, height }));
    });
    worker.once('error', (error) => finish(() => reject(errors.unreadable(`HEIC: ${error.message}`))));
    worker.once('exit', (code) => finish(() => reject(errors.unreadable(`HEIC decoder stopped (exit ${code})`))));
  });
}
