import { close as fsClose, fstat, open as fsOpen, read as fsRead } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, unlink, access, constants } from 'node:fs/promises';
import path from 'node:path';
import { CHUNK_BYTES, recycleChunk, takeChunkBuffer } from './chunk-pool.js';
import { InMemory, type ByteRange, type Storage, type StoredObjectInfo } from './storage.js';

function openForReading(file: string): Promise<number> {
  return new Promise((resolve, reject) => fsOpen(file, 'r', (error, fd) => (error ? reject(error) : resolve(fd))));
}

function readAt(fd: number, buffer: Buffer, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => fsRead(fd, buffer, 0, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))));
}

function sizeOf(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fstat(fd, (error, stats) => (error ? reject(error) : resolve(stats.size))));
}

function closeQuietly(fd: number): Promise<void> {
  return new Promise((resolve) => fsClose(fd, () => resolve()));
}

/** A whole file of `size` bytes, in one buffer of its own (not from the chunk pool: it is kept and shared). */
async function readWhole(fd: number, size: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafeSlow(size);
  let filled = 0;
  while (filled < size) {
    const bytesRead = await readAt(fd, buffer.subarray(filled), size - filled, filled);
    if (bytesRead === 0) throw new Error('the file ended before its expected size');
    filled += bytesRead;
  }
  return buffer;
}

/** How long a file, once opened, is handed to new readers (see OpenFiles). */
export const OPEN_FILE_REUSE_MS = 1000;
/** Open files kept at most (idle ones beyond it are closed, oldest first). */
const OPEN_FILES_KEPT = 256;
/** The largest file kept in memory while it is asked for again and again (see OpenFiles). */
export const HOT_FILE_MAX_BYTES = 8 * 1024 * 1024;
/** All hot files' bytes together stay under this. */
export const HOT_BYTES_MAX = 64 * 1024 * 1024;

interface OpenFile {
  fd: number;
  /** From fstat, the first time a reader needs it (stored files never change in place). */
  size: number | null;
  openedAt: number;
  readers: number;
  /** Readers handed this descriptor so far. */
  uses: number;
  /** The whole file, read once it was asked for a second time (hot); dropped with the descriptor. */
  bytes: Promise<Buffer> | null;
  /** Bytes of HOT_BYTES_MAX this entry holds (its size while `bytes` is set). */
  held: number;
  /** No longer handed out: closed when its last reader is done. */
  retired: boolean;
}

/**
 * Descriptors of files read moments ago, shared by the readers of the same file. Opening and
 * closing a file were a fifth of the main thread's time serving the bench/serving.ts mix (two
 * thread-pool round trips per request); a file asked for again within OPEN_FILE_REUSE_MS of being
 * opened is read through the same descriptor. Deleting or replacing a file through this storage
 * retires its descriptor at once (closed when its last reader is done); a change made by another
 * process (another instance) is seen by readers that start after that second. Idle descriptors
 * are closed by a sweep every half second.
 *
 * A file asked for a second time while its descriptor is shared (hot: twice within that second)
 * is read whole, once, and its later readers within the descriptor's life get that buffer
 * (`bytes`) instead of reading the file again: copying each file from the page cache into memory
 * for every request was a quarter of the main thread's busy time serving the mix
 * (bench/serving-cpu.ts). The bytes live exactly as long as the descriptor, so what a reader may
 * get is what the shared descriptor would have read: nothing is served longer than before. At
 * most HOT_BYTES_MAX are held, files of up to HOT_FILE_MAX_BYTES each; a file read once, or past
 * the budget, is read in chunks as before.
 */
class OpenFiles {
  private readonly files = new Map<string, OpenFile>();
  private timer: NodeJS.Timeout | null = null;
  /** Bytes held by the entries' `bytes` together. */
  private hotBytes = 0;

