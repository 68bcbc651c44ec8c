import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ERRORS, type DataStore, type Lock, type Locker, type RequestRelease, type Upload } from '@tus/utils';
import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import {
  deleteExpiredResumableLocks,
  deleteResumableResultsBefore,
  releaseResumableLock,
  renewResumableLock,
  requestResumableLockRelease,
  resumableUploadsCreatedBefore,
  tryTakeResumableLock,
} from '../db/repositories/resumable-uploads.js';
import type { Database } from '../db/schema.js';
import { removeExpiredResumableUploads, resumableDirectory } from './resumable-parts.js';

/**
 * Where unfinished resumable (tus) uploads live, so that every instance of a site can serve
 * them. With local storage the parts are files in `<data>/tmp/tus` (one instance, or several
 * sharing the data folder). With `SHOEBOX_STORAGE=s3` they are an S3 multipart upload in the
 * site's bucket under `<prefix>/resumable/` (@tus/s3-store), what tus knows of each upload is in
 * the database (`resumable_uploads`), so any instance can take the next chunk, finish the
 * upload or clean it up. In both cases one writer per upload is ensured across instances by a
 * lease in the database (`resumable_locks`), and the answer of a finished upload is kept there
 * too (`resumable_results`, ingest/../web/uploader/resumable.ts).
 */
export interface ResumableStore {
  datastore: DataStore;
  locker: Locker;
  /** The upload's tus metadata (size, client metadata, creation date), or undefined if unknown. */
  describe(id: string): Promise<Upload | undefined>;
  /** The bytes of a complete upload, for the ingest pipeline. */
  completeSource(upload: Upload): Promise<{ kind: 'file'; path: string; handOver: true } | { kind: 'stream'; stream: Readable }>;
  /** Every upload not finished yet (for the per-account and per-address caps). */
  unfinished(): Promise<Upload[]>;
  /** Removes an upload's parts and what is known of it (after ingesting, or when it expired). */
  remove(id: string): Promise<void>;
}

type Db = Kysely<Database>;

/** How long a lease lasts without renewal: a killed instance's upload is free again after this. */
const LOCK_TTL_MS = 10_000;
const LOCK_RENEW_MS = 3_000;
/** How long a request waits for another request's lease on the same upload before giving up. */
const LOCK_WAIT_MS = 20_000;
const LOCK_POLL_MS = 150;

/** A tus lock held as a lease row in the database, renewed while held. */
class DatabaseLock implements Lock {
  private readonly holder = randomBytes(12).toString('hex');
  private renewal: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly id: string,
    private readonly local: Map<string, RequestRelease>,
  ) {}

  async lock(signal: AbortSignal, requestRelease: RequestRelease): Promise<void> {
    const deadline = Date.now() + LOCK_WAIT_MS;
    let asked = false;
    for (;;) {
      if (await tryTakeResumableLock(this.db, this.id, this.holder, LOCK_TTL_MS)) break;
      if (!asked) {
        // The holder on this instance is told at once; one on another instance sees the flag when it renews.
        await this.local.get(this.id)?.();
        await requestResumableLockRelease(this.db, this.id, this.holder);
        asked = true;
      }
      if (signal.aborted || Date.now() > deadline) throw ERRORS.ERR_LOCK_TIMEOUT;
      await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
    this.local.set(this.id, requestRelease);
    this.renewal = setInterval(() => {
      renewResumableLock(this.db, this.id, this.holder, LOCK_TTL_MS)
        .then((state) => {
          if (state !== 'held') void requestRelease();
        })
        .catch(() => undefined);
    }, LOCK_RENEW_MS);
    this.renewal.unref();
  }

  async unlock(): Promise<void> {
    clearInterval(this.renewal);
    this.local.delete(this.id);
    await releaseResumableLock(this.db, this.id, this.holder);
  }
}

export function createDatabaseLocker(db: Db): Locker {
  const local = new Map<string, RequestRelease>();
  return { newLock: (id) => new DatabaseLock(db, id, local) };
}

export function resumableS3Prefix(settings: Settings): string {
  const base = settings.s3.prefix.replace(/^\/+|\/+$/g, '');
  return `${base ? `${base}/` : ''}resumable/`;
}

/**
 * The store of this site's storage. Its tus store is loaded here, on the first resumable upload
 * or cleanup that needs it, not at start: the S3 one brings the AWS SDK (resumable-s3-store.ts).
 */
export async function createResumableStore(settings: Settings, db: Db): Promise<ResumableStore> {
  const locker = createDatabaseLocker(db);
  if (settings.storage === 's3') {
    const { createS3ResumableStore } = await import('./resumable-s3-store.js');
    return createS3ResumableStore(settings, db, locker);
  }
  const { FileStore } = await import('@tus/file-store');
  const store = new FileStore({
    directory: resumableDirectory(settings.dataDir),
    expirationPeriodInMilliseconds: settings.resumableExpirySeconds * 1000,
  });
  return {
    datastore: store,
    locker,
    describe: async (id) => (await store.configstore.get(id)) ?? undefined,
    // The pipeline moves the finished file into its work folder (no copy) and hashes it there.
    completeSource: async (upload) => ({ kind: 'file', path: upload.storage?.path ?? path.join(store.directory, upload.id), handOver: true }),
    unfinished: async () => {
      const ids = (await store.configstore.list?.()) ?? [];
      const uploads: Upload[] = [];
      for (let i = 0; i < ids.length; i += 32) {
        const batch = await Promise.all(ids.slice(i, i + 32).map((id) => store.configstore.get(id).catch(() => undefined)));
        for (const upload of batch) if (upload) uploads.push(upload);
      }
      return uploads;
    },
    remove: async (id) => {
      // A finished upload's file was moved away by the pipeline: its record goes all the same.
      await store.remove(id).catch(() => store.configstore.delete(id).catch(() => undefined));
    },
  };
}

/**
 * The cluster-wide part of cleaning up resumable uploads: expired uploads in the bucket (S3)
 * with what the database knows of them, kept answers of finished uploads, and leases whose
 * holder died. Claimed by one instance per run (jobs/background-jobs.ts).
 */
export async function removeExpiredSharedResumableState(settings: Settings, db: Db, now = Date.now()): Promise<number> {
  const cutoff = now - settings.resumableExpirySeconds * 1000;
  let removed = 0;
  if (settings.storage === 's3') {
    const store = await createResumableStore(settings, db);
    for (;;) {
      const ids = await resumableUploadsCreatedBefore(db, new Date(cutoff).toISOString());
      if (ids.length === 0) break;
      for (const id of ids) {
        await store.remove(id);
        removed++;
      }
    }
  }
  removed += await deleteResumableResultsBefore(db, cutoff);
  await deleteExpiredResumableLocks(db, now);
  return removed;
}

/** This instance's part: parts in the local data folder (local storage only). */
export async function removeExpiredLocalResumableUploads(settings: Settings, now = Date.now()): Promise<number> {
  if (settings.storage === 's3') return 0;
  return removeExpiredResumableUploads(settings.dataDir, settings.resumableExpirySeconds, now);
}
