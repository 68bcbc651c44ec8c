import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import parseRange from 'range-parser';
import type { AppContext } from '../context.js';
import { parseUtc } from '../core/dates.js';
import { localChangeCount, recentlyReadPerSite } from '../core/local-changes.js';
import { findImageByFile } from '../db/repositories/images.js';
import type { ImageRow } from '../db/schema.js';
import { mimeOfExtension } from '../media/formats.js';
import { recycleChunk } from '../storage/chunk-pool.js';
import { InMemory } from '../storage/storage.js';
import { objectKey, parseObjectPath, type FileRole } from '../storage/object-keys.js';
import { extensionOf, hasRole, sizeOf } from '../storage/image-files.js';
import { fileAccess, fileIsPublicAtOnce } from './access.js';
import { isExpired } from './live-images.js';
import { securityHeadersOf } from './security-headers.js';

const YEAR_SECONDS = 31_536_000;

interface ServedFile {
  key: string;
  size: number;
  mime: string;
  etag: string;
  lastModified: Date;
  /** Seconds a cache may keep it: a year, or until the file expires. */
  maxAge: number;
  image: ImageRow;
  /**
   * The whole answer's headers for anyone (the security headers, the file's own, Content-Length),
   * made once per lookup and written with one writeHead; X-Accel-Redirect's answer too.
   */
  publicHeaders: Readonly<Record<string, string>>;
  accelHeaders: Readonly<Record<string, string>> | null;
}

/** How long a file's row, once read, is taken as current without reading it again (see lookedUp). */
export const FILE_RECHECK_MS = 1000;
const FILES_REMEMBERED = 10_000;

interface LookedUp {
  file: ServedFile;
  /** When the file expires (ms), or null. */
  expiresMs: number | null;
}

/**
 * Files looked up moments ago, by path, per site. The lookup is a query per request, a large part
 * of what a request costs when nginx sends the bytes (SHOEBOX_ACCEL_REDIRECT): within
 * FILE_RECHECK_MS of reading a row, and only while nothing was written through this process since
 * (a delete, an edit, a move into a private album: core/local-changes.ts), the same row is used
 * again. Another instance's delete shows here within that second (and its bytes are gone at once,
 * so the read fails and the answer is a 404); expiry is checked on every request.
 */
const lookedUpOf = recentlyReadPerSite<LookedUp>(FILE_RECHECK_MS, FILES_REMEMBERED);

function maxAgeOf(expiresMs: number | null, now: number): number {
  return expiresMs === null ? YEAR_SECONDS : Math.max(0, Math.min(YEAR_SECONDS, Math.floor((expiresMs - now) / 1000)));
}

/** Looks the file up in the database (or takes the row read moments ago): unknown, deleted and expired files are never served. */
async function findServedFile(ctx: AppContext, rest: string, now: Date): Promise<ServedFile | null> {
  const remembered = lookedUpOf(ctx);
  const nowMs = now.getTime();
  const known = remembered.get(rest, nowMs);
  if (known) {
    if (known.expiresMs !== null && known.expiresMs <= nowMs) return null;
    return known.expiresMs === null ? known.file : withHeaders(ctx, { ...known.file, maxAge: maxAgeOf(known.expiresMs, nowMs) });
  }
  const parsed = parseObjectPath(rest);
  if (!parsed) return null;
  const changesBefore = localChangeCount();
  const image = await findImageByFile(ctx.db, parsed.folder, parsed.name);
  if (!image || !hasRole(image, parsed.role)) return null;
  if (extensionOf(image, parsed.role) !== parsed.extension) return null;
  if (isExpired(image, now)) return null;
  const expiresMs = image.expires_at ? parseUtc(image.expires_at).getTime() : null;
  const file = withHeaders(ctx, {
    key: objectKey(image, parsed.role),
    size: sizeOf(image, parsed.role),
    mime: parsed.role === 'image' ? image.mime : mimeOfExtension(parsed.extension),
    etag: `"${image.md5}${parsed.role === 'image' ? '' : `-${parsed.role}`}"`,
    lastModified: parseUtc(image.date_gmt),
    maxAge: maxAgeOf(expiresMs, nowMs),
    image,
  });
  remembered.remember(rest, { file, expiresMs }, nowMs, changesBefore);
  return file;
}

function publicCacheControl(maxAge: number): string {
  return maxAge >= YEAR_SECONDS ? `public, max-age=${YEAR_SECONDS}, immutable` : `public, max-age=${maxAge}`;
}