  async acquire(key: string, file: string): Promise<OpenFile> {
    const reusable = this.reusable(key);
    if (reusable) {
      reusable.readers++;
      reusable.uses++;
      return reusable;
    }
    const fd = await openForReading(file);
    // Another reader may have opened it while this one waited: share theirs.
    const opened = this.reusable(key);
    if (opened) {
      void closeQuietly(fd);
      opened.readers++;
      opened.uses++;
      return opened;
    }
    const entry: OpenFile = { fd, size: null, openedAt: Date.now(), readers: 1, uses: 1, bytes: null, held: 0, retired: false };
    this.forget(key);
    this.files.set(key, entry);
    this.trim();
    this.timer ??= setInterval(() => this.sweep(), OPEN_FILE_REUSE_MS / 2).unref();
    return entry;
  }

  release(entry: OpenFile): void {
    entry.readers--;
    if (entry.retired && entry.readers === 0) void closeQuietly(entry.fd);
  }

  /**
   * The whole file in memory when it is hot (asked for again within the descriptor's life) and
   * fits the budget, else null. The caller holds the entry (acquire) while this runs.
   */
  hotBytesOf(entry: OpenFile, size: number): Promise<Buffer> | null {
    if (entry.bytes) return entry.bytes;
    if (entry.retired || entry.uses < 2 || size > HOT_FILE_MAX_BYTES || this.hotBytes + size > HOT_BYTES_MAX) return null;
    entry.held = size;
    this.hotBytes += size;
    entry.bytes = readWhole(entry.fd, size);
    entry.bytes.catch(() => this.dropBytes(entry));
    return entry.bytes;
  }

  private dropBytes(entry: OpenFile): void {
    this.hotBytes -= entry.held;
    entry.held = 0;
    entry.bytes = null;
  }

  /** Stop handing out the descriptor of `key` (deleted or replaced). */
  forget(key: string): void {
    const entry = this.files.get(key);
    if (entry) this.retire(key, entry);
  }

  closeAll(): void {
    for (const [key, entry] of this.files) this.retire(key, entry);
  }

  private reusable(key: string): OpenFile | null {
    const entry = this.files.get(key);
    return entry && !entry.retired && Date.now() - entry.openedAt < OPEN_FILE_REUSE_MS ? entry : null;
  }

  private retire(key: string, entry: OpenFile): void {
    if (this.files.get(key) === entry) this.files.delete(key);
    if (entry.retired) return;
    entry.retired = true;
    this.dropBytes(entry);
    if (entry.readers === 0) void closeQuietly(entry.fd);
    if (this.files.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.files) if (now - entry.openedAt >= OPEN_FILE_REUSE_MS) this.retire(key, entry);
  }

  private trim(): void {
    if (this.files.size <= OPEN_FILES_KEPT) return;
    for (const [key, entry] of this.files) {
      if (this.files.size <= OPEN_FILES_KEPT) break;
      if (entry.readers === 0) this.retire(key, entry);
    }
  }
}

/**
 * A file's bytes from `start` to `end` (exclusive) in chunks of up to 1 MiB, read into buffers
 * lent by chunk-pool.ts (a reader that is done with a chunk may hand it back with
 * `recycleChunk`) through a shared descriptor (OpenFiles), given back when the iteration ends,
 * however it ends. 1 MiB reads written straight to the socket (no stream piping) serve the
 * 50 KB–5 MB mix of bench/serving.ts about 1.3× faster than createReadStream piped at 256 KiB.
 * Plain descriptors and callbacks rather than FileHandle promises, whose bookkeeping showed as
 * extra main-thread time in the serving profiles.
 */
