import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrfProtection from '@fastify/csrf-protection';
import fastifyStatic from '@fastify/static';
import view from '@fastify/view';
import { Eta } from 'eta';
import type { AppContext } from '../context.js';
import { ShoeboxError, errors, isError } from '../core/errors.js';
import { sendApiError } from '../uploads/envelope.js';
import { createTranslations } from './i18n.js';
import { PageCache } from './page-cache.js';
import { webPaths } from './paths.js';
import { registerModerationRoutes } from './moderation/moderation-routes.js';
import { registerReportRoutes } from './moderation/report-routes.js';
import { registerAuditRoutes } from './moderation/audit-routes.js';
import { registerAccountRoutes } from './routes/account-routes.js';
import { registerAccountPages } from './accounts/register-account-pages.js';
import { requireTwoFactorSetup } from './accounts/two-factor-gate.js';
import { registerAlbumRoutes } from './routes/album-routes.js';
import { registerCheveretoRoutes } from './routes/chevereto-routes.js';
import { registerBulkRoutes } from './routes/bulk-routes.js';
import { registerBrowseRoutes } from './routes/browse-routes.js';
import { registerListingRoutes } from './routes/listing-routes.js';
import { registerOembedRoute } from './routes/oembed-route.js';
import { registerPreferenceRoutes } from './routes/preference-routes.js';
import { registerSettingsRoutes } from './routes/settings-routes.js';
import { registerSitePageRoutes } from './routes/site-page-routes.js';
import { registerDashboard } from './dashboard/register-dashboard.js';
import { registerApiSettingsRoutes } from './routes/api-settings-routes.js';
import { registerViewerPage } from './routes/viewer-page.js';
import { registerUploaderPages } from './uploader/uploader-pages.js';
import { SESSION_COOKIE, baseCookieOptions, keepSessionAlive, readCookie } from './session.js';
import { ViewCounter } from './view-counter.js';
import { webSecretOf } from './web-secret.js';
import { CSRF_SECRET_COOKIE, csrfUserInfo, loadVisitor, renderError, renderTextTooLong, visitorOf, type WebKit } from './web-kit.js';

/**
 * Whether a POST comes from a page of this site: the Origin header browsers send with every
 * form post (else the Referer) names this site, or the host the browser asked. A post from
 * another site, or with neither header, is refused.
 */
export function isSameOriginPost(request: FastifyRequest, siteOrigin: string): boolean {
  const claimed = request.headers.origin ?? request.headers.referer;
  if (!claimed || claimed === 'null') return false;
  try {
    const origin = new URL(claimed);
    return origin.origin === siteOrigin || (request.headers.host !== undefined && origin.host === request.headers.host);
  } catch {
    return false;
  }
}

function csrfRefusal(): FastifyError {
  return Object.assign(new Error('This form did not come from this site'), { code: 'FST_CSRF_INVALID_TOKEN', statusCode: 403 }) as FastifyError;
}

function assetVersion(): string {
  const hash = createHash('sha256');
  for (const file of ['site.css', 'site.js', 'everyday.css', 'everyday.js', 'theme.js', 'dashboard.css']) hash.update(readFileSync(path.join(webPaths.assets, file)));
  return hash.digest('hex').slice(0, 10);
}

/** Content-Security-Policy of the pages: our own scripts and styles only, media also from the media base URL. */
function contentSecurityPolicy(ctx: AppContext): string {
  const media = new URL(ctx.settings.mediaBaseUrl).origin;
  const mediaSources = media === new URL(ctx.settings.baseUrl).origin ? "'self'" : `'self' ${media}`;
  return [
    "default-src 'self'", `img-src ${mediaSources} data: blob:`, `media-src ${mediaSources}`, "style-src 'self'", "script-src 'self'",
    "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'self'",
  ].join('; ');
}

/**
 * The web site: pages for people, in their language, with sessions and CSRF-protected forms.
 * Everything here lives in its own encapsulated scope, so its cookies, templates and hooks
 * never touch the API's routes.
 */