/** The file's headers as every answer about it carries them (security headers first, as the onRequest hook would set them). */
function fileHeaders(ctx: AppContext, file: Omit<ServedFile, 'publicHeaders' | 'accelHeaders'>, cacheControl: string): Record<string, string> {
  return {
    ...securityHeadersOf(ctx.settings),
    'content-type': file.mime,
    etag: file.etag,
    'last-modified': file.lastModified.toUTCString(),
    'cache-control': cacheControl,
    'accept-ranges': 'bytes',
    'x-content-type-options': 'nosniff',
  };
}

function withHeaders(ctx: AppContext, file: Omit<ServedFile, 'publicHeaders' | 'accelHeaders'>): ServedFile {
  const common = fileHeaders(ctx, file, publicCacheControl(file.maxAge));
  const accel = ctx.settings.accelRedirect;
  return {
    ...file,
    publicHeaders: Object.freeze({ ...common, 'content-length': String(file.size) }),
    // nginx keeps only Content-Type and Cache-Control (and a few others Shoebox does not send) from
    // an answer that carries X-Accel-Redirect, and adds its own Accept-Ranges: the rest would be
    // written and parsed for nothing (and Shoebox's Accept-Ranges came out twice, "bytes, bytes").
    accelHeaders: accel
      ? Object.freeze({ 'content-type': file.mime, 'cache-control': common['cache-control'], 'x-accel-redirect': `${accel}/${encodeURI(file.key)}`, 'content-length': '0' })
      : null,
  };
}

function isNotModified(request: FastifyRequest, file: ServedFile): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch) return ifNoneMatch.split(',').some((t) => t.trim() === file.etag || t.trim() === `W/${file.etag}` || t.trim() === '*');
  const since = request.headers['if-modified-since'];
  if (since) {
    const t = Date.parse(since);
    return !Number.isNaN(t) && Math.floor(file.lastModified.getTime() / 1000) <= Math.floor(t / 1000);
  }
  return false;
}

/** The Range to honour, 'unsatisfiable', or null for the whole file (If-Range that no longer matches included). */
function requestedRange(request: FastifyRequest, file: ServedFile): { start: number; end: number } | 'unsatisfiable' | null {
  const header = request.headers.range;
  if (!header) return null;
  const ifRangeHeader = request.headers['if-range'];
  const ifRange = Array.isArray(ifRangeHeader) ? ifRangeHeader[0] : ifRangeHeader;
  if (ifRange && ifRange !== file.etag && Date.parse(ifRange) !== Math.floor(file.lastModified.getTime() / 1000) * 1000) return null;
  const ranges = parseRange(file.size, header, { combine: true });
  if (ranges === -1) return 'unsatisfiable';
  if (ranges === -2 || ranges.type !== 'bytes' || ranges.length !== 1) return null;
  return { start: ranges[0].start, end: ranges[0].end };
}

function notFound(reply: FastifyReply) {
  return reply.code(404).type('text/plain; charset=utf-8').send('Not found');
}

