import { mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, ShoeboxError } from '../core/errors.js';
import type { AppContext } from '../context.js';
import { findUserByApiKey } from '../db/repositories/api-keys.js';
import { findTagsOfImage, type TagRow } from '../db/repositories/images.js';
import type { ImageRow } from '../db/schema.js';
import { ingestUpload, maxBytesFor, type Uploader } from '../ingest/ingest-upload.js';
import { removeQuietly, spoolStream, type SpooledFile } from '../ingest/spool.js';
import { classifyTextSource, type UploadSource } from '../ingest/upload-source.js';
import { asShoeboxError, sendApiError, type ResponseFormat } from './error-envelope.js';
import { buildImageObject, cheveretoUploadResponse, imgbbUploadResponse } from './image-response.js';
import { mergeParams, parseFormat, parseUploadOptions, type RawParams } from './upload-params.js';

/** Field names a file or text source may arrive under; `image` is imgbb's name and switches to its response shape. */
const SOURCE_FIELDS = ['source', 'image'] as const;

interface ReadBody {
  params: RawParams;
  file: { spooled: SpooledFile; filename: string | null; field: string } | null;
  spoolDir: string | null;
}

async function resolveUploader(ctx: AppContext, key: string | undefined, ip: string): Promise<Uploader> {
  const { settings } = ctx;
  if (!key) {
    if (settings.guestApiUploads) return { user: null, ip };
    throw errors.noKey();
  }
  if (settings.guestApiKey && key === settings.guestApiKey) return { user: null, ip };
  const user = await findUserByApiKey(ctx.db, key);
  if (!user) throw errors.invalidKey();
  return { user, ip };
}

function headerKey(request: FastifyRequest): string | undefined {
  const value = request.headers['x-api-key'];
  const key = Array.isArray(value) ? value[0] : value;
  return key?.trim() || undefined;
}

/**
 * Reads a multipart body in any field order. The file part is spooled to disk as it streams
 * (hashing and counting), so the options that come after it can still apply.
 */
async function readMultipart(ctx: AppContext, request: FastifyRequest): Promise<ReadBody> {
  const fields: Record<string, string> = {};
  let file: ReadBody['file'] = null;
  let spoolDir: string | null = null;
  const maxBytes = ctx.settings.maxUploadBytes;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        const isSource = (SOURCE_FIELDS as readonly string[]).includes(part.fieldname);
        if (!isSource || file) {
          part.file.resume();
          continue;
        }
        const tmpRoot = path.join(ctx.settings.dataDir, 'tmp');
        await mkdir(tmpRoot, { recursive: true });
        spoolDir = await mkdtemp(path.join(tmpRoot, 'api-'));
        const spooled = await spoolStream(part.file, spoolDir, maxBytes);
        if (part.file.truncated) throw errors.tooBig(maxBytes);
        // An empty file part (a form submitted with no file) counts as no file at all.
        if (spooled.size === 0 && !part.filename) continue;
        file = { spooled, filename: part.filename || null, field: part.fieldname };
      } else if (!(part.fieldname in fields)) {
        fields[part.fieldname] = String(part.value ?? '');
      }
    }
  } catch (error) {
    if (spoolDir) await removeQuietly(spoolDir);
    // busboy reports a broken body with plain Errors; file-system failures carry an errno code.
    if (error instanceof ShoeboxError || (error as NodeJS.ErrnoException).code?.startsWith('E')) throw error;
    throw new ShoeboxError(400, 400, `Malformed multipart body: ${(error as Error).message}`);
  }
  return { params: mergeParams(request.query, fields), file, spoolDir };
}

function sourceFrom(body: ReadBody): { source: UploadSource; field: string } {
  if (body.file) return { source: { kind: 'spooled', file: body.file.spooled, filename: body.file.filename }, field: body.file.field };
  for (const field of SOURCE_FIELDS) {
    const text = body.params[field];
    if (text !== undefined && text.trim() !== '') return { source: classifyTextSource(text), field };
  }
  throw errors.emptySource();
}

