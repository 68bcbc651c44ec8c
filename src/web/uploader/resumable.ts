import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server as TusServer, Upload } from '@tus/server';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { errors } from '../../core/errors.js';
import { failureAnswer, sendApiError, type FailureLog } from '../../uploads/envelope.js';
import { readResumableResult, type ResumableResult } from '../../db/repositories/resumable-uploads.js';
import type { ResumableStore } from '../../ingest/resumable-store.js';
import { maxBytesFor, type Uploader } from '../../ingest/ingest-upload.js';
import { ADDRESS_KEY, checkUnfinishedQuota, KeyedQueue, quotaKeysOf } from './resumable-quota.js';
import { checkBeforeUpload, finishResumableUpload, type Outcome } from './resumable-finish.js';
import {
  isResumableId,
  mayContinue,
  OWNER_KEY,
  ownerTag,
  parseOwnerTag,
} from './resumable-files.js';
import { assertSameOrigin, resolveWebUploader } from './web-uploader-identity.js';

/**
 * Resumable uploads (the tus protocol, https://tus.io) for big files and flaky links:
 * `POST <base>/upload/tus` creates an upload, `PATCH <base>/upload/tus/<id>` sends a chunk,
 * `HEAD` tells a client where to resume. Chunks stay below the size limits of proxies in
 * front of the site (SHOEBOX_CHUNK_SIZE). The last chunk's answer is the API's JSON for the
 * stored file (the upload went through the one ingest pipeline), also kept for
 * `GET <base>/upload/tus/<id>/result`. Unfinished uploads expire after
 * SHOEBOX_RESUMABLE_EXPIRY seconds (`removeExpiredResumableUploads` in ingest/resumable-parts.ts,
 * run by the background jobs).
 *
 * Where the parts live is ingest/resumable-store.ts: the local data folder, or with S3 storage
 * the bucket, with tus' record of each upload, the one-writer lease and the finished answer in
 * the database, so with several instances any of them can take any request of an upload.
 */
export const RESUMABLE_PATH = '/upload/tus';

/**
 * What Fastify decided about a request before tus sees it: who sent it and, for a request about
 * one upload, that upload's id (read once from the routed path, owner checked on it). tus is
 * handed this id (`getFileIdFromRequest`) instead of parsing the URL again, so the upload whose
 * owner was checked is the upload that is read, written or cancelled.
 */
interface CheckedRequest {
  uploader: Uploader;
  uploadId?: string;
}

interface ResumableUploads {
  tus: TusServer;
  store: ResumableStore;
  /** Each request being handled, as checked by Fastify before tus sees it. */
  requests: WeakMap<IncomingMessage, CheckedRequest>;
  /** Ingests a complete upload (once) and keeps its answer. */
  finish(upload: Upload, ip: string): Promise<Outcome>;
}

/**
 * One tus server per running site, even when the routes are mounted twice (with and without the
 * base path), made on the site's first resumable upload request: @tus/server and the store are
 * loaded then, not at start.
 */
const perContext = new WeakMap<AppContext, Promise<ResumableUploads>>();

/** What tus hooks throw to answer with a status and body: the envelope of `failureAnswer`, the one mapper. */
function tusError(thrown: unknown, log?: FailureLog) {
  const { status, body } = failureAnswer(thrown, log);
  return { status_code: status, body: JSON.stringify(body) };
}

/** The Node request behind the web Request that tus hands to its hooks. */
function nodeRequestOf(req: Request): IncomingMessage | undefined {
  return (req as Request & { runtime?: { node?: { req?: IncomingMessage } } }).runtime?.node?.req;
}

function resumableUploadsOf(ctx: AppContext, log: FastifyBaseLogger): Promise<ResumableUploads> {
  let uploads = perContext.get(ctx);
  if (!uploads) {
    uploads = createResumableUploads(ctx, log);
    perContext.set(ctx, uploads);
    // A failed start (a module or the store that would not load) is tried again by the next request.
    uploads.catch(() => perContext.delete(ctx));
  }
  return uploads;
}

