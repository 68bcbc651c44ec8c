import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { bannedError } from '../moderation/ip-bans.js';
import { sendApiError } from '../uploads/envelope.js';

/**
 * IP bans at the front door: a banned address gets a 403 in the API's error envelope for
 * every API call and for every request that writes (POST/PUT/PATCH/DELETE: the web pages'
 * forms, the uploader's JSON endpoints, resumable uploads). Reading pages stays open.
 * The address is Fastify's `request.ip`, which honours X-Forwarded-For only from the
 * proxies SHOEBOX_TRUST_PROXY names.
 */
export function registerBanGuard(app: FastifyInstance, ctx: AppContext): void {
  const apiPrefixes = ['/api/', `${ctx.urls.basePath}/api/`];
  const check = async (request: FastifyRequest, reply: FastifyReply) => {
    const ban = await ctx.moderation.bans.banOf(request.ip);
    if (!ban) return;
    return sendApiError(reply, bannedError(ban), { headers: { 'Tus-Resumable': '1.0.0', 'Cache-Control': 'no-store' } });
  };
  // A callback hook, so a page or file read (the most requests) costs no promise here.
  app.addHook('onRequest', (request, reply, done) => {
    const reads = request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS';
    if (reads && !apiPrefixes.some((p) => request.url.startsWith(p))) return done();
    check(request, reply).then(() => done(), done);
  });
}
