import type { FastifyInstance, FastifyReply, FastifyRequest, SafePromiseLike } from 'fastify';
import { errors } from '../core/errors.js';
import type { AppContext } from '../context.js';
import { removeQuietly } from '../ingest/spool.js';
import type { Uploader } from '../ingest/ingest-upload.js';
import { envelopeErrorHandler, sendApiError, type ResponseFormat } from '../uploads/envelope.js';
import { runUpload, uploadFailure, type UploadAnswer } from '../uploads/run-upload.js';
import type { TSchema } from 'typebox';
import { loadedValue, loadValue, uploadBodyProblem, uploadBodySchema, uploadQuerySchema, V1_ERROR_STATUSES, V1UploadAnswer } from '../uploads/schemas.js';
import { apiKeyHeader, uploaderFromKey } from '../uploads/uploader.js';
import { liveTextBodyLimit, TEXT_BODY_ROUTE_LIMIT } from '../uploads/text-body-limit.js';
import { readUploadBody, registerStreamedUploadBodies, uploadSourceOf, type UploadBody } from '../uploads/upload-body.js';
import { mergeParams, parseFormat, shapeOfField } from '../uploads/upload-params.js';

/**
 * Chevereto's API V1 door: `/api/1/upload` (GET or POST; parameters in the query string, a
 * form, JSON or multipart, the body winning). It reads the key and the body, then hands the
 * upload to the contract (`uploads/run-upload.ts`) and sends the answer in the asked format.
 */

/** The API's guest rule: no key is a guest when the site allows guest API uploads. */
function apiUploader(ctx: AppContext, key: string | undefined, ip: string) {
  return uploaderFromKey(ctx, key, ip, { guestsAllowed: ctx.settings.guestApiUploads, refusal: errors.noKey });
}

/** The contract's answer in the asked format: JSON (the default), the URL or error message as text, or a redirect to the viewer. */
function sendAnswer(reply: FastifyReply, format: ResponseFormat, answer: UploadAnswer) {
  // A file waiting for approval has no public file URL yet: its viewer URL (the uploader's page) instead.
  if (format === 'txt') return reply.code(answer.status).type('text/plain; charset=utf-8').send((answer.image?.is_approved === 0 ? answer.image.url_viewer : answer.image?.url) ?? answer.error?.message);
  if (format === 'redirect' && answer.image) return reply.redirect(answer.image.path_viewer, 302);
  return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
}

/** The uploader named by the X-API-Key header, resolved before the body is read (onRequest hook below). */
const headerUploaders = new WeakMap<FastifyRequest, Uploader>();

async function handleUpload(ctx: AppContext, request: FastifyRequest, reply: FastifyReply) {
  let format = parseFormat(mergeParams(request.query, undefined).format);
  let body: UploadBody | null = null;
  try {
    // The header's uploader, resolved before the body was read (the route's onRequest hook).
    const headerUploader = headerUploaders.get(request) ?? null;
    // A key in the query string, or in the body before the source, is checked before the source
    // is read: a bad one is refused without taking in the file. A key after the source is checked
    // once the body is in (the source meanwhile streamed to disk, never held in memory).
    let keyBeforeSource: { key: string; uploader: Uploader } | null = null;
    body = await readUploadBody(ctx.settings, request, 'api-', {
      beforeSource: async (paramsSoFar) => {
        const key = paramsSoFar.key?.trim();
        if (headerUploader || !key) return;
        keyBeforeSource = { key, uploader: await apiUploader(ctx, key, request.ip) };
      },
    });
    format = parseFormat(body.params.format);
    // The body's fields, read from the stream, against the schema the route declares for it.
    const problem = await uploadBodyProblem(body.params);
    if (problem) throw errors.badParameter(problem.field, problem.message);
    const early = keyBeforeSource as { key: string; uploader: Uploader } | null;
    const uploader = headerUploader ?? (early && early.key === body.params.key?.trim() ? early.uploader : await apiUploader(ctx, body.params.key, request.ip));
    const { source, field } = uploadSourceOf(body);
    const answer = await runUpload(ctx, { uploader, source, params: body.params, shape: shapeOfField(field), log: request.log });
    return await sendAnswer(reply, format, answer);
  } catch (error) {
    return sendAnswer(reply, format, await uploadFailure(ctx, error, request.log));
  } finally {
    if (body?.spoolDir) await removeQuietly(body.spoolDir);
  }
}

