import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifySecondFactor } from '../../accounts/two-factor.js';
import { sendVerificationEmail } from '../../accounts/email-links.js';
import { createAccountToken, deleteExpiredAccountTokens, findLiveAccountToken, spendAccountToken } from '../../db/repositories/account-tokens.js';
import { findUserById } from '../../db/repositories/users.js';
import { markEmailUnverified } from '../../db/repositories/account-security.js';
import type { UserRow } from '../../db/schema.js';
import { baseCookieOptions, readCookie, startSession } from '../session.js';
import { field, redirectTo, redirectWithNotice, renderPage, safeReturnPath, sitePath, visitorOf, type WebKit } from '../web-kit.js';
import { accountMailServices, ACCOUNT_WINDOW_SECONDS, sendInBackground } from './account-kit.js';
import { formRoute } from '../form-schemas.js';

/** The half-done sign-in between the password and the code: a single-use token in this cookie, its hash in account_tokens. */
export const TWO_FACTOR_COOKIE = 'shoebox_2fa';
const TWO_FACTOR_LIFETIME_SECONDS = 600;
const CODE_FAILURES_PER_ACCOUNT = 5;
const CODE_FAILURES_PER_IP = 50;

/**
 * Called by POST /login once the password is right. When the account still has to do
 * something before it gets a session, this answers the request and returns the reply:
 * - its address is unchecked and the site requires checking (a fresh link is emailed);
 * - it has two-factor sign-in: the browser gets the pending-sign-in cookie and goes to /login/2fa.
 * Otherwise null: the caller signs the account in as before.
 */
export async function holdSignIn(kit: WebKit, request: FastifyRequest, reply: FastifyReply, user: UserRow, next: string): Promise<FastifyReply | null> {
  const { ctx } = kit;
  if (user.email_unverified === 1 && ctx.settings.emailVerification === 'required') {
    const resendKey = `verify-resend:user:${user.id}`;
    if ((await ctx.hits.hit(resendKey, 3600)) <= 3) {
      sendInBackground(request, 'email check', () => sendVerificationEmail(accountMailServices(kit), user));
    }
    const { t } = visitorOf(request);
    await renderPage(kit, request, reply, 'accounts/message', {
      title: t('accounts.verify.title'),
      heading: t('accounts.verify.title'),
      message: t('accounts.verify.still-needed', { email: user.email ?? '' }),
    }, 403);
    return reply;
  }
  if (user.totp_enabled !== 1) return null;
  const token = await createAccountToken(ctx.db, { userId: user.id, purpose: 'two-factor', lifetimeSeconds: TWO_FACTOR_LIFETIME_SECONDS });
  reply.setCookie(TWO_FACTOR_COOKIE, token, { ...baseCookieOptions(ctx), maxAge: TWO_FACTOR_LIFETIME_SECONDS });
  const query = next ? `?next=${encodeURIComponent(next)}` : '';
  await reply.redirect(sitePath(kit, `/login/2fa${query}`), 303);
  return reply;
}

export async function registerTwoFactorLogin(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  const renderCodeForm = (request: FastifyRequest, reply: FastifyReply, next: string, error: string | null, status = 200) =>
    renderPage(kit, request, reply, 'accounts/login-2fa', {
      title: visitorOf(request).t('accounts.twofa.login-title'),
      next,
      error,
      noindex: true,
    }, status);

  const pendingToken = (request: FastifyRequest) => readCookie(request, TWO_FACTOR_COOKIE) ?? '';
  const clearPending = (reply: FastifyReply) => reply.clearCookie(TWO_FACTOR_COOKIE, baseCookieOptions(ctx));

  app.get('/login/2fa', async (request, reply) => {
    const next = safeReturnPath(kit, field(request.query, 'next')) ?? '';
    if (!(await findLiveAccountToken(ctx.db, pendingToken(request), 'two-factor'))) {
      clearPending(reply);
      return redirectTo(kit, reply, next ? `/login?next=${encodeURIComponent(next)}` : '/login');
    }
    return renderCodeForm(request, reply, next, null);
  });

  app.post('/login/2fa', formRoute(['code', 'next']), async (request, reply) => {
    const { t } = visitorOf(request);
    const next = safeReturnPath(kit, field(request.body, 'next')) ?? '';
    const token = pendingToken(request);
    const pending = await findLiveAccountToken(ctx.db, token, 'two-factor');
    const user = pending ? await findUserById(ctx.db, pending.user_id) : undefined;
    if (!pending || !user) {
      clearPending(reply);
      return redirectTo(kit, reply, '/login');
    }
    const accountKey = `2fa:user:${user.id}`;
    const ipKey = `2fa:ip:${request.ip}`;
    const [accountFailures, ipFailures] = await Promise.all([ctx.hits.peek(accountKey, ACCOUNT_WINDOW_SECONDS), ctx.hits.peek(ipKey, ACCOUNT_WINDOW_SECONDS)]);
    if (accountFailures >= CODE_FAILURES_PER_ACCOUNT || ipFailures >= CODE_FAILURES_PER_IP) {
      // Too many wrong codes: this half-done sign-in is over; the password must be given again later.
      await spendAccountToken(ctx.db, token, 'two-factor');
      clearPending(reply);
      reply.header('Retry-After', String(ACCOUNT_WINDOW_SECONDS));
      return renderCodeForm(request, reply, next, t('login.too-many'), 429);
    }
    const factor = await verifySecondFactor(ctx.db, user, field(request.body, 'code'));
    if (!factor) {
      await Promise.all([ctx.hits.hit(accountKey, ACCOUNT_WINDOW_SECONDS), ctx.hits.hit(ipKey, ACCOUNT_WINDOW_SECONDS)]);
      return renderCodeForm(request, reply, next, t('accounts.twofa.wrong-code'), 401);
    }
    if (!(await spendAccountToken(ctx.db, token, 'two-factor'))) {
      clearPending(reply);
      return redirectTo(kit, reply, '/login');
    }
    clearPending(reply);
    await startSession(ctx, request, reply, user);
    // Expired links and half-done sign-ins are never honoured; sweeping them here (an indexed delete) keeps the table small without a job.
    await deleteExpiredAccountTokens(ctx.db);
    request.log.info({ userId: user.id, factor }, 'signed in with two factors');
    return next ? redirectWithNotice(reply, next, 'signed-in') : redirectTo(kit, reply, `/${user.username}`, 'signed-in');
  });
}

/**
 * After a web sign-up when SHOEBOX_EMAIL_VERIFICATION=required: the account waits for its
 * emailed link, and no session is started until it is opened.
 */
export async function startEmailCheck(kit: WebKit, request: FastifyRequest, reply: FastifyReply, user: UserRow): Promise<FastifyReply> {
  await markEmailUnverified(kit.ctx.db, user.id);
  const fresh = { ...user, email_unverified: 1 };
  await kit.ctx.hits.hit(`verify-resend:user:${user.id}`, 3600);
  sendInBackground(request, 'email check', () => sendVerificationEmail(accountMailServices(kit), fresh));
  request.log.info({ userId: user.id }, 'signed up, waiting for the email check');
  const { t } = visitorOf(request);
  await renderPage(kit, request, reply, 'accounts/message', {
    title: t('accounts.verify.title'),
    heading: t('accounts.verify.title'),
    message: t('accounts.verify.sent', { email: user.email ?? '' }),
  });
  return reply;
}
