import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  API_SCOPES, createNamedApiKey, findDefaultKeyUsage, isApiScope, listNamedApiKeys, revokeNamedApiKey, scopesAllowedFor, type ApiScope,
} from '../../db/repositories/named-api-keys.js';
import { createWebhook, deleteWebhook, findWebhook, listDeliveries, listWebhooks } from '../../db/repositories/webhooks.js';
import type { UserRow } from '../../db/schema.js';
import { CHANGE_EVENTS } from '../../ingest/change-events.js';
import { checkOutgoingUrl } from '../../ingest/fetch-url-source.js';
import { newWebhookSecret } from '../../webhooks/webhook-queue.js';
import { field, fieldList, redirectTo, renderPage, visitorOf, type WebKit } from '../web-kit.js';
import { requireUser } from './settings-routes.js';
import { formRoute } from '../form-schemas.js';
import { openFlash, sealFlash } from '../sealed-flash.js';
import { baseCookieOptions, readCookie } from '../session.js';

const MAX_LABEL = 60;
const MAX_URL = 2000;
const MAX_WEBHOOKS = 20;
/** Carries a new key or webhook secret from its POST to the page that shows it once (Post/Redirect/Get). */
const SHOWN_COOKIE = 'shoebox_new_api_secret';
const SHOWN_SECONDS = 300;

interface Shown {
  newKey?: { plain: string; label: string };
  newHook?: { url: string; secret: string };
  error?: string;
}

/**
 * Settings → API access (`/settings/api`): the single key's last use, named keys with scopes
 * (created, shown once, revoked), and webhooks with the log of their last deliveries.
 */
