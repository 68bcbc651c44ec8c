import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { deleteExpiredAccountTokens } from '../../db/repositories/account-tokens.js';
import { findPasswordResetUser, resetPasswordWithToken, sendPasswordResetEmail } from '../../accounts/password-reset.js';
import { MIN_PASSWORD_LENGTH } from '../routes/account-routes.js';
import { field, redirectTo, renderPage, visitorOf, type WebKit } from '../web-kit.js';
import { accountMailServices, ACCOUNT_WINDOW_SECONDS, sendInBackground } from './account-kit.js';
import { formRoute } from '../form-schemas.js';

const FORGOT_PER_IP = 10;
const FORGOT_PER_ADDRESS_PER_HOUR = 3;
const RESET_TRIES_PER_IP = 30;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * "Forgot password?": a link by email, used once, within the hour. The answer is the same page
 * whether or not the address has an account, and it does not wait for the mail server, so
 * neither its text nor its timing tells. Without SMTP the page says to ask the admin (who can
 * make a link in the dashboard: createPasswordResetLink).
 */
export async function registerPasswordResetRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const mail = accountMailServices(kit);

  const renderForgot = (request: FastifyRequest, reply: FastifyReply, data: { sent?: boolean; error?: string | null; email?: string }, status = 200) =>
    renderPage(kit, request, reply, 'accounts/forgot-password', {
      title: visitorOf(request).t('accounts.forgot.title'),
      mailEnabled: ctx.mailer.enabled,
      sent: data.sent ?? false,
      error: data.error ?? null,
      email: data.email ?? '',
      noindex: true,
    }, status);

  app.get('/password/forgot', async (request, reply) => renderForgot(request, reply, {}));

  app.post('/password/forgot', formRoute(['email']), async (request, reply) => {
    const { t } = visitorOf(request);
    if (!ctx.mailer.enabled) return renderForgot(request, reply, {}, 503);
    const email = field(request.body, 'email').trim().toLowerCase();
    if (!EMAIL_PATTERN.test(email) || email.length > 254) return renderForgot(request, reply, { email, error: t('signup.bad-email') }, 400);
    if ((await ctx.hits.hit(`forgot:ip:${request.ip}`, ACCOUNT_WINDOW_SECONDS)) > FORGOT_PER_IP) {
      reply.header('Retry-After', String(ACCOUNT_WINDOW_SECONDS));
      return renderForgot(request, reply, { email, error: t('login.too-many') }, 429);
    }
    // Per address: a few an hour, then silently none, so nobody can fill a mailbox with links.
    if ((await ctx.hits.hit(`forgot:address:${email}`, 3600)) <= FORGOT_PER_ADDRESS_PER_HOUR) {
      sendInBackground(request, 'password reset', async () => {
        await deleteExpiredAccountTokens(ctx.db);
        const result = await sendPasswordResetEmail(mail, email);
        request.log.info({ result }, 'password reset asked');
      });
    }
    return renderForgot(request, reply, { sent: true });
  });

  const renderReset = (request: FastifyRequest, reply: FastifyReply, data: { valid: boolean; token: string; error?: string | null }, status = 200) => {
    // The token is in the URL: keep it out of Referer headers and caches.
    reply.header('Cache-Control', 'no-store').header('Referrer-Policy', 'no-referrer');
    return renderPage(kit, request, reply, 'accounts/reset-password', {
      title: visitorOf(request).t('accounts.reset.title'),
      valid: data.valid,
      token: data.token,
      error: data.error ?? null,
      minPassword: MIN_PASSWORD_LENGTH,
      noindex: true,
    }, status);
  };

  /** Guessing tokens is hopeless (256 bits), but each try costs a query: cap them per address. */
  async function tooManyTries(request: FastifyRequest): Promise<boolean> {
    return (await ctx.hits.hit(`reset:ip:${request.ip}`, ACCOUNT_WINDOW_SECONDS)) > RESET_TRIES_PER_IP;
  }

  app.get<{ Params: { token: string } }>('/password/reset/:token', async (request, reply) => {
    const { token } = request.params;
    if (await tooManyTries(request)) return renderReset(request, reply, { valid: false, token: '', error: visitorOf(request).t('login.too-many') }, 429);
    const user = await findPasswordResetUser(ctx, token);
    return renderReset(request, reply, { valid: user !== undefined, token: user ? token : '' }, user ? 200 : 410);
  });

  app.post<{ Params: { token: string } }>('/password/reset/:token', formRoute(['password', 'password2']), async (request, reply) => {
    const { t } = visitorOf(request);
    const { token } = request.params;
    if (await tooManyTries(request)) return renderReset(request, reply, { valid: false, token: '', error: t('login.too-many') }, 429);
    const password = field(request.body, 'password');
    // Checked before the link is spent, so a typo does not cost the link.
    const problem = password.length < MIN_PASSWORD_LENGTH || password.length > 1024
      ? t('password.too-short', { count: MIN_PASSWORD_LENGTH })
      : password !== field(request.body, 'password2') ? t('password.mismatch') : null;
    if (problem) {
      const user = await findPasswordResetUser(ctx, token);
      return renderReset(request, reply, { valid: user !== undefined, token: user ? token : '', error: problem }, user ? 400 : 410);
    }
    const user = await resetPasswordWithToken(ctx, token, password);
    if (!user) return renderReset(request, reply, { valid: false, token: '' }, 410);
    request.log.info({ userId: user.id }, 'password reset with a link');
    return redirectTo(kit, reply, '/login', 'password-reset');
  });
}
