import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isError } from '../../core/errors.js';
import { consumeInvite, isInviteUsable } from '../../db/repositories/invites.js';
import { deleteExpiredSessions } from '../../db/repositories/sessions.js';
import { countUsers, findUserByLogin, isEmailTaken, setUserAdmin } from '../../db/repositories/user-preferences.js';
import { createUser, deleteNewUser, hashPassword, upgradeLegacyPassword, USERNAME_PATTERN, verifyPassword } from '../../db/repositories/users.js';
import { isReservedUsername } from '../reserved-names.js';
import { endSession, startSession } from '../session.js';
import { holdSignIn, startEmailCheck } from '../accounts/two-factor-login.js';
import { field, redirectTo, redirectWithNotice, renderError, renderPage, safeReturnPath, visitorOf, type WebKit } from '../web-kit.js';
import { formRoute } from '../form-schemas.js';

/** Sign-in throttling, counted in the shared hit counter so it holds across instances. */
const LOGIN_WINDOW_SECONDS = 900;
const LOGIN_FAILURES_PER_NAME = 10;
const LOGIN_FAILURES_PER_IP = 50;
const SIGNUPS_PER_IP_PER_HOUR = 10;
export const MIN_PASSWORD_LENGTH = 8;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

// Verifying against a real hash when the name is unknown keeps the answer time the same either way.
const dummyHash = hashPassword('not a real password, only for timing');

