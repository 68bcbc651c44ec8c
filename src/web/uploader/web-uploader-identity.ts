import type { FastifyRequest } from 'fastify';
import type { AppContext } from '../../context.js';
import { errors, ShoeboxError } from '../../core/errors.js';
import { authenticateApiKey } from '../../db/repositories/named-api-keys.js';
import type { Uploader } from '../../ingest/ingest-upload.js';
import { getSessionUser } from '../session.js';

/**
 * Who is uploading through the web uploader's endpoints (resumable uploads, add by URL):
 * an `X-API-Key` header (scripts and tus clients), else the browser's session, else a guest
 * when the site lets visitors upload from the web. The key wins so a script is never
 * mistaken for whoever's cookie it happens to carry.
 */
export async function resolveWebUploader(ctx: AppContext, request: FastifyRequest): Promise<Uploader> {
  const header = request.headers['x-api-key'];
  const key = (Array.isArray(header) ? header[0] : header)?.trim();
  if (key) {
    if (ctx.settings.guestApiKey && key === ctx.settings.guestApiKey) return { user: null, ip: request.ip };
    const { user } = await authenticateApiKey(ctx.db, key, 'upload', request.ip);
    return { user, ip: request.ip };
  }
  const user = await getSessionUser(ctx, request);
  if (user) return { user, ip: request.ip };
  if (ctx.settings.guestWebUploads) return { user: null, ip: request.ip };
  throw new ShoeboxError(100, 401, 'Sign in to upload');
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
    throw errors.forbidden('Cross-site upload refused');
  }
  if (origin === new URL(ctx.settings.baseUrl).origin || originHost === request.headers.host) return;
  throw errors.forbidden('Cross-site upload refused');
}
