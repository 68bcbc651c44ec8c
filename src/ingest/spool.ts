import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { errors } from '../core/errors.js';
import { Md5Hasher } from './md5-hasher.js';

export interface SpooledFile {
  path: string;
  size: number;
  md5: string;
}

const SPOOL_BUFFER_BYTES = 1024 * 1024;

/** The spooled file's name in its work folder. */
export const SPOOL_FILE_NAME = 'source';

/**
 * A writable that lands bytes in a temp file while counting and hashing them, and fails
 * with "File too big" as soon as the count passes the limit: uploads are never held whole
 * in memory, and an oversized one stops at the limit instead of filling the disk.
 */
export class SpoolWriter {
  readonly path: string;
  private readonly hash = new Md5Hasher();
  private bytes = 0;
  readonly sink: Writable;
  private readonly file: Writable;

  constructor(workDir: string, private readonly maxBytes: number) {
    this.path = path.join(workDir, SPOOL_FILE_NAME);
    // 1 MiB of buffering instead of Node's 16 KiB: the socket keeps being read while a disk
    // write is in flight, instead of pausing for every 64 KiB chunk (bench/big-upload.ts). The
    // counting and hashing step in front of it keeps Node's default: it never waits on the disk.
    this.file = createWriteStream(this.path, { flags: 'wx', highWaterMark: SPOOL_BUFFER_BYTES });
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        this.bytes += chunk.length;
        if (this.bytes > this.maxBytes) return callback(errors.tooBig(this.maxBytes));
        const behind = this.hash.update(chunk);
        if (!behind) return callback(null, chunk);
        behind.then(() => callback(null, chunk), callback);
      },
    });
    counter.pipe(this.file);
    counter.on('error', (error) => {
      this.hash.abort();
      this.file.destroy(error);
    });
    this.file.on('error', (error) => counter.destroy(error));
    this.sink = counter;
  }

  /** Waits for the file to be fully written and returns what was spooled. */
  async finish(): Promise<SpooledFile> {
    if (!this.file.writableFinished) {
      try {
        await new Promise<void>((resolve, reject) => {
          this.file.once('finish', resolve);
          this.file.once('close', () => (this.file.writableFinished ? resolve() : reject(new Error('spool closed early'))));
          this.file.once('error', reject);
        });
      } catch (error) {
        // Its hashing thread forgets the upload too.
        this.hash.abort();
        throw error;
      }
    }
    return { path: this.path, size: this.bytes, md5: await this.hash.digest() };
  }
}

export async function spoolStream(source: Readable, workDir: string, maxBytes: number): Promise<SpooledFile> {
  const writer = new SpoolWriter(workDir, maxBytes);
  try {
    await pipeline(source, writer.sink);
  } catch (error) {
    source.resume();
    throw error;
  }
  return writer.finish();
}

export async function spoolBuffer(data: Buffer, workDir: string, maxBytes: number): Promise<SpooledFile> {
  if (data.length > maxBytes) throw errors.tooBig(maxBytes);
  const { Readable } = await import('node:stream');
  return spoolStream(Readable.from([data]), workDir, maxBytes);
}

/**
 * Takes a finished file the caller hands over (a complete local resumable upload): it is moved
 * into the work dir (a rename: the parts and the work dir are both under the data folder) and
 * only read to be hashed, never copied; across file systems it is copied as any stream is.
 */
export async function adoptFile(file: string, workDir: string, maxBytes: number): Promise<SpooledFile> {
  const { size } = await stat(file);
  if (size > maxBytes) throw errors.tooBig(maxBytes);
  const target = path.join(workDir, 'source');
  try {
    await rename(file, target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
    return spoolStream(createReadStream(file), workDir, maxBytes);
  }
  const hash = new Md5Hasher();
  try {
    for await (const chunk of createReadStream(target, { highWaterMark: SPOOL_BUFFER_BYTES })) {
      const behind = hash.update(chunk as Buffer);
      if (behind) await behind;
    }
  } catch (error) {
    hash.abort();
    throw error;
  }
  return { path: target, size, md5: await hash.digest() };
}

export async function removeQuietly(target: string): Promise<void> {
  await rm(target, { recursive: true, force: true }).catch(() => undefined);
}
