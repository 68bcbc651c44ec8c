import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions, type RouteOptions } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import { registerBanGuard } from './api/ban-guard.js';
import { registerUploadApi } from './api/upload-route.js';
import { registerOpenApi } from './api4/openapi.js';
import { registerApiV4 } from './api4/routes.js';
import type { AppContext } from './context.js';
import { lazySchemaCompilers } from './http/lazy-schema-compilers.js';
import { guardConnections, httpServerOptions, trustedProxyMatcher, type ConnectionLimits } from './http/connection-guard.js';
import { registerMetrics } from './metrics/metrics-routes.js';
import { registerMediaFiles } from './web/media-files.js';
import { registerViewerRoutes } from './web/viewer-routes.js';
import { viewerRouteRewriter } from './web/live-routes.js';
import { registerSecurityHeaders } from './web/security-headers.js';
import { registerSiteBasics } from './web/site-basics.js';
import { registerFavicon } from './web/favicon.js';
import { noteLocalChange } from './web/page-cache.js';
import { registerWebSite } from './web/site.js';
import { registerWebUploader } from './web/uploader/register-web-uploader.js';
import { promptDelivery } from './webhooks/deliver-webhooks.js';
import { listenForChanges } from './webhooks/webhook-queue.js';


export interface BuildServerOptions {
  logger?: FastifyServerOptions['logger'];
  /** Told of every route as it is added, with its options (the route-schema test walks the route table with it). */
  onRoute?: (route: RouteOptions) => void;
}

export async function buildServer(ctx: AppContext, options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const { settings } = ctx;
  const limits: ConnectionLimits = {
    headersTimeoutMs: settings.headersTimeoutMs,
    idleTimeoutMs: settings.idleTimeoutMs,
    minBodyBytesPerSecond: settings.minBodyBytesPerSecond,
    bodyRateWindowMs: settings.bodyRateWindowMs,
    maxConnectionsPerAddress: settings.maxConnectionsPerAddress,
  };
  const app = Fastify({
    logger: options.logger ?? { level: settings.logLevel },
    trustProxy: settings.trustProxy,
    http: httpServerOptions(limits),
    // Every route takes small bodies only (forms, JSON): the routes that take a file raise their own
    // limit (the API's upload route) or read the body as a stream (resumable uploads, multipart).
    bodyLimit: settings.formBodyLimitBytes,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // Viewer pages at SHOEBOX_IMAGE_ROUTE / SHOEBOX_VIDEO_ROUTE as they are now (web/live-routes.ts).
    rewriteUrl: viewerRouteRewriter(settings, ctx.urls.basePath),
    // One line per request only when debugging; uploads and errors log on their own.
    logController: new LogController({ disableRequestLogging: settings.logLevel !== 'debug' && settings.logLevel !== 'trace' }),
    // No limit on a whole request (a big upload over a slow link takes long): the connection guard
    // cuts clients that stall or trickle instead (http/connection-guard.ts).
    requestTimeout: 0,
    // Route schemas (the management API) refuse unknown fields instead of dropping them silently;
    // a form value is a string or a list of strings (`type: ['string', 'array']`, web/form-schemas.ts).
    ajv: { customOptions: { removeAdditional: false, allowUnionTypes: true } },
    // Each route's schemas compiled on its first request, not at start (http/lazy-schema-compilers.ts).
    schemaController: { compilersFactory: lazySchemaCompilers() },
  });
  if (options.onRoute) {
    const onRoute = options.onRoute;
    app.addHook('onRoute', (route) => onRoute(route));
  }
  guardConnections(app.server, limits, trustedProxyMatcher(settings.trustProxy));

  // Headers every answer carries, worked out once (web/security-headers.ts).
  registerSecurityHeaders(app, settings);
  // No bodyLimit here: each route's own limit applies (see bodyLimit above).
  await app.register(formbody);
  await app.register(multipart, {
    limits: {
      // The upload doors pass the limits as they are at each request (uploads/upload-body.ts);
      // these are the defaults of the other multipart forms, which also pass their own.
      fileSize: settings.maxUploadBytes + 1,
      // Text fields are small: a source sent as text is read as a stream (uploads/upload-body.ts).
      fieldSize: settings.formBodyLimitBytes,
      fields: 50,
      files: 4,
      parts: 60,
    },
  });

  // An answer sent before its request's body was read (a refused upload, a bad key) closes the
  // connection: the rest of that body would otherwise sit unread and hang the connection.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (!request.raw.complete) reply.header('Connection', 'close');
    done(null, payload);
  });
  // A request that may have written something ends the page cache's query-free window at once (web/page-cache.ts).
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') noteLocalChange();
    done();
  });
  // Settings changed in the dashboard, on this or another instance (admin/live-settings.ts).
  ctx.live.start();
  app.addHook('onClose', async () => ctx.live.stop());
  await registerMetrics(app, ctx);
  registerBanGuard(app, ctx);
  await registerOpenApi(app, ctx);
  // Changes queue their webhook deliveries, sent at once from here (retries by the background job).
  const delivery = promptDelivery(ctx, undefined, app.log);
  const stopListening = listenForChanges(ctx, delivery.kick);
  app.addHook('onClose', async () => {
    stopListening();
    await delivery.stop();
  });
  const mount = async (scope: FastifyInstance) => {
    await registerUploadApi(scope, ctx);
    await registerApiV4(scope, ctx);
    await registerMediaFiles(scope, ctx);
    await registerViewerRoutes(scope, ctx);
    await registerSiteBasics(scope, ctx);
    await registerFavicon(scope, ctx.live);
    await registerWebSite(scope, ctx);
    await registerWebUploader(scope, ctx);
  };
  // Under a sub-path (SHOEBOX_BASE_URL=https://example.com/pics) the routes answer both with the
  // prefix (proxies that pass it on) and without it (proxies that strip it).
  const basePath = ctx.urls.basePath;
  await app.register(mount, { prefix: basePath });
  if (basePath) await app.register(mount);
  return app;
}
