import { createReadStream } from 'node:fs';
import { rm, stat as statFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Settings } from '../config/settings.js';
import type { ByteRange, Storage, StoredObjectInfo } from './storage.js';

export type S3Options = Settings['s3'];

/** S3's smallest allowed part (except the last one). */
const MIN_PART_SIZE = 5 * 1024 * 1024;
/** S3's largest number of parts in one multipart upload. */
const MAX_PARTS = 10_000;
/** Parts in flight at once; memory use is at most this many parts. */
const UPLOAD_CONCURRENCY = 4;
/** DeleteObjects refuses more keys than this in one request. */
const DELETE_BATCH_SIZE = 1000;

function isAwsEndpoint(endpoint: string | undefined): boolean {
  if (!endpoint) return true;
  try {
    return /\.amazonaws\.com(\.cn)?$/i.test(new URL(endpoint).hostname);
  } catch {
    return false;
  }
}

export function createS3Client(options: S3Options): S3Client {
  return new S3Client(s3ClientConfig(options));
}

/** The client settings for the site's bucket (also given to @tus/s3-store for resumable uploads). */
export function s3ClientConfig(options: S3Options): S3ClientConfig {
  const config: S3ClientConfig = {
    region: options.region,
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
  };
  // Newer SDKs add CRC32 checksums to every upload and expect them on every download;
  // MinIO, Ceph RGW and older S3 clones reject or lack them, so only send them where S3 requires one.
  if (!isAwsEndpoint(options.endpoint)) {
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  if (options.accessKeyId && options.secretAccessKey) {
    config.credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
  }
  return config;
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NotFound' || e?.name === 'NoSuchKey' || e?.name === 'NoSuchBucket' || e?.$metadata?.httpStatusCode === 404;
}

/** Creates the bucket unless it exists already (first run, tests, `shoebox` CLI). */
export async function ensureBucket(options: S3Options): Promise<void> {
  const client = createS3Client(options);
  try {
    try {
      await client.send(new HeadBucketCommand({ Bucket: options.bucket }));
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    try {
      await client.send(new CreateBucketCommand({ Bucket: options.bucket }));
    } catch (error) {
      // Another instance may have created it between our two calls.
      const name = (error as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw error;
    }
  } finally {
    client.destroy();
  }
}

export class S3Storage implements Storage {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  /** '' or 'some/prefix/': prepended to every key so several sites can share a bucket. */
  private readonly keyPrefix: string;
  private readonly multipartThreshold: number;

  constructor(options: S3Options) {
    this.client = createS3Client(options);
    this.bucket = options.bucket;
    const prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.keyPrefix = prefix ? `${prefix}/` : '';
    this.multipartThreshold = options.multipartThreshold;
  }

  /**
   * Full object key of a storage key. Refuses keys that are empty, absolute or have `.`/`..`
   * segments: HTTP clients and servers may normalise those away, which could step outside
   * the prefix (and they would never be valid on the local driver either).
   */
  private objectKeyOf(key: string): string {
    if (!key || key.startsWith('/') || key.split('/').some((segment) => segment === '.' || segment === '..')) {
      throw new Error(`invalid storage key ${key}`);
    }
    return this.keyPrefix + key;
  }

  async moveIn(key: string, localFile: string, contentType: string): Promise<void> {
    await this.upload(key, localFile, contentType);
    // Only now: on a failed upload the caller still owns the file and decides what to do with it.
    await rm(localFile, { force: true });
  }

  async copyIn(key: string, localFile: string, contentType: string): Promise<void> {
    await this.upload(key, localFile, contentType);
  }

  private async upload(key: string, localFile: string, contentType: string): Promise<void> {
    const objectKey = this.objectKeyOf(key);
    const { size } = await statFile(localFile);
    const body = createReadStream(localFile);
    try {
      if (size > this.multipartThreshold) {
        await new Upload({
          client: this.client,
          params: { Bucket: this.bucket, Key: objectKey, Body: body, ContentType: contentType },
          partSize: Math.max(MIN_PART_SIZE, Math.ceil(size / MAX_PARTS)),
          queueSize: UPLOAD_CONCURRENCY,
          // Parts of a failed upload are billed storage that nothing lists; abort them.
          leavePartsOnError: false,
        }).done();
      } else {
        await this.client.send(
          new PutObjectCommand({ Bucket: this.bucket, Key: objectKey, Body: body, ContentType: contentType, ContentLength: size }),
        );
      }
    } finally {
      body.destroy();
    }
  }

  async read(key: string, range?: ByteRange): Promise<AsyncIterable<Buffer>> {
    const response = await this.client.send(
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: this.objectKeyOf(key),
        Range: range ? `bytes=${range.start}-${range.end}` : undefined,
      }),
    );
    if (!(response.Body instanceof Readable)) throw new Error(`S3 returned no readable body for ${key}`);
    return response.Body;
  }

  async stat(key: string): Promise<StoredObjectInfo | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKeyOf(key) }));
      return { size: head.ContentLength ?? 0, lastModified: head.LastModified ?? new Date(0) };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(keys: string[]): Promise<void> {
    const objectKeys = keys.map((key) => this.objectKeyOf(key));
    for (let i = 0; i < objectKeys.length; i += DELETE_BATCH_SIZE) {
      const batch = objectKeys.slice(i, i + DELETE_BATCH_SIZE);
      const result = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      // DeleteObjects answers 200 even when some keys failed; missing keys are not failures.
      const failures = (result.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failures.length > 0) {
        const first = failures[0];
        throw new Error(`S3 could not delete ${failures.length} object(s), first ${first.Key}: ${first.Code} ${first.Message ?? ''}`.trim());
      }
    }
  }

  async checkHealth(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  /** Keys under a folder-like prefix, as with the local driver: `images/2024` does not match `images/2024x/…`. */
  async *list(prefix: string): AsyncIterable<string> {
    const folder = prefix.replace(/^\/+|\/+$/g, '');
    const listPrefix = folder ? `${this.objectKeyOf(folder)}/` : this.keyPrefix;
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: listPrefix || undefined,
          ContinuationToken: continuationToken,
        }),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key?.startsWith(this.keyPrefix)) yield object.Key.slice(this.keyPrefix.length);
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
