import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import { checkTextLength, TEXT_LIMITS } from '../../core/text-limits.js';
import type { AppContext } from '../../context.js';
import { errors } from '../../core/errors.js';
import { moveImagesTo } from '../../library/image-edits.js';
import { createAlbumOf } from '../../library/album-edits.js';
import { runUpload } from '../../uploads/run-upload.js';
import { errorEnvelopeSchema, NEW_ALBUM_PRIVACIES, newAlbumBodySchema, newAlbumResponseSchema, uploadAnswerSchema, urlUploadBodySchema } from '../../uploads/schemas.js';
import { mergeParams, urlSourceOf } from '../../uploads/upload-params.js';
import { assertSameOrigin, resolveWebUploader } from './web-uploader-identity.js';

/**
 * The web uploader's two small JSON endpoints besides resumable uploads:
 * - `POST <base>/upload/url` {url, title, description, album_id, nsfw, expiration, tags}:
 *   "add by URL", the server fetches the file (same SSRF-safe fetcher and pipeline as the
 *   API) and answers with the API's JSON;
 * - `POST <base>/upload/album` {name, description, privacy, ids}: "create a new album with the
 *   content just uploaded", for a signed-in uploader's own files.
 * Both take a session (or an API key) and refuse cross-site requests by Origin; a JSON body
 * cannot be sent cross-site without a CORS preflight, which this site never grants.
 */
export const URL_UPLOAD_PATH = '/upload/url';
export const NEW_ALBUM_PATH = '/upload/album';

const MAX_IDS = 1000;

/** Runs before the schema: anything but a JSON object is a 415, whatever the schema would say. */
async function requireJson(request: FastifyRequest): Promise<void> {
  if (!String(request.headers['content-type'] ?? '').startsWith('application/json') || !request.body || typeof request.body !== 'object') {
    throw errors.jsonBodyRequired();
  }
}

async function uploadByUrl(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  assertSameOrigin(ctx, request);
  const uploader = await resolveWebUploader(ctx, request);
  const params = mergeParams(undefined, request.body);
  const answer = await runUpload(ctx, { uploader, source: urlSourceOf(params), params, log: request.log, what: 'url upload stored' });
  return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
}

async function albumFromUploads(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  assertSameOrigin(ctx, request);
  const { user } = await resolveWebUploader(ctx, request);
  if (!user) throw errors.signInToCreateAlbums();
  const body = request.body as Static<typeof newAlbumBodySchema>;
  const name = body.name.trim();
  if (!name) throw errors.badParameter('name', 'an album needs a name');
  checkTextLength('name', name, TEXT_LIMITS.albumName);
  const description = body.description?.trim() || null;
  checkTextLength('description', description, TEXT_LIMITS.albumDescription);
  const privacy = body.privacy ?? 'public';
  const ids = (body.ids ?? []).slice(0, MAX_IDS).map((id) => ctx.ids.decode(id)).filter((id): id is number => id !== null);
  const album = await createAlbumOf(ctx.db, { userId: user.id, name, description, privacy }, ctx.moderation.screenFor(user));
  // Only the uploader's own files move; ids of anyone else's are ignored.
  const moved = await moveImagesTo(ctx.db, user.id, ids, album);
  return reply.type('application/json; charset=utf-8').send({
    status_code: 200,
    album: { id_encoded: ctx.ids.encode(album.id), name: album.name, privacy: album.privacy, url: ctx.urls.albumUrl(album.id) },
    moved,
    status_txt: 'OK',
  });
}

export async function registerUploaderJsonRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Failures (a refused schema included) are answered by the scope's envelopeErrorHandler (register-web-uploader.ts).
  const answer = (run: (ctx: AppContext, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      await run(ctx, request, reply);
    };
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    URL_UPLOAD_PATH,
    { preValidation: requireJson, schema: { body: urlUploadBodySchema, response: { 200: uploadAnswerSchema, '4xx': errorEnvelopeSchema, '5xx': errorEnvelopeSchema } } },
    answer(uploadByUrl),
  );
  typed.post(
    NEW_ALBUM_PATH,
    { preValidation: requireJson, schema: { body: newAlbumBodySchema, response: { 200: newAlbumResponseSchema, '4xx': errorEnvelopeSchema } } },
    answer(albumFromUploads),
  );
}
