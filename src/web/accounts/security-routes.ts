import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { deleteAccount } from '../../accounts/delete-account.js';
import { isLastActiveAdmin } from '../../accounts/last-admin.js';
import { sendEmailChangeEmail } from '../../accounts/email-links.js';
import { matchTotpCode, newRecoveryCodes, newTotpSecret, RECOVERY_CODE_COUNT, totpQrDataUrl, totpUri } from '../../accounts/two-factor.js';
import { countUnusedRecoveryCodes, disableTotp, enableTotp, replaceRecoveryCodes, setPendingTotpSecret, setUserEmail } from '../../db/repositories/account-security.js';
import { isEmailTaken } from '../../db/repositories/user-preferences.js';
import { findUserById, verifyPassword } from '../../db/repositories/users.js';
import type { UserRow } from '../../db/schema.js';
import { requireUser } from '../routes/settings-routes.js';
import { endSession } from '../session.js';
import { field, redirectTo, renderPage, visitorOf, type WebKit } from '../web-kit.js';
import { accountMailServices, ACCOUNT_WINDOW_SECONDS, sendInBackground } from './account-kit.js';
import { formRoute } from '../form-schemas.js';

const PASSWORD_FAILURES = 10;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

interface SecurityExtras {
  /** Enrolment in progress: the QR code and the secret to type. */
  enrol?: { qr: string; secret: string };
  /** Shown once, right after they are made. */
  recoveryCodes?: string[];
  errors?: Partial<Record<'twofa' | 'email' | 'delete' | 'codes', string>>;
  emailValue?: string;
}

/**
 * /settings/security: two-factor sign-in (enrol with a QR code, recovery codes, turn off),
 * the email address (changed through a link to the new one), and deleting the account.
 * Everything that weakens or ends the account asks for the password again.
 */
