import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { confirmEmailLink, findEmailLink } from '../../accounts/email-links.js';
import { redirectTo, renderPage, visitorOf, type WebKit } from '../web-kit.js';
import { ACCOUNT_WINDOW_SECONDS } from './account-kit.js';
import { formRoute } from '../form-schemas.js';

const TRIES_PER_IP = 30;

/**
 * /email/confirm/<token>: the page behind an emailed link. Opening it only shows what it will
 * do; a button (a POST) does it, so mail scanners that open links spend nothing.
 */
export async function registerEmailRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  const render = (request: FastifyRequest, reply: FastifyReply, data: Record<string, unknown>, status = 200) => {
    reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
    return renderPage(kit, request, reply, 'accounts/email-confirm', { title: visitorOf(request).t('accounts.email.confirm-title'), noindex: true, ...data }, status);
  };
  const throttled = async (request: FastifyRequest) => (await ctx.hits.hit(`email-link:ip:${request.ip}`, ACCOUNT_WINDOW_SECONDS)) > TRIES_PER_IP;

  app.get<{ Params: { token: string } }>('/email/confirm/:token', async (request, reply) => {
    if (await throttled(request)) return render(request, reply, { pending: null, tooMany: true }, 429);
    const pending = await findEmailLink(ctx, request.params.token);
    return render(request, reply, { pending: pending ? { purpose: pending.purpose, email: pending.email } : null, token: request.params.token }, pending ? 200 : 410);
  });

  app.post<{ Params: { token: string } }>('/email/confirm/:token', formRoute([]), async (request, reply) => {
    if (await throttled(request)) return render(request, reply, { pending: null, tooMany: true }, 429);
    const outcome = await confirmEmailLink(ctx, request.params.token);
    if (!outcome) return render(request, reply, { pending: null }, 410);
    if (outcome.result === 'taken') return render(request, reply, { pending: null, taken: true }, 409);
    request.log.info({ userId: outcome.user.id, result: outcome.result }, 'email link used');
    const signedIn = visitorOf(request).user;
    if (outcome.result === 'changed') return redirectTo(kit, reply, signedIn ? '/settings/security' : '/login', 'email-changed');
    return redirectTo(kit, reply, signedIn ? '/settings' : '/login', 'email-verified');
  });
}
