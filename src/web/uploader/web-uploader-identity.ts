import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { errors } from '../../core/errors.js';
import type { Uploader } from '../../ingest/ingest-upload.js';
import { apiKeyHeader, uploaderFromKey } from '../../uploads/uploader.js';
import { getSessionUser } from '../session.js';

/**
 * Who is uploading through the web uploader's endpoints (resumable uploads, add by URL):
 * an `X-API-Key` header (scripts and tus clients), else the browser's session, else a guest
 * when the site lets visitors upload from the web. The key wins so a script is never
 * mistaken for whoever's cookie it happens to carry.
 */
export async function resolveWebUploader(ctx: AppContext, request: FastifyRequest): Promise<Uploader> {
  const key = apiKeyHeader(request.headers);
  if (key) return uploaderFromKey(ctx, key, request.ip, { guestsAllowed: false, refusal: errors.signInToUpload });
  const user = await getSessionUser(ctx, request);
  if (user) return { user, ip: request.ip };
  if (ctx.settings.guestWebUploads) return { user: null, ip: request.ip };
  throw errors.signInToUpload();
}

/**
 * Cross-site request forgery guard for the cookie-authenticated endpoints: a browser always
 * sends Origin on POST/PATCH/DELETE, and it must be this site. Scripts that send no Origin
 * authenticate with a key, which a forged request cannot carry.
 */
export function assertSameOrigin(ctx: AppContext, request: FastifyRequest): void {
  const origin = request.headers.origin;
  if (!origin || request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
  // The configured public origin, or the host the page was served from (a laptop reached as
  // 127.0.0.1 instead of localhost): a forged request comes from some other site's origin.
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw errors.crossSite();
  }
  if (origin === new URL(ctx.settings.baseUrl).origin || originHost === request.headers.host) return;
  throw errors.crossSite();
}