async function createResumableUploads(ctx: AppContext, log: FastifyBaseLogger): Promise<ResumableUploads> {
  const [{ ERRORS, Server: TusServer }, { createResumableStore }] = await Promise.all([import('@tus/server'), import('../../ingest/resumable-store.js')]);
  const { settings } = ctx;
  const requests = new WeakMap<IncomingMessage, CheckedRequest>();
  const checkedOf = (req: Request): CheckedRequest | undefined => {
    const node = nodeRequestOf(req);
    return node ? requests.get(node) : undefined;
  };
  const requesterOf = (req: Request): Uploader => {
    const uploader = checkedOf(req)?.uploader;
    if (!uploader) throw tusError(errors.signInToUpload());
    return uploader;
  };
  const store = await createResumableStore(settings, ctx.db);
  // A finished upload is ingested once, even when a client repeats its last PATCH meanwhile:
  // on this instance by sharing the running promise, across instances by a claim in the database.
  const finishing = new Map<string, Promise<Outcome>>();

  const finish = (upload: Upload, ip: string): Promise<Outcome> => {
    let running = finishing.get(upload.id);
    if (!running) {
      running = finishResumableUpload(ctx, log, store, upload, ip).finally(() => finishing.delete(upload.id));
      finishing.set(upload.id, running);
    }
    return running;
  };

  const tus = new TusServer({
    path: RESUMABLE_PATH,
    datastore: store.datastore,
    locker: store.locker,
    // OPTIONS (protocol discovery) has no uploader: it is told the site's largest size.
    maxSize: (req) => {
      const uploader = checkedOf(req)?.uploader;
      return uploader ? maxBytesFor(settings, uploader) : settings.maxUploadBytes;
    },
    // Browsers may only call it from this site's pages; scripts send no Origin and use a key.
    allowedOrigins: (origin) => origin === new URL(settings.baseUrl).origin,
    allowedCredentials: true,
    allowedHeaders: ['X-API-Key'],
    // A path, not a URL: tus clients resolve it against the endpoint they called, so a site reached
    // under another host name (127.0.0.1 for localhost) keeps talking to that host.
    generateUrl: (_req, { id }) => `${ctx.urls.basePath}${RESUMABLE_PATH}/${id}`,
    // Never the URL's last segment (which includes the query string): the id Fastify routed and checked.
    getFileIdFromRequest: (req) => checkedOf(req)?.uploadId,
    async onUploadCreate(req, upload) {
      const uploader = requesterOf(req);
      try {
        // The rules every upload meets before its first byte (the flood count included), then the cap
        // on what one account or address may hold unfinished.
        await checkBeforeUpload(ctx, uploader, upload.size, upload.metadata);
        await checkUnfinishedQuota(store, settings, uploader, upload.size ?? 0);
      } catch (error) {
        throw tusError(error, log);
      }
      const metadata: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(upload.metadata ?? {})) if (!k.startsWith('shoebox_')) metadata[k] = v;
      metadata[OWNER_KEY] = ownerTag(uploader);
      metadata[ADDRESS_KEY] = uploader.ip;
      return { metadata };
    },
    async onUploadFinish(req, upload) {
      const outcome = await finish(upload, requesterOf(req).ip);
      const body = JSON.stringify(outcome.body);
      if (outcome.status !== 200) throw { status_code: outcome.status, body };
      return { status_code: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body };
    },
    async onResponseError(req, error) {
      // tus' own size check answers in the API's words, with this uploader's limit.
      if (error === ERRORS.ERR_MAX_SIZE_EXCEEDED) {
        const uploader = checkedOf(req)?.uploader;
        return tusError(errors.tooBig(uploader ? maxBytesFor(settings, uploader) : settings.maxUploadBytes));
      }
      return undefined;
    },
  });
  return { tus, store, requests, finish };
}

/** Upload-Metadata without the site's own keys (`shoebox_owner`, `shoebox_address`: who and from where). */
function publicMetadata(value: string): string {
  return value
    .split(',')
    .filter((pair) => !pair.trim().split(' ')[0].startsWith('shoebox_'))
    .join(',');
}

/**
 * tus answers a HEAD with the upload's metadata as stored, which includes the owner tag and the
 * client's address this site adds at creation (onUploadCreate): those stay on the server.
 */
function hideInternalMetadata(res: ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
  const clean = (headers: unknown): unknown => {
    if (headers instanceof Headers) {
      const copy = new Headers(headers);
      const meta = copy.get('upload-metadata');
      if (meta !== null) copy.set('upload-metadata', publicMetadata(meta));
      return Object.fromEntries(copy.entries());
    }
    if (Array.isArray(headers)) {
      if (headers.every((entry) => Array.isArray(entry))) {
        return (headers as [string, string][]).map(([name, value]) => [name, name.toLowerCase() === 'upload-metadata' ? publicMetadata(String(value)) : value]);
      }
      return headers.map((value, i) => (i % 2 === 1 && String(headers[i - 1]).toLowerCase() === 'upload-metadata' ? publicMetadata(String(value)) : value));
    }
    if (headers && typeof headers === 'object') {
      return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, name.toLowerCase() === 'upload-metadata' ? publicMetadata(String(value)) : value]));
    }
    return headers;
  };
  res.writeHead = ((...args: unknown[]) => {
    const at = args.length > 1 && typeof args[1] !== 'string' ? 1 : 2;
    if (args.length > at) args[at] = clean(args[at]);
    const set = res.getHeader('upload-metadata');
    if (set !== undefined) res.setHeader('upload-metadata', publicMetadata(String(set)));
    return writeHead(...args);
  }) as ServerResponse['writeHead'];
}

