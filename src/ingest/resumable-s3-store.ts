import { S3Store, type MetadataValue } from '@tus/s3-store';
import { ERRORS, Upload, type KvStore, type Locker } from '@tus/utils';
import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import { deleteResumableInfo, listResumableInfos, readResumableInfo, saveResumableInfo } from '../db/repositories/resumable-uploads.js';
import type { Database } from '../db/schema.js';
import { s3ClientConfig } from '../storage/s3.js';
import { resumableS3Prefix, type ResumableStore } from './resumable-store.js';

/**
 * Resumable uploads with `SHOEBOX_STORAGE=s3` (ingest/resumable-store.ts): an S3 multipart
 * upload in the site's bucket, tus' record of each upload in the database. A module of its own,
 * loaded only with S3 storage, because @tus/s3-store brings the AWS SDK.
 */

type Db = Kysely<Database>;

/** @tus/s3-store's record of each upload, kept in the database instead of each instance's memory. */
class DatabaseKvStore implements KvStore<MetadataValue> {
  constructor(private readonly db: Db) {}

  async get(key: string): Promise<MetadataValue | undefined> {
    const info = await readResumableInfo(this.db, key);
    if (!info) return undefined;
    const value = JSON.parse(info) as MetadataValue;
    return { ...value, file: new Upload(value.file) };
  }

  async set(key: string, value: MetadataValue): Promise<void> {
    await saveResumableInfo(this.db, key, JSON.stringify(value), value.file.creation_date ?? new Date().toISOString());
  }

  async delete(key: string): Promise<void> {
    await deleteResumableInfo(this.db, key);
  }
}

/**
 * @tus/s3-store names its objects after the upload id at the bucket's root; this puts them under
 * `<prefix>/resumable/` (beside the site's files, never among them) by rewriting each request's
 * keys, and also removes the trailing partial chunk when an upload is removed.
 */
class PrefixedS3Store extends S3Store {
  constructor(
    options: ConstructorParameters<typeof S3Store>[0],
    private readonly keyPrefix: string,
  ) {
    super(options);
    this.client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Key?: string; Delete?: { Objects?: { Key?: string }[] } };
        if (typeof input.Key === 'string') input.Key = keyPrefix + input.Key;
        for (const object of input.Delete?.Objects ?? []) if (typeof object.Key === 'string') object.Key = keyPrefix + object.Key;
        return next(args);
      },
      { step: 'initialize', name: 'shoeboxResumablePrefix' },
    );
  }

  /**
   * @tus/s3-store's remove aborts the multipart upload and stops there when it is already
   * complete (S3 no longer knows the upload id) or its record is gone; the objects (the
   * assembled file, the record, a trailing partial chunk) must go in every case.
   */
  override async remove(id: string): Promise<void> {
    try {
      await super.remove(id);
    } catch (error) {
      if (error !== ERRORS.FILE_NOT_FOUND) throw error;
    }
    await this.client.deleteObjects({
      Bucket: this.bucket,
      Delete: { Objects: [{ Key: id }, { Key: this.infoKey(id) }, { Key: this.partKey(id, true) }] },
    });
    await this.clearCache(id);
  }

  /** Where the objects of an upload are, for tests and operators. */
  objectKey(id: string): string {
    return this.keyPrefix + id;
  }
}

export function createS3ResumableStore(settings: Settings, db: Db, locker: Locker): ResumableStore {
  const s3 = settings.s3;
  const store = new PrefixedS3Store(
    {
      // The same client settings as the site's storage (path style, checksums for non-AWS servers).
      s3ClientConfig: { ...s3ClientConfig(s3), bucket: s3.bucket },
      cache: new DatabaseKvStore(db),
      partSize: 8 * 1024 * 1024,
    },
    resumableS3Prefix(settings),
  );
  return {
    datastore: store,
    locker,
    describe: async (id) => (await store.getUpload(id).catch(() => undefined)) ?? undefined,
    completeSource: async (upload) => ({ kind: 'stream', stream: await store.read(upload.id) }),
    // A finished upload's record is dropped when its last chunk completes it, so every record is an unfinished upload.
    unfinished: async () => (await listResumableInfos(db)).map((info) => new Upload((JSON.parse(info) as MetadataValue).file)),
    remove: async (id) => {
      await store.remove(id);
      await deleteResumableInfo(db, id);
    },
  };
}