async function serveFile(ctx: AppContext, request: FastifyRequest<{ Params: { '*': string } }>, reply: FastifyReply) {
  const file = await findServedFile(ctx, request.params['*'], new Date());
  // The route writes its own security headers (config.ownSecurityHeaders): the answers made through Fastify carry them here.
  if (!file) return notFound(reply.headers(securityHeadersOf(ctx.settings)));
  // Files of private and password albums only reach whoever may see the album, and no shared cache keeps them.
  const access = fileIsPublicAtOnce(file.image) ? 'public' : await fileAccess(ctx, request, file.image);
  if (access === 'refused') return notFound(reply.headers(securityHeadersOf(ctx.settings)));

  // The common case, a whole file for anyone (or nginx's X-Accel-Redirect answer): one precomputed
  // header object written at once, no Fastify header bookkeeping. A request whose body is still
  // unread goes the long way (server.ts closes its connection in an onSend hook).
  const conditional = request.headers['if-none-match'] !== undefined || request.headers['if-modified-since'] !== undefined;
  if (access === 'public' && !conditional && request.raw.complete) {
    if (file.accelHeaders) {
      reply.hijack();
      reply.raw.writeHead(200, file.accelHeaders);
      reply.raw.end();
      return;
    }
    if (request.headers.range === undefined) return sendWhole(ctx, request, reply, file, file.publicHeaders);
  }

  const headers = fileHeaders(ctx, file, access === 'restricted' ? `private, max-age=${Math.min(file.maxAge, 3600)}` : publicCacheControl(file.maxAge));
  reply.headers(headers);
  if (isNotModified(request, file)) return reply.code(304).send();
  // Behind nginx with SHOEBOX_ACCEL_REDIRECT: every rule above has been applied; nginx sends the
  // bytes (sendfile, ranges, its own ETag/Last-Modified for the file) and keeps Content-Type and
  // Cache-Control from this answer.
  if (ctx.settings.accelRedirect) {
    reply.header('X-Accel-Redirect', `${ctx.settings.accelRedirect}/${encodeURI(file.key)}`);
    // nginx adds its own (see withHeaders).
    reply.removeHeader('Accept-Ranges');
    return reply.code(200).send();
  }

  const range = requestedRange(request, file);
  if (range === 'unsatisfiable') {
    reply.header('Content-Range', `bytes */${file.size}`);
    return reply.code(416).type('text/plain; charset=utf-8').send('Range not satisfiable');
  }
  if (!range) return sendWhole(ctx, request, reply, file, { ...headers, 'content-length': String(file.size) });
  const length = range.end - range.start + 1;
  reply.header('Content-Length', length);
  reply.code(206);
  reply.header('Content-Range', `bytes ${range.start}-${range.end}/${file.size}`);
  if (request.method === 'HEAD') return reply.send();
  let chunks: AsyncIterable<Buffer>;
  try {
    chunks = await ctx.storage.read(file.key, range);
  } catch (error) {
    return storedFileMissing(request, reply, file, error);
  }
  reply.hijack();
  reply.raw.writeHead(reply.statusCode, reply.getHeaders() as OutgoingHttpHeaders);
  await sendChunks(request, reply.raw, chunks, file.key);
}

function storedFileMissing(request: FastifyRequest, reply: FastifyReply, file: ServedFile, error: unknown) {
  request.log.error({ err: error, key: file.key }, 'stored file missing');
  // The 404 is not the file: none of its headers (a year's immutable caching least of all).
  for (const name of ['Content-Length', 'Content-Range', 'ETag', 'Last-Modified', 'Cache-Control', 'Accept-Ranges']) reply.removeHeader(name);
  return notFound(reply);
}

/** The whole file with `headers` (Content-Length included): a hot file in one write, others chunk by chunk. */
async function sendWhole(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, file: ServedFile, headers: Readonly<Record<string, string>>) {
  if (request.method === 'HEAD') {
    reply.hijack();
    reply.raw.writeHead(200, headers);
    reply.raw.end();
    return;
  }
  let chunks: AsyncIterable<Buffer>;
  try {
    // The whole file as a range: its size is known from the row, so the storage need not look it up.
    chunks = await ctx.storage.read(file.key, file.size > 0 ? { start: 0, end: file.size - 1 } : undefined);
  } catch (error) {
    reply.headers(securityHeadersOf(ctx.settings));
    return storedFileMissing(request, reply, file, error);
  }
  reply.hijack();
  reply.raw.writeHead(200, headers);
  if (chunks instanceof InMemory) reply.raw.end(chunks.bytes);
  else await sendChunks(request, reply.raw, chunks, file.key);
}

/** Resolves when the socket takes more bytes, or is gone. */
function writable(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}

/**
 * Writes the chunks straight to the socket, waiting for it to drain between chunks: no stream
 * piping, so a 1 MiB chunk costs one write (bench/serving.ts). A client that goes away ends the
 * read; a file that fails mid-way cuts the response short, so the client sees a broken download.
 */
async function sendChunks(request: FastifyRequest, response: ServerResponse, chunks: AsyncIterable<Buffer>, key: string): Promise<void> {
  try {
    for await (const chunk of chunks) {
      if (response.destroyed) break;
      // Once the socket has taken the bytes, the chunk's buffer serves the next read (storage/chunk-pool.ts).
      if (!response.write(chunk, () => recycleChunk(chunk))) await writable(response);
    }
    response.end();
  } catch (error) {
    request.log.error({ err: error, key }, 'reading a stored file failed while sending it');
    response.destroy();
  }
}

export async function registerMediaFiles(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.route<{ Params: { '*': string } }>({
    method: ['GET', 'HEAD'],
    url: '/images/*',
    exposeHeadRoute: false,
    config: { ownSecurityHeaders: true },
    handler: async (request, reply) => {
      try {
        return await serveFile(ctx, request, reply);
      } catch (error) {
        // Fastify answers the error: with the security headers, as every answer.
        if (!reply.raw.headersSent) reply.headers(securityHeadersOf(ctx.settings));
        throw error;
      }
    },
  });
}
