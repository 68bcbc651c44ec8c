import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import { registerBanGuard } from './api/ban-guard.js';
import { registerUploadApi } from './api/upload-route.js';
import type { AppContext } from './context.js';
import { registerMetrics } from './metrics/metrics-routes.js';
import { registerMediaFiles } from './web/media-files.js';
import { registerViewerRoutes } from './web/viewer-routes.js';
import { registerSiteBasics } from './web/site-basics.js';
import { noteLocalChange } from './web/page-cache.js';
import { registerWebSite } from './web/site.js';
import { registerWebUploader } from './web/uploader/register-web-uploader.js';

/** Request bodies that carry a file as text (base64 in a form or JSON) need room for the encoding's growth. */
function textBodyLimit(maxUploadBytes: number): number {
  return Math.ceil(maxUploadBytes * 1.4) + 1024 * 1024;
}

export async function buildServer(ctx: AppContext, options: { logger?: FastifyServerOptions['logger'] } = {}): Promise<FastifyInstance> {
  const { settings } = ctx;
  const app = Fastify({
    logger: options.logger ?? { level: settings.logLevel },
    trustProxy: settings.trustProxy,
    bodyLimit: textBodyLimit(settings.maxUploadBytes),
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 300 },
    // One line per request only when debugging; uploads and errors log on their own.
    logController: new LogController({ disableRequestLogging: settings.logLevel !== 'debug' && settings.logLevel !== 'trace' }),
    requestTimeout: 0,
  });

  await app.register(formbody, { bodyLimit: textBodyLimit(settings.maxUploadBytes) });
  await app.register(multipart, {
    limits: {
      fileSize: settings.maxUploadBytes + 1,
      fieldSize: textBodyLimit(settings.maxUploadBytes),
      fields: 50,
      files: 4,
      parts: 60,
    },
  });

  // A request that may have written something ends the page cache's query-free window at once (web/page-cache.ts).
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.method !== 'GET' && request.method !== 'HEAD') noteLocalChange();
    done();
  });
  await registerMetrics(app, ctx);
  registerBanGuard(app, ctx);
  const mount = async (scope: FastifyInstance) => {
    await registerUploadApi(scope, ctx);
    await registerMediaFiles(scope, ctx);
    await registerViewerRoutes(scope, ctx);
    await registerSiteBasics(scope, ctx);
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