function sendError(reply: FastifyReply, error: unknown) {
  // Tus-Resumable on every answer, or tus clients report a protocol error instead of ours.
  return sendApiError(reply, error, { headers: { 'Tus-Resumable': '1.0.0' } });
}

export async function registerResumableUploads(parent: FastifyInstance, ctx: AppContext): Promise<void> {
  await parent.register(async (app) => {
    const uploadsOf = () => resumableUploadsOf(ctx, app.log);
    const creations = new KeyedQueue();
    // tus reads the request body itself, as a stream: Fastify must not parse (or buffer) it.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));

    const handle = async (request: FastifyRequest<{ Params: { id?: string } }>, reply: FastifyReply) => {
      const uploads = await uploadsOf();
      if (request.method !== 'OPTIONS') {
        try {
          assertSameOrigin(ctx, request);
          const uploader = await resolveWebUploader(ctx, request);
          const uploadId = request.params.id;
          if (uploadId !== undefined) {
            if (!isResumableId(uploadId)) throw errors.notFound('Upload not found');
            const info = await uploads.store.describe(uploadId);
            // Someone else's upload is answered exactly like one that doesn't exist.
            if (info && !mayContinue(parseOwnerTag(info.metadata?.[OWNER_KEY]), uploader)) throw errors.notFound('Upload not found');
          }
          uploads.requests.set(request.raw, { uploader, uploadId });
        } catch (error) {
          return sendError(reply, error);
        }
      }
      reply.hijack();
      try {
        // Creations of one account, and of one address, one at a time: the quota checks and the new
        // upload's record on disk must not interleave with another creation's.
        const checked = uploads.requests.get(request.raw);
        if (request.method === 'POST' && checked) {
          await creations.runAll(quotaKeysOf(checked.uploader), () => uploads.tus.handle(request.raw, reply.raw));
        } else {
          if (request.method === 'HEAD') hideInternalMetadata(reply.raw);
          await uploads.tus.handle(request.raw, reply.raw);
        }
      } catch (error) {
        request.log.error({ err: error }, 'resumable upload request failed');
        if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'Content-Type': 'text/plain' });
        reply.raw.end();
      }
    };
    const methods = ['POST', 'PATCH', 'HEAD', 'DELETE', 'OPTIONS'] as const;
    app.route({ method: [...methods], url: RESUMABLE_PATH, handler: handle });
    app.route({ method: [...methods], url: `${RESUMABLE_PATH}/:id`, handler: handle });

    // The answer of a finished upload, for clients that lost the last PATCH's response. An upload
    // whose bytes all arrived but that was never ingested (the server went down in between, and
    // a resuming client found nothing left to send) is ingested now.
    app.get<{ Params: { id: string } }>(`${RESUMABLE_PATH}/:id/result`, async (request, reply) => {
      try {
        const uploader = await resolveWebUploader(ctx, request);
        const { id } = request.params;
        let outcome: ResumableResult | null = isResumableId(id) ? await readResumableResult(ctx.db, id) : null;
        if (!outcome && isResumableId(id)) {
          const uploads = await uploadsOf();
          const upload = await uploads.store.describe(id);
          if (upload && upload.size !== undefined && mayContinue(parseOwnerTag(upload.metadata?.[OWNER_KEY]), uploader)) {
            const current = await uploads.store.datastore.getUpload(id).catch(() => null);
            if (current && current.offset === current.size) {
              outcome = { owner: upload.metadata?.[OWNER_KEY] ?? '', ...(await uploads.finish(current, uploader.ip)) };
            }
          }
        }
        if (!outcome || !mayContinue(parseOwnerTag(outcome.owner), uploader)) throw errors.notFound('No finished upload with this id');
        return reply.code(outcome.status).header('Cache-Control', 'no-store').type('application/json; charset=utf-8').send(outcome.body);
      } catch (error) {
        return sendError(reply, error);
      }
    });
  });
}