/**
 * A route part checked with TypeBox: `true`, or the error answered in the envelope. TypeBox's
 * checker is loaded by the first request that needs it (uploads/schemas.ts); until it is, the
 * check is a promise, which Fastify awaits (it rejects with the same error).
 */
function checkWithTypeBox(schema: TSchema, part: string) {
  const check = (Value: NonNullable<ReturnType<typeof loadedValue>>, data: unknown) =>
    Value.Check(schema, data) ? true : { error: errors.badParameter(part, [...Value.Errors(schema, data)][0]?.message ?? 'invalid') };
  return (data: unknown) => {
    const Value = loadedValue();
    if (Value) return check(Value, data);
    return loadValue().then((loaded) => {
      const result = check(loaded, data);
      if (result !== true) throw result.error;
      return true;
    }) as unknown as SafePromiseLike<true>;
  };
}

export async function registerUploadApi(parent: FastifyInstance, ctx: AppContext): Promise<void> {
  await parent.register(async (app) => registerApiRoutes(app, ctx));
}

async function registerApiRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Form and JSON bodies reach the upload route as a stream (base64 in `source` is decoded to disk as it arrives).
  registerStreamedUploadBodies(app);
  // Bodies that fail to parse (bad JSON, oversized forms) still answer in the API's envelope.
  app.setErrorHandler(envelopeErrorHandler({
    format: (request) => parseFormat(mergeParams(request.query, undefined).format),
    // On this route a body over its limit is a base64 file over the upload size.
    map: (error) => ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? errors.tooBig(ctx.settings.maxUploadBytes) : error),
  }));
  const handler = (request: FastifyRequest, reply: FastifyReply) => handleUpload(ctx, request, reply);
  // One description for both methods: the query string (both), the body (POST), the answers
  // (JSON in Chevereto's or imgbb's shape, or the error envelope; txt and redirect are not JSON).
  const errorAnswers = Object.fromEntries(V1_ERROR_STATUSES.map((status) => [status, { $ref: 'ErrorEnvelope#' }]));
  const describe = (method: 'GET' | 'POST') => ({
    tags: ['upload'],
    summary: method === 'POST' ? 'Uploads a file (Chevereto API V1.1)' : 'Uploads a file given by URL or base64 in the query string (Chevereto API V1.1)',
    security: [{ apiKey: [] }, {}] as Record<string, string[]>[],
    querystring: uploadQuerySchema,
    ...(method === 'POST'
      ? { body: { content: Object.fromEntries(['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'].map((type) => [type, { schema: uploadBodySchema }])) } }
      : {}),
    response: { 200: { description: 'the uploaded file', content: { 'application/json': { schema: V1UploadAnswer } } }, ...errorAnswers },
  });
  for (const method of ['GET', 'POST'] as const) {
    app.route({
      method,
      url: '/api/1/upload',
      // The one route here that takes a file in a text body (base64 in a form or JSON field); any other
      // body is small (server.ts). Multipart, form and JSON bodies are streamed to disk as they arrive,
      // base64 decoded on the way (uploads/upload-body.ts), stopping at this limit.
      schema: describe(method),
      // The query string is checked here; the body arrives as a stream (form, multipart) and is checked
      // against the same uploadBodySchema once read (handleUpload), so Fastify does not look at it.
      validatorCompiler: ({ schema, httpPart }) => (httpPart === 'body' ? () => true : checkWithTypeBox(schema as TSchema, httpPart ?? 'input')),
      // The upload size as it is now (the dashboard may change it while the site runs).
      bodyLimit: TEXT_BODY_ROUTE_LIMIT,
      preParsing: liveTextBodyLimit(ctx.settings),
      // The header wins over any `key` and is checked before the body is read, so a bad key is
      // refused without taking in a large upload first.
      onRequest: async (request) => {
        const key = apiKeyHeader(request.headers);
        if (key) headerUploaders.set(request, await apiUploader(ctx, key, request.ip));
      },
      handler,
    });
  }

  // Unknown versions and actions answer in the API's envelope, as Chevereto does.
  const unknown = (request: FastifyRequest<{ Params: { version: string } }>, reply: FastifyReply) => {
    const format = parseFormat(mergeParams(request.query, undefined).format);
    const version = request.params.version;
    return sendApiError(reply, version === '1' ? errors.invalidAction() : errors.invalidVersion(), { format });
  };
  app.route({ method: ['GET', 'POST'], url: '/api/:version', handler: unknown });
  app.route({ method: ['GET', 'POST'], url: '/api/:version/*', handler: unknown });
}