export async function registerWebSite(parent: FastifyInstance, ctx: AppContext): Promise<void> {
  const kit: WebKit = {
    ctx,
    translate: await createTranslations(),
    secret: await webSecretOf(ctx),
    assetVersion: assetVersion(),
    // Sized by SHOEBOX_PAGE_CACHE_SIZE as it is now (the dashboard may change it while the site runs).
    pages: new PageCache(() => ctx.settings.pageCacheSize),
    views: new ViewCounter(ctx.db, (error) => parent.log.error({ err: error }, 'writing viewer page views failed')),
  };
  // Write the counted views before the database closes.
  parent.addHook('onClose', async () => kit.views.close());
  const csp = contentSecurityPolicy(ctx);
  const siteOrigin = new URL(ctx.settings.baseUrl).origin;

  await parent.register(async (app) => {
    await app.register(cookie);
    await app.register(csrfProtection, {
      cookieKey: CSRF_SECRET_COOKIE,
      cookieOpts: baseCookieOptions(ctx),
      // Tokens are bound to the session, so a token from before signing in is refused after it.
      getUserInfo: (request) => csrfUserInfo(visitorOf(request)),
      csrfOpts: { hmacKey: kit.secret },
    });
    await app.register(view, {
      engine: { eta: new Eta({ autoEscape: true, autoTrim: [false, 'nl'] }) },
      root: webPaths.views,
      production: true,
    });
    await app.register(fastifyStatic, { root: webPaths.assets, prefix: '/static/', decorateReply: false, maxAge: '7d', index: false });

    app.addHook('onRequest', async (request, reply) => {
      // Files of public/ need no visitor. Decided by the route that matched, not by the URL: `/static/`
      // itself is the catch-all /:username (a 404 page, which needs the visitor).
      if (request.routeOptions.url?.endsWith('/static/*')) return;
      reply.header('Vary', 'Cookie, Accept-Language');
      const visitor = await loadVisitor(kit, request);
      if (visitor.session) {
        await keepSessionAlive(ctx, request, reply);
        if (requireTwoFactorSetup(kit, visitor, request, reply)) return reply;
      } else if (readCookie(request, SESSION_COOKIE)) {
        // An expired or revoked session: drop the stale cookie.
        reply.clearCookie(SESSION_COOKIE, baseCookieOptions(ctx));
      }
    });
    // Every form of the site posts a CSRF token; no POST gets through without a valid one. The
    // footer's two preference forms (language, NSFW), on every page, are checked by the browser's
    // Origin (or Referer) instead, so pages for visitors without a session carry no token and need
    // no CSRF cookie: they can be cached whole (page-cache.ts).
    app.addHook('preHandler', (request, reply, done) => {
      if (request.method !== 'POST') return done();
      if ((request.routeOptions.config as { csrf?: string } | undefined)?.csrf === 'same-origin') {
        return done(isSameOriginPost(request, siteOrigin) ? undefined : csrfRefusal());
      }
      app.csrfProtection(request, reply, done);
    });
    // Callback-style hooks on every request (here and in metrics-routes.ts): no promise per request.
    app.addHook('onSend', (_request, reply, payload, done) => {
      // The other security headers (nosniff, referrer policy, frame options) are on every answer (server.ts).
      if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('Content-Security-Policy', csp);
      done(null, payload);
    });

    app.setErrorHandler(async (error: FastifyError, request, reply) => {
      try {
        return await renderErrorPage(error, request, reply);
      } catch (renderFailure) {
        request.log.error({ err: renderFailure, cause: error }, 'error page failed');
        return reply.code(500).type('text/plain; charset=utf-8').send('Internal Server Error');
      }
    });
    async function renderErrorPage(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
      await loadVisitor(kit, request);
      if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
        return renderError(kit, request, reply, 403, 'error.csrf');
      }
      if (isError(error, 'textTooLong')) return renderTextTooLong(kit, request, reply, error);
      // A stop word refused by an edit service (library/): the translated 400 page.
      if (isError(error, 'stopWord')) return renderError(kit, request, reply, 400, 'moderation.stop-word');
      if (error instanceof ShoeboxError && error.httpStatus < 500) {
        return renderError(kit, request, reply, error.httpStatus, error.httpStatus === 404 ? 'error.not-found' : 'error.bad-request');
      }
      if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
        const key = error.statusCode === 404 ? 'error.not-found' : error.statusCode === 413 ? 'error.too-large' : 'error.bad-request';
        return renderError(kit, request, reply, error.statusCode, key);
      }
      request.log.error({ err: error }, 'web page failed');
      return renderError(kit, request, reply, 500, 'error.server');
    }

    // Paths no route knows (e.g. /a/b): the site's 404 page for people; under /api/ the API's
    // JSON error envelope, as its own unknown actions answer.
    app.setNotFoundHandler(async (request, reply) => {
      const pathname = request.url.split('?')[0];
      const rest = ctx.urls.basePath && pathname.startsWith(`${ctx.urls.basePath}/`) ? pathname.slice(ctx.urls.basePath.length) : pathname;
      if (rest === '/api' || rest.startsWith('/api/')) return sendApiError(reply, errors.notFound());
      await loadVisitor(kit, request);
      return renderError(kit, request, reply, 404, 'error.not-found');
    });

    await registerAccountRoutes(app, kit);
    await registerAccountPages(app, kit);
    await registerSettingsRoutes(app, kit);
    await registerApiSettingsRoutes(app, kit);
    await registerPreferenceRoutes(app, kit);
    await registerAlbumRoutes(app, kit);
    await registerBulkRoutes(app, kit);
    await registerViewerPage(app, kit);
    await registerOembedRoute(app, kit);
    await registerModerationRoutes(app, kit);
    await registerReportRoutes(app, kit);
    await registerAuditRoutes(app, kit);
    await registerUploaderPages(app, kit);
    await registerCheveretoRoutes(app, kit);
    await registerBrowseRoutes(app, kit);
    await registerDashboard(app, kit);
    await registerSitePageRoutes(app, kit);
    // Last: it owns the catch-all /:username.
    await registerListingRoutes(app, kit);
  });
}
