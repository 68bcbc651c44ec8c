export interface StoredObjectInfo {
  size: number;
  lastModified: Date;
}

export interface ByteRange {
  start: number;
  /** Inclusive, as in HTTP ranges. */
  end: number;
}

/**
 * Where media files live. Keys are relative paths such as `images/2024/10/10/cat.th.jpeg`.
 * Drivers: `local` (a folder) and `s3` (any S3-compatible server).
 */
export interface Storage {
  readonly kind: 'local' | 's3';
  /** Takes ownership of a local file: moves or uploads it to `key`, then the local file is gone. */
  moveIn(key: string, localFile: string, contentType: string): Promise<void>;
  /** Copies a local file to `key`, leaving the local file in place. */
  copyIn(key: string, localFile: string, contentType: string): Promise<void>;
  /**
   * The object's bytes (or one range of them). Resolves once the object is open, so a missing
   * object throws before anything is sent; whoever reads must iterate to the end or break out.
   */
  read(key: string, range?: ByteRange): Promise<AsyncIterable<Buffer>>;
  stat(key: string): Promise<StoredObjectInfo | null>;
  /** Deletes the keys; keys that do not exist are not an error. */
  delete(keys: string[]): Promise<void>;
  /** Throws when the storage cannot be reached (used by /healthz). */
  checkHealth(): Promise<void>;
  /** Every key under a prefix, for moving a site between storages. */
  list(prefix: string): AsyncIterable<string>;
  close(): Promise<void>;
}

/**
 * What `read()` gives back when the bytes are already in memory (a hot local file, storage/local.ts):
 * one chunk, also reachable as `bytes` so a sender can write it in one call. The buffer is shared
 * between readers: never write into it, and never hand it to the chunk pool.
 */
export class InMemory implements AsyncIterable<Buffer> {
  constructor(readonly bytes: Buffer) {}

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.bytes.length > 0) yield this.bytes;
  }
}
