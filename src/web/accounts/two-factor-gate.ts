import type { FastifyReply, FastifyRequest } from 'fastify';
import { publicUrlOf, redirectTo, type Visitor, type WebKit } from '../web-kit.js';

/** What an admin without two-factor sign-in may still reach when the site requires it. */
const OPEN_PATHS = ['/settings/security', '/settings/2fa/start', '/settings/2fa/enable', '/logout', '/language', '/nsfw'];

/**
 * SHOEBOX_REQUIRE_2FA_FOR_ADMINS: an admin whose account has no two-factor sign-in is sent to
 * the security page, whatever they ask for, until it is on. Called by the site's onRequest
 * hook; true when it answered the request.
 */
export function requireTwoFactorSetup(kit: WebKit, visitor: Visitor, request: FastifyRequest, reply: FastifyReply): boolean {
  const user = visitor.user;
  if (!kit.ctx.settings.require2faForAdmins || !user || user.is_admin !== 1 || user.totp_enabled === 1) return false;
  const full = publicUrlOf(kit, request).split('?')[0];
  const pathname = kit.ctx.urls.basePath && full.startsWith(kit.ctx.urls.basePath) ? full.slice(kit.ctx.urls.basePath.length) || '/' : full;
  if (OPEN_PATHS.includes(pathname) || pathname.startsWith('/static/')) return false;
  void redirectTo(kit, reply, '/settings/security', 'two-factor-required');
  return true;
}