export async function registerApiSettingsRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  async function render(request: FastifyRequest, reply: FastifyReply, user: UserRow, shown: Shown = {}, status = 200) {
    const { t } = visitorOf(request);
    const [defaultKey, keys, hooks] = await Promise.all([
      findDefaultKeyUsage(ctx.db, user.id),
      listNamedApiKeys(ctx.db, user.id),
      listWebhooks(ctx.db, user.id, user.is_admin === 1),
    ]);
    const hookViews = await Promise.all(
      hooks.map(async (hook) => ({
        id: hook.id,
        url: hook.url,
        events: hook.events.split(','),
        siteWide: hook.user_id === null,
        deliveries: await listDeliveries(ctx.db, hook.id),
      })),
    );
    if (shown.newKey || shown.newHook) reply.header('Cache-Control', 'no-store');
    return renderPage(kit, request, reply, 'settings-api', {
      title: t('apiaccess.title'),
      defaultKey: defaultKey ?? null,
      keys: keys.map((k) => ({ ...k, scopes: k.scopes.split(','), expired: k.expires_at !== null && new Date(`${k.expires_at.replace(' ', 'T')}Z`) <= new Date() })),
      scopes: scopesAllowedFor(user),
      events: CHANGE_EVENTS,
      hooks: hookViews,
      isAdmin: user.is_admin === 1,
      newKey: shown.newKey ?? null,
      newHook: shown.newHook ?? null,
      error: shown.error ?? null,
      apiBase: ctx.urls.absolute('/api/4/user/'),
      docsUrl: ctx.urls.absolute('/api/docs'),
    }, status);
  }

  app.get('/settings/api', async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    // A key or secret made by a POST below is shown on this page once: the cookie goes with this answer.
    const { session } = visitorOf(request);
    const sealed = readCookie(request, SHOWN_COOKIE);
    if (sealed !== undefined) reply.clearCookie(SHOWN_COOKIE, baseCookieOptions(ctx));
    const shown = session ? openFlash<Shown>(kit.secret, `api-access:${session.id}`, sealed) : null;
    return render(request, reply, user, shown ?? {});
  });

  /** Post/Redirect/Get: reloading the page that shows a key or secret must not make another one. */
  function showOnce(request: FastifyRequest, reply: FastifyReply, shown: Shown, anchor: string) {
    const { session } = visitorOf(request);
    reply.setCookie(SHOWN_COOKIE, sealFlash(kit.secret, `api-access:${session?.id ?? ''}`, shown), {
      ...baseCookieOptions(ctx),
      maxAge: SHOWN_SECONDS,
    });
    return reply.header('Cache-Control', 'no-store').redirect(`${ctx.urls.basePath}/settings/api#${anchor}`, 303);
  }

  app.post('/settings/api/keys', formRoute(['expires', 'label', 'scope']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    const label = field(request.body, 'label').trim().slice(0, MAX_LABEL);
    const allowed = scopesAllowedFor(user);
    const scopes = fieldList(request.body, 'scope').filter((s): s is ApiScope => isApiScope(s) && allowed.includes(s));
    const expires = field(request.body, 'expires').trim();
    if (!label) return render(request, reply, user, { error: t('apiaccess.label-required') }, 400);
    if (scopes.length === 0) return render(request, reply, user, { error: t('apiaccess.scope-required') }, 400);
    let expiresAt: string | null = null;
    if (expires) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(expires) || Number.isNaN(Date.parse(`${expires}T00:00:00Z`)) || Date.parse(`${expires}T00:00:00Z`) <= Date.now()) {
        return render(request, reply, user, { error: t('apiaccess.bad-expiry') }, 400);
      }
      expiresAt = `${expires} 00:00:00`;
    }
    const { plain, row } = await createNamedApiKey(ctx.db, { userId: user.id, label, scopes: API_SCOPES.filter((s) => scopes.includes(s)), expiresAt });
    request.log.info({ userId: user.id, keyId: row.id }, 'named API key created from the web');
    return showOnce(request, reply, { newKey: { plain, label } }, 'new-key');
  });

  app.post<{ Params: { id: string } }>('/settings/api/keys/:id/revoke', formRoute([]), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const id = Number(request.params.id);
    if (Number.isSafeInteger(id)) await revokeNamedApiKey(ctx.db, user.id, id);
    return redirectTo(kit, reply, '/settings/api');
  });

  app.post('/settings/api/webhooks', formRoute(['event', 'site_wide', 'url']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    const url = field(request.body, 'url').trim().slice(0, MAX_URL);
    const events = fieldList(request.body, 'event').filter((e) => (CHANGE_EVENTS as readonly string[]).includes(e));
    const siteWide = field(request.body, 'site_wide') === '1';
    let parsed: URL;
    try {
      // The same address check as URL uploads: a hook to a private network would only fail for a day.
      parsed = await checkOutgoingUrl(url, { allowPrivateAddresses: ctx.settings.allowPrivateUrls });
    } catch (error) {
      const notPublic = error instanceof Error && error.message.endsWith('the address is not public');
      return render(request, reply, user, { error: t(notPublic ? 'apiaccess.private-url' : 'apiaccess.bad-url') }, 400);
    }
    if (events.length === 0) return render(request, reply, user, { error: t('apiaccess.event-required') }, 400);
    if (siteWide && user.is_admin !== 1) return render(request, reply, user, { error: t('apiaccess.site-wide-admins') }, 403);
    if ((await listWebhooks(ctx.db, user.id, false)).length >= MAX_WEBHOOKS) return render(request, reply, user, { error: t('apiaccess.too-many-hooks', { count: MAX_WEBHOOKS }) }, 400);
    const secret = newWebhookSecret();
    await createWebhook(ctx.db, { userId: siteWide ? null : user.id, createdBy: user.id, url: parsed.href, events: CHANGE_EVENTS.filter((e) => events.includes(e)), secret });
    return showOnce(request, reply, { newHook: { url: parsed.href, secret } }, 'new-hook');
  });

  app.post<{ Params: { id: string } }>('/settings/api/webhooks/:id/delete', formRoute([]), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const id = Number(request.params.id);
    const hook = Number.isSafeInteger(id) ? await findWebhook(ctx.db, id) : undefined;
    if (hook && (hook.user_id === user.id || (hook.user_id === null && user.is_admin === 1))) await deleteWebhook(ctx.db, hook.id);
    return redirectTo(kit, reply, '/settings/api');
  });
}