async function sendSuccess(
  ctx: AppContext,
  reply: FastifyReply,
  format: ResponseFormat,
  imgbbShape: boolean,
  image: ImageRow,
  tags: TagRow[],
  deleteSecret: string,
) {
  const object = buildImageObject(image, tags, deleteSecret, { settings: ctx.settings, urls: ctx.urls });
  // A file waiting for approval has no public file URL yet: its viewer page (the uploader's) instead.
  if (format === 'txt') return reply.type('text/plain; charset=utf-8').send(object.is_approved === 0 ? object.url_viewer : object.url);
  if (format === 'redirect') return reply.redirect(object.path_viewer, 302);
  return reply.type('application/json; charset=utf-8').send(imgbbShape ? imgbbUploadResponse(object, image) : cheveretoUploadResponse(object));
}

async function duplicateExtra(ctx: AppContext, error: ShoeboxError) {
  const existing = error.details?.existingImage as ImageRow | undefined;
  if (!existing) return undefined;
  const tags = await findTagsOfImage(ctx.db, existing.id);
  const object = buildImageObject(existing, tags, null, { settings: ctx.settings, urls: ctx.urls });
  return { image: { id_encoded: object.id_encoded, url: object.url, url_viewer: object.url_viewer, display_url: object.display_url, thumb: object.thumb } };
}

async function handleUpload(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  const queryParams = mergeParams(request.query, undefined);
  let format = parseFormat(queryParams.format);
  let body: ReadBody | null = null;
  try {
    // The header wins over any `key` and is checked before the body is read, so a bad key
    // is refused without taking in a large upload first.
    const keyFromHeader = headerKey(request);
    let uploader = keyFromHeader ? await resolveUploader(ctx, keyFromHeader, request.ip) : null;

    body = request.isMultipart()
      ? await readMultipart(ctx, request)
      : { params: mergeParams(request.query, request.body), file: null, spoolDir: null };
    format = parseFormat(body.params.format);
    uploader ??= await resolveUploader(ctx, body.params.key?.trim() || undefined, request.ip);

    const options = parseUploadOptions(body.params, ctx.ids);
    if (options.useFileDate && !uploader.user?.is_admin) options.useFileDate = false;
    const { source, field } = sourceFrom(body);
    if (body.file && body.file.spooled.size > maxBytesFor(ctx.settings, uploader)) throw errors.tooBig(maxBytesFor(ctx.settings, uploader));

    const result = await ingestUpload(ctx, source, uploader, options);
    request.log.info({ imageId: result.image.id, size: result.image.size, type: result.image.type }, 'upload stored');
    return await sendSuccess(ctx, reply, format, field === 'image', result.image, result.tags, result.deleteSecret);
  } catch (error) {
    const shoeboxError = asShoeboxError(error);
    if (shoeboxError.httpStatus >= 500) request.log.error({ err: error }, 'upload failed');
    const extra = shoeboxError.code === 101 ? await duplicateExtra(ctx, shoeboxError) : undefined;
    return sendApiError(reply, shoeboxError, format, extra);
  } finally {
    if (body?.spoolDir) await removeQuietly(body.spoolDir);
  }
}

export async function registerUploadApi(parent: FastifyInstance, ctx: AppContext): Promise<void> {
  await parent.register(async (app) => registerApiRoutes(app, ctx));
}

async function registerApiRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Bodies that fail to parse (bad JSON, oversized forms) still answer in the API's envelope.
  app.setErrorHandler((error, request, reply) => {
    const shoeboxError = asShoeboxError(error);
    if (shoeboxError.httpStatus >= 500) request.log.error({ err: error }, 'api error');
    return sendApiError(reply, shoeboxError, parseFormat(mergeParams(request.query, undefined).format));
  });
  const handler = (request: FastifyRequest, reply: FastifyReply) => handleUpload(ctx, request, reply);
  app.route({ method: ['GET', 'POST'], url: '/api/1/upload', handler });

  // Unknown versions and actions answer in the API's envelope, as Chevereto does.
  const unknown = (request: FastifyRequest<{ Params: { version: string } }>, reply: FastifyReply) => {
    const format = parseFormat(mergeParams(request.query, undefined).format);
    const version = request.params.version;
    return sendApiError(reply, version === '1' ? errors.invalidAction() : errors.invalidVersion(), format);
  };
  app.route({ method: ['GET', 'POST'], url: '/api/:version', handler: unknown });
  app.route({ method: ['GET', 'POST'], url: '/api/:version/*', handler: unknown });
}
