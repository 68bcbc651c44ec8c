import { close as fsClose, fstat, open as fsOpen, read as fsRead } from 'node:fs';
import { copyFile, mkdir, readdir, rename, rm, stat, unlink, access, constants } from 'node:fs/promises';
import path from 'node:path';
import { CHUNK_BYTES, recycleChunk, takeChunkBuffer } from './chunk-pool.js';
import type { ByteRange, Storage, StoredObjectInfo } from './storage.js';

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

/** How long a file, once opened, is handed to new readers (see OpenFiles). */
export const OPEN_FILE_REUSE_MS = 1000;
/** Open files kept at most (idle ones beyond it are closed, oldest first). */
const OPEN_FILES_KEPT = 256;

interface OpenFile {
  fd: number;
  /** From fstat, the first time a reader needs it (stored files never change in place). */
  size: number | null;
  openedAt: number;
  readers: number;
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
 */
class OpenFiles {
  private readonly files = new Map<string, OpenFile>();
  private timer: NodeJS.Timeout | null = null;

  async acquire(key: string, file: string): Promise<OpenFile> {
    const reusable = this.reusable(key);
    if (reusable) {
      reusable.readers++;
      return reusable;
    }
    const fd = await openForReading(file);
    // Another reader may have opened it while this one waited: share theirs.
    const opened = this.reusable(key);
    if (opened) {
      void closeQuietly(fd);
      opened.readers++;
      return opened;
    }
    const entry: OpenFile = { fd, size: null, openedAt: Date.now(), readers: 1, retired: false };
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
    try {
      const end = range ? range.end + 1 : (file.size ??= await sizeOf(file.fd));
      return new FileChunks(file.fd, range?.start ?? 0, end, () => this.openFiles.release(file));
    } catch (error) {
      this.openFiles.release(file);
      throw error;
    }
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