export async function registerAccountRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  const renderLogin = (request: FastifyRequest, reply: FastifyReply, values: { login?: string; next?: string; error?: string }, status = 200) =>
    renderPage(kit, request, reply, 'login', { title: visitorOf(request).t('login.title'), values, error: values.error ?? null }, status);

  app.get('/login', async (request, reply) => {
    const { user } = visitorOf(request);
    const next = safeReturnPath(kit, field(request.query, 'next')) ?? '';
    if (user) return reply.redirect(next || `${ctx.urls.basePath}/${user.username}`, 303);
    return renderLogin(request, reply, { next });
  });

  app.post('/login', formRoute(['login', 'next', 'password']), async (request, reply) => {
    const { t } = visitorOf(request);
    const login = field(request.body, 'login').trim();
    const password = field(request.body, 'password');
    const next = safeReturnPath(kit, field(request.body, 'next')) ?? '';
    const nameKey = `login:name:${login.toLowerCase()}`;
    const ipKey = `login:ip:${request.ip}`;
    const [nameFailures, ipFailures] = await Promise.all([
      ctx.hits.peek(nameKey, LOGIN_WINDOW_SECONDS),
      ctx.hits.peek(ipKey, LOGIN_WINDOW_SECONDS),
    ]);
    if (nameFailures >= LOGIN_FAILURES_PER_NAME || ipFailures >= LOGIN_FAILURES_PER_IP) {
      reply.header('Retry-After', String(LOGIN_WINDOW_SECONDS));
      return renderLogin(request, reply, { login, next, error: t('login.too-many') }, 429);
    }
    const user = login ? await findUserByLogin(ctx.db, login) : undefined;
    const valid = await verifyPassword(user?.password_hash ?? (await dummyHash), password);
    if (!user || !valid) {
      await Promise.all([ctx.hits.hit(nameKey, LOGIN_WINDOW_SECONDS), ctx.hits.hit(ipKey, LOGIN_WINDOW_SECONDS)]);
      return renderLogin(request, reply, { login, next, error: t('login.wrong') }, 401);
    }
    if (user.disabled_at) return renderLogin(request, reply, { login, next, error: t('dashboard.login-disabled') }, 403);
    await upgradeLegacyPassword(ctx.db, user, password);
    if (await holdSignIn(kit, request, reply, user, next)) return reply;
    await startSession(ctx, request, reply, user);
    // Expired sessions are never honoured; sweeping them here (an indexed delete) keeps the table small without a job.
    await deleteExpiredSessions(ctx.db);
    request.log.info({ userId: user.id }, 'signed in');
    return next ? redirectWithNotice(reply, next, 'signed-in') : redirectTo(kit, reply, `/${user.username}`, 'signed-in');
  });

  app.post('/logout', formRoute([]), async (request, reply) => {
    await endSession(ctx, request, reply);
    return redirectTo(kit, reply, '/', 'signed-out');
  });

  /** Sign-up is open, needs an invite (SHOEBOX_SIGNUP=invite) or is closed. */
  async function signupGate(invite: string): Promise<'ok' | 'closed' | 'needs-invite'> {
    if (ctx.settings.signup === 'closed') return 'closed';
    if (ctx.settings.signup === 'invite' && !(invite && (await isInviteUsable(ctx.db, invite)))) return 'needs-invite';
    return 'ok';
  }

  const renderSignup = (request: FastifyRequest, reply: FastifyReply, values: Record<string, string>, error: string | null, status = 200) =>
    renderPage(kit, request, reply, 'signup', {
      title: visitorOf(request).t('signup.title'),
      values,
      error,
      minPassword: MIN_PASSWORD_LENGTH,
      needsInvite: ctx.settings.signup === 'invite',
      emailRequired: ctx.settings.emailVerification === 'required',
    }, status);

  app.get('/signup', async (request, reply) => {
    if (visitorOf(request).user) return redirectTo(kit, reply, '/settings');
    const invite = field(request.query, 'invite').trim();
    const gate = await signupGate(invite);
    if (gate === 'closed') return renderError(kit, request, reply, 403, 'signup.closed');
    const error = gate === 'needs-invite' && invite ? visitorOf(request).t('signup.invite-invalid') : null;
    return renderSignup(request, reply, { invite }, error);
  });

  app.post('/signup', formRoute(['email', 'invite', 'password', 'password2', 'username']), async (request, reply) => {
    const { t } = visitorOf(request);
    const values = {
      username: field(request.body, 'username').trim(),
      email: field(request.body, 'email').trim().toLowerCase(),
      invite: field(request.body, 'invite').trim(),
    };
    const password = field(request.body, 'password');
    const gate = await signupGate(values.invite);
    if (gate === 'closed') return renderError(kit, request, reply, 403, 'signup.closed');
    if (gate === 'needs-invite') return renderSignup(request, reply, values, t('signup.invite-invalid'), 403);
    if (!USERNAME_PATTERN.test(values.username)) return renderSignup(request, reply, values, t('signup.bad-username'), 400);
    if (await ctx.moderation.checkUsername(values.username).then(() => false, (error: unknown) => isError(error, 'stopWord'))) return renderSignup(request, reply, values, t('moderation.stop-word'), 400);
    if (isReservedUsername(values.username, ctx.settings)) return renderSignup(request, reply, values, t('signup.username-taken'), 409);
    if (!values.email && ctx.settings.emailVerification === 'required') return renderSignup(request, reply, values, t('accounts.verify.email-needed'), 400);
    if (values.email && (!EMAIL_PATTERN.test(values.email) || values.email.length > 254)) return renderSignup(request, reply, values, t('signup.bad-email'), 400);
    if (password.length < MIN_PASSWORD_LENGTH || password.length > 1024) return renderSignup(request, reply, values, t('password.too-short', { count: MIN_PASSWORD_LENGTH }), 400);
    if (password !== field(request.body, 'password2')) return renderSignup(request, reply, values, t('password.mismatch'), 400);
    // Counted before the email is looked up: "that email has an account" is an answer about someone
    // else, so each address may only ask a few times an hour.
    if ((await ctx.hits.hit(`signup:ip:${request.ip}`, 3600)) > SIGNUPS_PER_IP_PER_HOUR) {
      return renderSignup(request, reply, values, t('signup.too-many'), 429);
    }
    if (values.email && (await isEmailTaken(ctx.db, values.email))) return renderSignup(request, reply, values, t('signup.email-taken'), 409);

    let user;
    try {
      user = await createUser(ctx.db, { username: values.username, email: values.email || null, password, signupIp: request.ip });
    } catch (error) {
      if (isError(error, 'usernameTaken')) return renderSignup(request, reply, values, t('signup.username-taken'), 409);
      throw error;
    }
    if (ctx.settings.signup === 'invite' && !(await consumeInvite(ctx.db, values.invite, user.id))) {
      // Someone else used the same code a moment earlier.
      await deleteNewUser(ctx.db, user.id);
      return renderSignup(request, reply, values, t('signup.invite-invalid'), 403);
    }
    // The first account of a new site runs it.
    if ((await countUsers(ctx.db)) === 1) {
      await setUserAdmin(ctx.db, user.id);
      user = { ...user, is_admin: 1, role: 'admin' };
      await startSession(ctx, request, reply, user);
      request.log.info({ userId: user.id }, 'signed up: the first account, admin of the site');
      return redirectTo(kit, reply, '/dashboard?welcome=1');
    }
    if (ctx.settings.emailVerification === 'required') return startEmailCheck(kit, request, reply, user);
    await startSession(ctx, request, reply, user);
    request.log.info({ userId: user.id }, 'signed up');
    return redirectTo(kit, reply, '/settings', 'welcome');
  });
}
