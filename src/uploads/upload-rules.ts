import { errors } from '../core/errors.js';
import type { PublicIdCodec } from '../core/public-id.js';
import { findAlbumById } from '../db/repositories/albums.js';
import { parseExpiration } from '../ingest/expiration.js';
import { maxBytesFor, type Admission, type IngestServices, type Uploader } from '../ingest/ingest-upload.js';
import { uploadOptionsFor, type RawParams } from './upload-params.js';

/**
 * THE rules an upload meets before its first byte is read, once for every door (`runUpload`
 * calls this; the resumable door also at creation, so a 300 MB upload to an album that isn't
 * yours fails in the first request instead of after the last one):
 * 1. the parameters parse (text limits, ids, flags: a 400 naming the parameter; `use_file_date`
 *    only for administrators);
 * 2. a size the door already knows (a spooled file, tus' Upload-Length) is within the uploader's
 *    limit, and not empty;
 * 3. `expiration` parses; a guest's files expire no later than SHOEBOX_GUEST_EXPIRATION;
 * 4. the album is the uploader's;
 * 5. moderation (`beforeBytes`): the address is not banned, no stop word, the flood limits hold
 *    (and this upload is counted, unless `countFlood` is false: a resumable upload was counted
 *    when it was created), and whether it waits for approval.
 * Who may upload at all (a key, a session, a guest rule) is the door's `Uploader`, decided before.
 */
export interface UploadRulesRequest {
  uploader: Uploader;
  params: RawParams;
  /** The size in bytes, when the door knows it before reading the bytes. */
  size?: number;
  countFlood?: boolean;
}

export async function admitUpload(services: IngestServices & { ids: PublicIdCodec }, request: UploadRulesRequest): Promise<Admission> {
  const { settings } = services;
  const { uploader, size } = request;
  const options = uploadOptionsFor(request.params, services.ids, uploader);
  const limit = maxBytesFor(settings, uploader);
  if (size !== undefined && size > limit) throw errors.tooBig(limit);
  if (size === 0) throw errors.emptySource();
  const now = new Date();
  const asked = options.expiration ? parseExpiration(options.expiration, now, settings.maxExpirationSeconds) : null;
  const guestLimit = !uploader.user && settings.guestExpirationSeconds > 0 ? new Date(now.getTime() + settings.guestExpirationSeconds * 1000) : null;
  const expiresAt = guestLimit && (!asked || guestLimit < asked) ? guestLimit : asked;
  let album = null;
  if (options.albumId !== null && options.albumId !== undefined) {
    album = (await findAlbumById(services.db, options.albumId)) ?? null;
    if (!album) throw errors.notFound('Album not found');
    if (!uploader.user || album.user_id !== uploader.user.id) throw errors.forbidden("You can't upload to that album");
  }
  const texts = [options.title, options.description, ...(options.tags ?? [])];
  const { hold } = await services.moderation.beforeBytes(uploader, texts, { countFlood: request.countFlood !== false });
  return { options, album, hold, expiresAt };
}
