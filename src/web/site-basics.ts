import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppContext } from '../context.js';
import { escapeHtml } from '../api/image-response.js';
import { acceptedLabel } from '../media/formats.js';
import { formatBytes } from '../core/errors.js';

/** The home page and /healthz. */
export async function registerSiteBasics(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.get('/healthz', async (_request, reply) => {
    const checks: Record<string, string> = {};
    let healthy = true;
    try {
      await sql`select 1`.execute(ctx.db);
      checks.database = 'ok';
    } catch (error) {
      healthy = false;
      checks.database = (error as Error).message;
    }
    try {
      await ctx.storage.checkHealth();
      checks.storage = 'ok';
    } catch (error) {
      healthy = false;
      checks.storage = (error as Error).message;
    }
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'unhealthy', checks });
  });

  app.get('/', async (_request, reply) => {
    const apiUrl = ctx.urls.absolute('/api/1/upload');
    const limits = `${acceptedLabel(ctx.settings.acceptedExtensions)} max ${formatBytes(ctx.settings.maxUploadBytes)}`;
    return reply.type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Shoebox</title></head>
<body><main><h1>Shoebox</h1><p>Image and video hosting. Upload API: <code>${escapeHtml(apiUrl)}</code></p><p>${escapeHtml(limits)}</p></main></body></html>`);
  });
}
