import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { Database, ImageRow } from '../db/schema.js';
import { countImages, imagesAfter } from '../db/repositories/images.js';
import { removeQuietly } from '../ingest/spool.js';
import { objectKey, type FileRole } from '../storage/object-keys.js';
import { rolesOf } from '../storage/image-files.js';
import type { Storage } from '../storage/storage.js';
import { listAvatarKeys } from '../db/repositories/profiles.js';
import { startProgress } from './progress.js';

/**
 * `shoebox migrate-storage --to s3|local`: copies every file of every upload (original,
 * thumb, medium, video frame) from the storage the site uses now to the other one.
 *
 * - Checked: each copied file is read back from the target and its md5 compared with the
 *   bytes read from the source; an original's md5 is also compared with the one its row
 *   recorded at upload time (a mismatch there means the source itself was damaged).
 * - Resumable: a file the target already has with the source's size is not copied again
 *   (`--verify` re-reads and checksums those too), so a stopped run is simply started again.
 * - Live: the site may keep running on the old storage meanwhile; a last run after stopping
 *   it copies what was uploaded in between. Then SHOEBOX_STORAGE switches the site over.
 */
export interface MigrateStorageOptions {
  db: Kysely<Database>;
  from: Storage;
  to: Storage;
  /** Folder for the temp copies (inside the data folder, so the temp cleanup knows it). */
  tmpRoot: string;
  /** Re-read and checksum files the target already has, instead of trusting their size. */
  verifyExisting?: boolean;
  concurrency?: number;
  progress?: boolean;
}

export interface MigrateStorageReport {
  images: number;
  copied: number;
  alreadyThere: number;
  bytesCopied: number;
  /** Keys no storage has: the file was lost before this run. */
  missing: string[];
  /** Originals whose bytes no longer match the md5 of their row (copied anyway, as they are). */
  damagedInSource: string[];
  /** Keys that could not be copied or failed their check after copying; run again. */
  failed: { key: string; reason: string }[];
}

interface StoredFile {
  key: string;
  role: FileRole | 'avatar';
  contentType: string;
}

const BATCH = 200;

/** Every file of an upload with the Content-Type it was stored with. */
export function filesOf(image: ImageRow): StoredFile[] {
  const derivativeType = image.type === 'video' ? 'image/jpeg' : image.mime;
  const contentTypeOf = (role: FileRole) => (role === 'image' ? image.mime : role === 'frame' ? 'image/jpeg' : derivativeType);
  return rolesOf(image).map((role) => ({ key: objectKey(image, role), role, contentType: contentTypeOf(role) }));
}

async function md5Of(storage: Storage, key: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of await storage.read(key)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Streams a stored file to a local file, hashing on the way (never the whole file in memory). */
async function download(storage: Storage, key: string, file: string): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(await storage.read(key), tap, createWriteStream(file));
  return { md5: hash.digest('hex'), size };
}

export async function migrateStorage(options: MigrateStorageOptions): Promise<MigrateStorageReport> {
  const { db, from, to } = options;
  const report: MigrateStorageReport = { images: 0, copied: 0, alreadyThere: 0, bytesCopied: 0, missing: [], damagedInSource: [], failed: [] };
  await mkdir(options.tmpRoot, { recursive: true });
  const workDir = await mkdtemp(path.join(options.tmpRoot, 'migrate-'));
  const total = await countImages(db);
  const progress = options.progress === false ? null : startProgress(`migrate-storage → ${to.kind}`, total);
  let tempCounter = 0;

  const copyFile = async (image: ImageRow | null, file: StoredFile) => {
    const [source, existing] = await Promise.all([from.stat(file.key), to.stat(file.key)]);
    if (!source) {
      if (existing) report.alreadyThere++;
      else report.missing.push(file.key);
      return;
    }
    if (existing && existing.size === source.size) {
      if (!options.verifyExisting) {
        report.alreadyThere++;
        return;
      }
      const [sourceMd5, targetMd5] = await Promise.all([md5Of(from, file.key), md5Of(to, file.key)]);
      if (sourceMd5 === targetMd5) {
        report.alreadyThere++;
        return;
      }
    }
    const temp = path.join(workDir, `${++tempCounter}`);
    try {
      const copied = await download(from, file.key, temp);
      if (image && file.role === 'image' && copied.md5 !== image.md5) report.damagedInSource.push(file.key);
      await to.moveIn(file.key, temp, file.contentType);
      const readBack = await md5Of(to, file.key);
      if (readBack !== copied.md5) {
        await to.delete([file.key]);
        throw new Error(`the copy reads back as md5 ${readBack}, the source as ${copied.md5}`);
      }
      report.copied++;
      report.bytesCopied += copied.size;
    } finally {
      await removeQuietly(temp);
    }
  };

  try {
    let afterId = 0;
    for (;;) {
      const images = await imagesAfter(db, afterId, BATCH);
      if (images.length === 0) break;
      afterId = images[images.length - 1].id;
      let next = 0;
      const worker = async () => {
        while (next < images.length) {
          const image = images[next++];
          for (const file of filesOf(image)) {
            try {
              await copyFile(image, file);
            } catch (error) {
              report.failed.push({ key: file.key, reason: (error as Error).message });
            }
          }
          report.images++;
          progress?.advance(1);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker));
    }
    // Profile pictures (migration 0007_accounts) are stored beside the uploads.
    for (const key of await listAvatarKeys(db)) {
      try {
        await copyFile(null, { key, role: 'avatar', contentType: 'image/webp' });
      } catch (error) {
        report.failed.push({ key, reason: (error as Error).message });
      }
    }
  } finally {
    progress?.stop();
    await removeQuietly(workDir);
  }
  return report;
}
