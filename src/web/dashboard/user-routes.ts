import { errors, pageKeyOf, type ShoeboxError } from '../../core/errors.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  changeRole, deleteUser, disableUser, enableUser, newApiKey, revokeApiKey, revokeNamedKey, setPassword, signOutEverywhere, MIN_ADMIN_PASSWORD,
} from '../../admin/user-admin.js';
import { canActOn, roleOf, ROLES } from '../../core/roles.js';
import { findAdminUser, findUserByName, listUsersForAdmin, USER_SORTS, type UserSort } from '../../db/repositories/admin.js';
import { findDefaultKeyUsage, listNamedApiKeys } from '../../db/repositories/named-api-keys.js';
import type { UserRow } from '../../db/schema.js';
import { createPasswordResetLink, sendPasswordResetEmail } from '../../accounts/password-reset.js';
import { accountMailServices } from '../accounts/account-kit.js';
import { field, renderError, visitorOf, type WebKit } from '../web-kit.js';
import { recordAdminAction } from '../../admin/audit.js';
import { actorOf, intField, needs, redirectDone, renderDashboard } from './dashboard-kit.js';
import { formRoute } from '../form-schemas.js';

const PAGE = 50;

export async function registerUserRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const services = { db: ctx.db, storage: ctx.storage };

  app.get('/dashboard/users', needs('users.view'), async (request, reply) => {
    const { t } = visitorOf(request);
    const q = field(request.query, 'q').slice(0, 100);
    const sortText = field(request.query, 'sort');
    const sort: UserSort = (USER_SORTS as readonly string[]).includes(sortText) ? (sortText as UserSort) : 'created';
    const descending = field(request.query, 'dir') !== 'asc';
    const page = intField(request.query, 'page', 1, 1, 100_000);
    const { users, total } = await listUsersForAdmin(ctx.db, { search: q, sort, descending, offset: (page - 1) * PAGE, limit: PAGE });
    const query = (changes: Record<string, string>) => {
      const params = new URLSearchParams({ ...(q ? { q } : {}), sort, dir: descending ? 'desc' : 'asc', ...changes });
      return `${ctx.urls.basePath}/dashboard/users?${params}`;
    };
    return renderDashboard(kit, request, reply, 'users', {
      title: t('dashboard.users.title'),
      q, sort, descending, page, total,
      users: users.map((u) => ({ ...u, roleName: roleOf(u) })),
      sortLink: (column: string) => query({ sort: column, dir: sort === column && descending ? 'asc' : 'desc' }),
      prev: page > 1 ? query({ page: String(page - 1) }) : null,
      next: page * PAGE < total ? query({ page: String(page + 1) }) : null,
    });
  });

  async function renderUser(request: FastifyRequest, reply: FastifyReply, target: UserRow, extras: { error?: string; newKey?: string; resetLink?: string } = {}, status = 200) {
    const { t } = visitorOf(request);
    const details = await findAdminUser(ctx.db, target.id);
    if (!details) return renderError(kit, request, reply, 404, 'error.not-found');
    const actor = actorOf(request);
    if (extras.newKey || extras.resetLink) reply.header('Cache-Control', 'no-store');
    return renderDashboard(kit, request, reply, 'user', {
      title: target.username,
      account: details,
      roleName: roleOf(details),
      roles: ROLES,
      // The account's keys as its own Settings → API access lists them: the single key and the named ones.
      defaultKey: (await findDefaultKeyUsage(ctx.db, target.id)) ?? null,
      keys: (await listNamedApiKeys(ctx.db, target.id)).map((k) => ({ ...k, scopes: k.scopes.split(','), expired: k.expires_at !== null && new Date(`${k.expires_at.replace(' ', 'T')}Z`) <= new Date() })),
      mayAct: canActOn(actor.role, roleOf(details)!),
      isSelf: actor.userId === target.id,
      minPassword: MIN_ADMIN_PASSWORD,
      error: extras.error ?? null,
      newKey: extras.newKey ?? null,
      resetLink: extras.resetLink ?? null,
      canMail: ctx.mailer.enabled && Boolean(details.email),
      filesLink: `${ctx.urls.basePath}/dashboard/files?user=${encodeURIComponent(target.username)}`,
      t,
    }, status);
  }

  async function target(request: FastifyRequest<{ Params: { name: string } }>) {
    return findUserByName(ctx.db, request.params.name);
  }

  app.get<{ Params: { name: string } }>('/dashboard/users/:name', needs('users.view'), async (request, reply) => {
    const user = await target(request);
    if (!user) return renderError(kit, request, reply, 404, 'error.not-found');
    return renderUser(request, reply, user);
  });

  /** One action on one account: the service decides, a refusal with a dashboard text (`pageKeyOf`, core/errors.ts) shows on the user's page. */
  function action(path: string, permission: Parameters<typeof needs>[0], run: (request: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply, user: UserRow) => Promise<string | { newKey?: string; resetLink?: string }>) {
    app.post<{ Params: { name: string } }>(`/dashboard/users/:name${path}`, formRoute(['confirm', 'files', 'password', 'password2', 'role'], needs(permission)), async (request, reply) => {
      const user = await target(request);
      if (!user) return renderError(kit, request, reply, 404, 'error.not-found');
      try {
        const done = await run(request, reply, user);
        if (typeof done === 'object') return renderUser(request, reply, user, done);
        request.log.info({ by: actorOf(request).userId, userId: user.id, action: path }, 'dashboard: account changed');
        return redirectDone(kit, reply, done === 'deleted' ? '/dashboard/users' : `/dashboard/users/${encodeURIComponent(user.username)}`, done);
      } catch (error) {
        const page = pageKeyOf(error);
        if (!page) throw error;
        return renderUser(request, reply, user, { error: visitorOf(request).t(`dashboard.error.${page}`) }, (error as ShoeboxError).httpStatus);
      }
    });
  }

  const actorMayAct = (request: FastifyRequest, user: UserRow) => {
    if (!canActOn(actorOf(request).role, roleOf(user)!)) throw errors.notAllowed();
  };
  const confirmed = (request: FastifyRequest) => field(request.body, 'confirm') === 'yes';
  const needConfirm = () => errors.confirmRequired();

  action('/role', 'users.role', async (request, _reply, user) => {
    await changeRole(services, actorOf(request), user, field(request.body, 'role'));
    return 'role';
  });
  action('/disable', 'users.disable', async (request, _reply, user) => {
    if (user.id === actorOf(request).userId) throw errors.ownAccount();
    await disableUser(services, actorOf(request), user);
    return 'disabled';
  });
  action('/enable', 'users.disable', async (request, _reply, user) => {
    await enableUser(services, actorOf(request), user);
    return 'enabled';
  });
  action('/delete', 'users.delete', async (request, _reply, user) => {
    if (!confirmed(request)) throw needConfirm();
    if (user.id === actorOf(request).userId) throw errors.ownAccount();
    const keepFiles = field(request.body, 'files') === 'keep';
    await deleteUser(services, actorOf(request), user, { keepFiles });
    return 'deleted';
  });
  action('/password', 'users.password', async (request, _reply, user) => {
    const password = field(request.body, 'password');
    if (password !== field(request.body, 'password2')) throw errors.passwordMismatch();
    await setPassword(services, actorOf(request), user, password);
    return 'password';
  });
  action('/api-key/revoke', 'users.api-key', async (request, _reply, user) => {
    if (!confirmed(request)) throw needConfirm();
    await revokeApiKey(services, actorOf(request), user);
    return 'key-revoked';
  });
  action('/api-keys/:id/revoke', 'users.api-key', async (request, _reply, user) => {
    const keyId = Number((request.params as { id?: string }).id);
    if (!Number.isSafeInteger(keyId) || keyId <= 0 || !(await revokeNamedKey(services, actorOf(request), user, keyId))) throw errors.notFound();
    return 'key-revoked';
  });
  action('/api-key/new', 'users.api-key', async (request, _reply, user) => {
    if (!confirmed(request)) throw needConfirm();
    return { newKey: await newApiKey(services, actorOf(request), user) };
  });
  // Password resets (the accounts' service, src/accounts/password-reset.ts): a single-use link to
  // hand over, or the same link emailed to the account's address when the site sends mail.
  action('/reset-link', 'users.password', async (request, _reply, user) => {
    actorMayAct(request, user);
    const resetLink = await createPasswordResetLink({ db: ctx.db, urls: ctx.urls }, user.id);
    await recordAdminAction(ctx.db, actorOf(request), 'user.reset-link', user.username);
    return { resetLink };
  });
  action('/reset-email', 'users.password', async (request, _reply, user) => {
    actorMayAct(request, user);
    if (!ctx.mailer.enabled) throw errors.noMail();
    if (!user.email) throw errors.noEmail();
    await sendPasswordResetEmail(accountMailServices(kit), user.email);
    await recordAdminAction(ctx.db, actorOf(request), 'user.reset-email', user.username);
    return 'reset-sent';
  });
  action('/sign-out', 'users.sessions', async (request, _reply, user) => {
    await signOutEverywhere(services, actorOf(request), user);
    return 'signed-out';
  });
}
