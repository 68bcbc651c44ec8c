import type { FastifyBaseLogger } from 'fastify';
import { asShoeboxError, errorEnvelope } from '../../api/error-envelope.js';
import { buildImageObject, cheveretoUploadResponse } from '../../api/image-response.js';
import { parseUploadOptions, type RawParams } from '../../api/upload-params.js';
import type { AppContext } from '../../context.js';
import { errors, ShoeboxError } from '../../core/errors.js';
import { findAlbumById } from '../../db/repositories/albums.js';
import { findUserById } from '../../db/repositories/users.js';
import { parseExpiration } from '../../ingest/expiration.js';
import { ingestUpload, maxBytesFor, type Uploader, type UploadOptions } from '../../ingest/ingest-upload.js';
import { stopWordRefused } from '../../moderation/stop-words.js';
import { OWNER_KEY, parseOwnerTag } from './resumable-files.js';

/**
 * From tus metadata to the ingest pipeline and back to the API's answer. The metadata carries
 * the same parameters as the API (title, description, tags, album_id, nsfw, expiration), so
 * they are parsed by the API's own parser and mean exactly the same thing.
 */

export interface Outcome {
  status: number;
  body: unknown;
}

function metadataParams(metadata: Record<string, string | null> | undefined): RawParams {
  const params: RawParams = {};
  for (const [k, v] of Object.entries(metadata ?? {})) if (v !== null && !k.startsWith('shoebox_')) params[k] = v;
  return params;
}

function optionsFor(ctx: AppContext, metadata: Record<string, string | null> | undefined, uploader: Uploader): UploadOptions {
  const options = parseUploadOptions(metadataParams(metadata), ctx.ids);
  if (options.useFileDate && !uploader.user?.is_admin) options.useFileDate = false;
  return options;
}

/**
 * Checks at creation what can be checked before a byte arrives, so a 300 MB upload to an
 * album that isn't yours fails in the first request instead of after the last one. The
 * pipeline checks all of it again when the upload finishes.
 */
export async function checkBeforeUpload(
  ctx: AppContext,
  uploader: Uploader,
  size: number | undefined,
  metadata: Record<string, string | null> | undefined,
): Promise<void> {
  if (size === undefined) throw errors.badParameter('Upload-Length', 'the size must be known when the upload starts');
  if (size === 0) throw errors.emptySource();
  const limit = maxBytesFor(ctx.settings, uploader);
  if (size > limit) throw errors.tooBig(limit);
  const options = optionsFor(ctx, metadata, uploader);
  // Bans, stop words and flood limits before the first byte (counted once, when the file is stored).
  await ctx.moderation.bans.assertNotBanned(uploader.ip);
  if ((await ctx.moderation.stopWords.verdict([options.title, options.description, ...(options.tags ?? [])]))?.action === 'refuse') throw stopWordRefused();
  await ctx.moderation.checkFlood(uploader, false);
  if (options.expiration) parseExpiration(options.expiration, new Date(), ctx.settings.maxExpirationSeconds);
  if (options.albumId !== null && options.albumId !== undefined) {
    const album = await findAlbumById(ctx.db, options.albumId);
    if (!album) throw errors.notFound('Album not found');
    if (!uploader.user || album.user_id !== uploader.user.id) throw errors.forbidden("You can't upload to that album");
  }
}

/** The uploader recorded at creation, as they are now (an account may have been deleted meanwhile). */
async function uploaderOf(ctx: AppContext, metadata: Record<string, string | null> | undefined, ip: string): Promise<Uploader> {
  const owner = parseOwnerTag(metadata?.[OWNER_KEY]);
  if (!owner) throw new ShoeboxError(100, 401, 'This upload has no owner');
  if (owner.kind === 'guest') return { user: null, ip };
  const user = await findUserById(ctx.db, owner.userId);
  if (!user) throw new ShoeboxError(100, 401, 'The account that started this upload no longer exists');
  return { user, ip };
}

/** Runs a complete upload's file through the one ingest pipeline; never throws, the error is the outcome. */
export async function ingestFinishedUpload(
  ctx: AppContext,
  log: FastifyBaseLogger,
  file: { path: string; metadata: Record<string, string | null> | undefined },
  ip: string,
): Promise<Outcome> {
  try {
    const uploader = await uploaderOf(ctx, file.metadata, ip);
    const options = optionsFor(ctx, file.metadata, uploader);
    const filename = file.metadata?.filename ?? file.metadata?.name ?? null;
    const result = await ingestUpload(ctx, { kind: 'file', path: file.path, filename }, uploader, options);
    log.info({ imageId: result.image.id, size: result.image.size, type: result.image.type }, 'resumable upload stored');
    const image = buildImageObject(result.image, result.tags, result.deleteSecret, { settings: ctx.settings, urls: ctx.urls });
    return { status: 200, body: cheveretoUploadResponse(image) };
  } catch (error) {
    const shoeboxError = asShoeboxError(error);
    if (shoeboxError.httpStatus >= 500) log.error({ err: error }, 'resumable upload failed');
    return { status: shoeboxError.httpStatus, body: errorEnvelope(shoeboxError) };
  }
}