export async function registerSecurityRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const mail = accountMailServices(kit);

  async function renderSecurity(request: FastifyRequest, reply: FastifyReply, user: UserRow, extras: SecurityExtras = {}, status = 200) {
    // Secrets and recovery codes must never sit in a cache.
    reply.header('Cache-Control', 'no-store');
    const { t } = visitorOf(request);
    await renderPage(kit, request, reply, 'accounts/security', {
      title: t('accounts.security.title'),
      account: user,
      twoFactorOn: user.totp_enabled === 1,
      twoFactorRequired: ctx.settings.require2faForAdmins && user.is_admin === 1,
      recoveryLeft: user.totp_enabled === 1 ? await countUnusedRecoveryCodes(ctx.db, user.id) : 0,
      recoveryTotal: RECOVERY_CODE_COUNT,
      enrol: extras.enrol ?? null,
      recoveryCodes: extras.recoveryCodes ?? null,
      errors: extras.errors ?? {},
      emailValue: extras.emailValue ?? '',
      mailEnabled: ctx.mailer.enabled,
    }, status);
    return reply;
  }

  /** The password, checked with the same throttle as the password form of the settings page. */
  async function passwordOk(user: UserRow, password: string): Promise<'ok' | 'wrong' | 'throttled'> {
    const key = `password:user:${user.id}`;
    if ((await ctx.hits.peek(key, ACCOUNT_WINDOW_SECONDS)) >= PASSWORD_FAILURES) return 'throttled';
    if (await verifyPassword(user.password_hash, password)) return 'ok';
    await ctx.hits.hit(key, ACCOUNT_WINDOW_SECONDS);
    return 'wrong';
  }
  const passwordMessage = (request: FastifyRequest, verdict: 'wrong' | 'throttled') =>
    visitorOf(request).t(verdict === 'throttled' ? 'login.too-many' : 'password.wrong-current');

  async function enrolmentOf(user: UserRow, secret: string) {
    // The authenticator app lists the account under the site's name (as the dashboard sets it now).
    const uri = totpUri(secret, ctx.settings.siteName, user.username);
    return { qr: await totpQrDataUrl(uri), secret, uri };
  }

  app.get<{ Querystring: { enrol?: string } }>('/settings/security', async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    // After "turn on" (below): the pending secret, the same one on every reload until it is confirmed.
    if (request.query.enrol === '1' && user.totp_enabled !== 1 && user.totp_secret) {
      return renderSecurity(request, reply, user, { enrol: await enrolmentOf(user, user.totp_secret) });
    }
    return renderSecurity(request, reply, user);
  });

  app.post('/settings/2fa/start', formRoute([]), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    if (user.totp_enabled === 1) return redirectTo(kit, reply, '/settings/security');
    const secret = newTotpSecret();
    await setPendingTotpSecret(ctx.db, user.id, secret);
    // Post/Redirect/Get: reloading the QR code page must not make a new secret (the one already
    // scanned into an authenticator app would then never match).
    return reply.header('Cache-Control', 'no-store').redirect(`${ctx.urls.basePath}/settings/security?enrol=1`, 303);
  });

  app.post('/settings/2fa/enable', formRoute(['code']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    if (user.totp_enabled === 1 || !user.totp_secret) return redirectTo(kit, reply, '/settings/security');
    const key = `2fa-enrol:user:${user.id}`;
    if ((await ctx.hits.peek(key, ACCOUNT_WINDOW_SECONDS)) >= PASSWORD_FAILURES) {
      return renderSecurity(request, reply, user, { enrol: await enrolmentOf(user, user.totp_secret), errors: { twofa: t('login.too-many') } }, 429);
    }
    const step = matchTotpCode(user.totp_secret, field(request.body, 'code'));
    if (step === null) {
      await ctx.hits.hit(key, ACCOUNT_WINDOW_SECONDS);
      return renderSecurity(request, reply, user, { enrol: await enrolmentOf(user, user.totp_secret), errors: { twofa: t('accounts.twofa.wrong-code') } }, 400);
    }
    const { codes, hashes } = newRecoveryCodes();
    if (!(await enableTotp(ctx.db, user.id, user.totp_secret, step, hashes))) return redirectTo(kit, reply, '/settings/security');
    request.log.info({ userId: user.id }, 'two-factor sign-in turned on');
    const fresh = (await findUserById(ctx.db, user.id))!;
    return renderSecurity(request, reply, fresh, { recoveryCodes: codes });
  });

  app.post('/settings/2fa/disable', formRoute(['password']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const verdict = await passwordOk(user, field(request.body, 'password'));
    if (verdict !== 'ok') return renderSecurity(request, reply, user, { errors: { twofa: passwordMessage(request, verdict) } }, verdict === 'throttled' ? 429 : 400);
    await disableTotp(ctx.db, user.id);
    request.log.info({ userId: user.id }, 'two-factor sign-in turned off');
    return redirectTo(kit, reply, '/settings/security', 'two-factor-disabled');
  });

  app.post('/settings/2fa/recovery-codes', formRoute(['password']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    if (user.totp_enabled !== 1) return redirectTo(kit, reply, '/settings/security');
    const verdict = await passwordOk(user, field(request.body, 'password'));
    if (verdict !== 'ok') return renderSecurity(request, reply, user, { errors: { codes: passwordMessage(request, verdict) } }, verdict === 'throttled' ? 429 : 400);
    const { codes, hashes } = newRecoveryCodes();
    await replaceRecoveryCodes(ctx.db, user.id, hashes);
    return renderSecurity(request, reply, user, { recoveryCodes: codes });
  });

  app.post('/settings/email', formRoute(['email', 'password']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    const email = field(request.body, 'email').trim().toLowerCase();
    const fail = (message: string, status: number) => renderSecurity(request, reply, user, { errors: { email: message }, emailValue: email }, status);
    if (!EMAIL_PATTERN.test(email) || email.length > 254) return fail(t('signup.bad-email'), 400);
    if (email === user.email) return fail(t('accounts.email.same'), 400);
    const verdict = await passwordOk(user, field(request.body, 'password'));
    if (verdict !== 'ok') return fail(passwordMessage(request, verdict), verdict === 'throttled' ? 429 : 400);
    if (await isEmailTaken(ctx.db, email)) return fail(t('signup.email-taken'), 409);
    if (!ctx.mailer.enabled) {
      // No mail server: nothing can prove the address; the password is what is asked.
      if (!(await setUserEmail(ctx.db, user.id, email))) return fail(t('signup.email-taken'), 409);
      return redirectTo(kit, reply, '/settings/security', 'email-changed');
    }
    sendInBackground(request, 'email change', () => sendEmailChangeEmail(mail, user, email));
    return redirectTo(kit, reply, '/settings/security', 'email-change-sent');
  });

  app.post('/settings/delete', formRoute(['confirm', 'password']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    if (field(request.body, 'confirm').trim() !== user.username) {
      return renderSecurity(request, reply, user, { errors: { delete: t('accounts.delete.type-name') } }, 400);
    }
    const verdict = await passwordOk(user, field(request.body, 'password'));
    if (verdict !== 'ok') return renderSecurity(request, reply, user, { errors: { delete: passwordMessage(request, verdict) } }, verdict === 'throttled' ? 429 : 400);
    // A site always keeps an active admin to run it: the same rule as the dashboard's (accounts/last-admin.ts).
    if (await isLastActiveAdmin(ctx.db, user)) {
      return renderSecurity(request, reply, user, { errors: { delete: t('accounts.delete.last-admin') } }, 409);
    }
    await endSession(ctx, request, reply);
    const removed = await deleteAccount(ctx, user.id);
    request.log.info({ userId: user.id, files: removed }, 'account deleted by its owner');
    return redirectTo(kit, reply, '/', 'account-deleted');
  });
}
