import type { FastifyInstance, FastifyReply, FastifyRequest, RouteShorthandOptions } from 'fastify';
import type { AppContext } from '../../context.js';
import { can, roleOf, type Action, type Role } from '../../core/roles.js';
import { field, publicUrlOf, renderError, renderPage, sitePath, visitorOf, type WebKit } from '../web-kit.js';

/**
 * What every dashboard page shares: the permission each route needs (checked in one hook,
 * so no route can forget it), the dashboard's navigation, and rendering inside its frame.
 */

/** The dashboard's navigation: one entry per area. An area added later (moderation...) adds a line here. */
export const DASHBOARD_NAV: { path: string; labelKey: string; action: Action }[] = [
  { path: '/dashboard', labelKey: 'dashboard.nav.overview', action: 'dashboard.view' },
  { path: '/dashboard/users', labelKey: 'dashboard.nav.users', action: 'users.view' },
  { path: '/dashboard/files', labelKey: 'dashboard.nav.files', action: 'files.view' },
  { path: '/dashboard/albums', labelKey: 'dashboard.nav.albums', action: 'albums.view' },
  { path: '/dashboard/settings', labelKey: 'dashboard.nav.settings', action: 'settings.edit' },
  { path: '/dashboard/pages', labelKey: 'dashboard.nav.pages', action: 'pages.edit' },
  // Moderation (web/moderation/): the approval queue, reports and the audit log.
  { path: '/moderation/queue', labelKey: 'moderation.queue.title', action: 'moderation.queue' },
  { path: '/moderation/reports', labelKey: 'moderation.reports.title', action: 'moderation.queue' },
  { path: '/moderation/audit', labelKey: 'moderation.audit.title', action: 'moderation.audit' },
  // Moderation tools that were CLI-only (web/dashboard/moderation-routes.ts), and categories.
  { path: '/dashboard/moderation/bans', labelKey: 'moderation.bans.title', action: 'moderation.bans' },
  { path: '/dashboard/moderation/stop-words', labelKey: 'moderation.stop-words.title', action: 'moderation.stop-words' },
  { path: '/dashboard/moderation/purge', labelKey: 'moderation.purge.title', action: 'moderation.purge' },
  { path: '/dashboard/moderation/blocklist', labelKey: 'moderation.blocklist.title', action: 'moderation.blocklist' },
  { path: '/dashboard/categories', labelKey: 'categories.title', action: 'categories.edit' },
];

/** Route options of a dashboard route: the action it needs (required; the dashboard refuses to start without it). */
export function needs(action: Action, extra: Record<string, unknown> = {}): RouteShorthandOptions {
  return { config: { action, ...extra } } as RouteShorthandOptions;
}

/** Every dashboard route as `METHOD /dashboard/...` with its action, per site (for the permission test). */
const registered = new WeakMap<AppContext, Map<string, Action>>();

export function dashboardRoutesOf(ctx: AppContext): Map<string, Action> {
  return registered.get(ctx) ?? new Map();
}

/** Adds the hooks: every route must name an action; a request runs only when the visitor's role may do it. */
export function guardDashboard(app: FastifyInstance, kit: WebKit): void {
  const { ctx } = kit;
  if (!registered.has(ctx)) registered.set(ctx, new Map());
  const routes = registered.get(ctx)!;
  app.addHook('onRoute', (route) => {
    const action = (route.config as { action?: Action } | undefined)?.action;
    if (!action) throw new Error(`dashboard route ${route.method} ${route.url} names no action (src/core/roles.ts)`);
    const base = ctx.urls.basePath;
    const url = base && route.url.startsWith(`${base}/`) ? route.url.slice(base.length) : route.url;
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.set(`${method} ${url}`, action);
  });
  app.addHook('preHandler', async (request, reply) => {
    const action = (request.routeOptions.config as { action?: Action }).action!;
    const { user } = visitorOf(request);
    if (!user) {
      const next = encodeURIComponent(request.method === 'GET' ? publicUrlOf(kit, request) : sitePath(kit, '/dashboard'));
      return reply.redirect(sitePath(kit, `/login?next=${next}`), 303);
    }
    if (!can(roleOf(user), action)) return renderError(kit, request, reply, 403, 'dashboard.error.forbidden');
  });
}

/** The signed-in admin as the admin services' actor: role for the rules, name and address for the audit log. */
export function actorOf(request: FastifyRequest): { role: Role; userId: number; name: string; ip: string } {
  const { user } = visitorOf(request);
  return { role: roleOf(user)!, userId: user!.id, name: user!.username, ip: request.ip };
}

/** Renders a dashboard page (views/dashboard/<view>) with its navigation. */
export function renderDashboard(kit: WebKit, request: FastifyRequest, reply: FastifyReply, view: string, data: Record<string, unknown>, status = 200) {
  const visitor = visitorOf(request);
  const role = roleOf(visitor.user);
  const current = publicUrlOf(kit, request).split('?')[0];
  const nav = DASHBOARD_NAV.filter((n) => can(role, n.action)).map((n) => {
    const href = sitePath(kit, n.path);
    return { href, label: visitor.t(n.labelKey), current: current === href || (n.path !== '/dashboard' && current.startsWith(`${href}/`)) };
  });
  reply.header('Cache-Control', 'no-store');
  return renderPage(kit, request, reply, `dashboard/${view}`, {
    ...data,
    noindex: true,
    dashboardNav: nav,
    role,
    can: (action: Action) => can(role, action),
    extraCss: sitePath(kit, `/static/dashboard.css?v=${kit.assetVersion}`),
    message: messageOf(visitor.t, field(request.query, 'done')),
  }, status);
}

/** `?done=<key>` after an action, as a translated line ("dashboard.done.<key>"); unknown keys show nothing. */
const DONE = new Set([
  'role', 'disabled', 'enabled', 'deleted', 'password', 'key-revoked', 'signed-out', 'files-deleted', 'files-nsfw', 'files-sfw',
  'files-moved', 'files-expiry', 'album-deleted', 'album-kept-private', 'settings-saved', 'asset-saved', 'asset-removed', 'page-saved', 'page-deleted', 'reset-sent',
]);
/** `?done=<key>:<n>`: a line with a count ("moderation.done.<key>", plural by n), from the moderation and category screens. */
const DONE_COUNTED = new Set(['ban-added', 'ban-removed', 'word-saved', 'word-removed', 'purged', 'imported', 'category-saved', 'category-deleted']);
function messageOf(t: (key: string, options?: Record<string, unknown>) => string, key: string): string | null {
  const counted = /^([a-z-]+):(\d{1,9})(?::(\d{1,9}))?$/.exec(key);
  if (counted && DONE_COUNTED.has(counted[1])) return t(`moderation.done.${counted[1]}`, { count: Number(counted[2]), skipped: Number(counted[3] ?? 0) });
  return DONE.has(key) ? t(`dashboard.done.${key}`) : null;
}

export function redirectDone(kit: WebKit, reply: FastifyReply, pathname: string, done: string) {
  const join = pathname.includes('?') ? '&' : '?';
  return reply.redirect(sitePath(kit, `${pathname}${join}done=${done}`), 303);
}

/** A whole number from a form or query, within bounds, else the fallback. */
export function intField(source: unknown, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const text = field(source, name).trim();
  if (!/^\d{1,15}$/.test(text)) return fallback;
  return Math.min(max, Math.max(min, Number(text)));
}