class FileChunks implements AsyncIterable<Buffer> {
  constructor(private readonly fd: number, private readonly start: number, private readonly end: number, private readonly done: () => void) {}

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    const { fd, end } = this;
    let position = this.start;
    let closed = false;
    const close = () => {
      if (!closed) {
        closed = true;
        this.done();
      }
    };
    return {
      next: async () => {
        if (position >= end) {
          close();
          return { done: true, value: undefined };
        }
        const buffer = takeChunkBuffer();
        try {
          const bytesRead = await readAt(fd, buffer, Math.min(CHUNK_BYTES, end - position), position);
          if (bytesRead === 0) throw new Error('the file ended before its expected size');
          position += bytesRead;
          return { done: false, value: bytesRead === CHUNK_BYTES ? buffer : buffer.subarray(0, bytesRead) };
        } catch (error) {
          recycleChunk(buffer);
          close();
          throw error;
        }
      },
      return: async () => {
        close();
        return { done: true, value: undefined };
      },
    };
  }
}

export class LocalStorage implements Storage {
  readonly kind = 'local' as const;

  private readonly openFiles = new OpenFiles();

  constructor(readonly root: string) {}

  /** Absolute path of a key; refuses keys that would step outside the root. */
  pathOf(key: string): string {
    const full = path.resolve(this.root, key);
    if (!full.startsWith(path.resolve(this.root) + path.sep)) throw new Error(`invalid storage key ${key}`);
    return full;
  }

  async moveIn(key: string, localFile: string, _contentType?: string): Promise<void> {
    const target = this.pathOf(key);
    this.openFiles.forget(key);
    try {
      // The date folder usually exists already (every upload of the day, and each upload's
      // second and third file): it is made only when the rename says it is missing.
      await rename(localFile, target).catch(async (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
        await mkdir(path.dirname(target), { recursive: true });
        await rename(localFile, target);
      });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
      await mkdir(path.dirname(target), { recursive: true });
      await copyFile(localFile, target);
      await unlink(localFile);
    }
  }

  async copyIn(key: string, localFile: string, _contentType?: string): Promise<void> {
    const target = this.pathOf(key);
    this.openFiles.forget(key);
    await mkdir(path.dirname(target), { recursive: true });
    await copyFile(localFile, target);
  }

  async read(key: string, range?: ByteRange): Promise<AsyncIterable<Buffer>> {
    const file = await this.openFiles.acquire(key, this.pathOf(key));
    let hot: Promise<Buffer> | null = null;
    let start = 0;
    let end = 0;
    try {
      start = range?.start ?? 0;
      // From a file's second reader within the descriptor's life on, its size (one fstat per
      // opening) tells whether it may be kept in memory.
      const size = file.size ?? (range && file.uses < 2 ? null : (file.size = await sizeOf(file.fd)));
      end = range ? range.end + 1 : size!;
      hot = size === null ? null : this.openFiles.hotBytesOf(file, size);
      if (!hot) return new FileChunks(file.fd, start, end, () => this.openFiles.release(file));
    } catch (error) {
      this.openFiles.release(file);
      throw error;
    }
    let bytes: Buffer;
    try {
      bytes = await hot;
    } finally {
      this.openFiles.release(file);
    }
    if (end > bytes.length) throw new Error('the file ended before its expected size');
    return new InMemory(bytes.subarray(start, end));
  }

  async stat(key: string): Promise<StoredObjectInfo | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { size: s.size, lastModified: s.mtime } : null;
    } catch {
      return null;
    }
  }

  async delete(keys: string[]): Promise<void> {
    for (const key of keys) this.openFiles.forget(key);
    await Promise.all(keys.map((k) => rm(this.pathOf(k), { force: true })));
  }

  async checkHealth(): Promise<void> {
    await mkdir(this.root, { recursive: true });
    await access(this.root, constants.W_OK);
  }

  async *list(prefix: string): AsyncIterable<string> {
    const trimmed = prefix.replace(/\/+$/, '');
    const start = trimmed ? this.pathOf(trimmed) : path.resolve(this.root);
    const walk = async function* (dir: string, rel: string): AsyncIterable<string> {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const childRel = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) yield* walk(path.join(dir, e.name), childRel);
        else if (e.isFile()) yield childRel;
      }
    };
    yield* walk(start, prefix.replace(/\/+$/, ''));
  }

  async close(): Promise<void> {
    this.openFiles.closeAll();
  }
}
