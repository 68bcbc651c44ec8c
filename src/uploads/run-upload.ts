import type { ShoeboxError } from '../core/errors.js';
import type { PublicIdCodec } from '../core/public-id.js';
import type { SiteUrls } from '../core/site-urls.js';
import { findTagsOfImage } from '../db/repositories/images.js';
import type { ImageRow } from '../db/schema.js';
import { ingestUpload, type IngestServices, type Uploader } from '../ingest/ingest-upload.js';
import type { UploadSource } from '../ingest/upload-source.js';
import { asShoeboxError, failureAnswer, type Answer } from './envelope.js';
import { buildImageObject, cheveretoUploadResponse, imgbbUploadResponse, type ImageObject } from './image-object.js';
import { type AnswerShape, type RawParams } from './upload-params.js';
import { admitUpload } from './upload-rules.js';

/** What `runUpload` needs: the pipeline's services plus the id codec and the site's URLs for the answer. */
export interface UploadServices extends IngestServices {
  ids: PublicIdCodec;
  urls: SiteUrls;
}

/** Where a door logs (Fastify's logger fits). */
export interface UploadLog {
  info(facts: object, message: string): void;
  error(facts: object, message: string): void;
}

export interface UploadRequest {
  uploader: Uploader;
  source: UploadSource;
  /** Chevereto's parameters as the door received them (query+body, multipart fields, JSON, tus metadata). */
  params: RawParams;
  /** `imgbb` when the source came in the `image` field. */
  shape?: AnswerShape;
  log?: UploadLog;
  /** What the log line says was stored ("upload stored", "resumable upload stored"…). */
  what?: string;
  /**
   * The door let this upload in once already (a resumable upload, at its creation, through the
   * same `admitUpload`): the rules are checked again, but its flood count is not taken twice.
   */
  admittedBefore?: boolean;
}

/** The answer to send (status and JSON body), plus the image object or the error for doors that answer in other formats. */
export interface UploadAnswer extends Answer {
  image: ImageObject | null;
  error: ShoeboxError | null;
}

/**
 * One upload through the contract, for every door: parameters into options (admin-only rules
 * applied), the uploader's size limit, the one ingest pipeline, and the answer in Chevereto's
 * (or imgbb's) shape, or the error envelope. Never throws.
 */
export async function runUpload(services: UploadServices, request: UploadRequest): Promise<UploadAnswer> {
  try {
    const { uploader, source } = request;
    // The rules that need no bytes (a file already spooled by the door is measured among them), then the bytes.
    const size = source.kind === 'spooled' ? source.file.size : undefined;
    const admission = await admitUpload(services, { uploader, params: request.params, size, countFlood: !request.admittedBefore });
    const result = await ingestUpload(services, source, uploader, admission);
    request.log?.info({ imageId: result.image.id, size: result.image.size, type: result.image.type }, request.what ?? 'upload stored');
    const image = buildImageObject(result.image, result.tags, result.deleteSecret, services);
    const body = request.shape === 'imgbb' ? imgbbUploadResponse(image, result.image) : cheveretoUploadResponse(image);
    return { status: 200, body, image, error: null };
  } catch (error) {
    return uploadFailure(services, error, request.log);
  }
}

/**
 * The error answer of an upload that failed anywhere (also before `runUpload`: the key, the
 * body): the envelope, with the existing file's links for a refused duplicate.
 */
export async function uploadFailure(services: UploadServices, error: unknown, log?: UploadLog): Promise<UploadAnswer> {
  const shoeboxError = asShoeboxError(error);
  const extra = shoeboxError.errorName === 'duplicate' ? await duplicateExtra(services, shoeboxError) : undefined;
  return { ...failureAnswer(error, log, extra), image: null };
}

async function duplicateExtra(services: UploadServices, error: ShoeboxError) {
  const existing = error.details?.existingImage as ImageRow | undefined;
  if (!existing) return undefined;
  const tags = await findTagsOfImage(services.db, existing.id);
  const object = buildImageObject(existing, tags, null, services);
  return { image: { id_encoded: object.id_encoded, url: object.url, url_viewer: object.url_viewer, display_url: object.display_url, thumb: object.thumb } };
}
