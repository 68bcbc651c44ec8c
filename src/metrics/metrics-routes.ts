import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { secretsEqual } from '../core/secrets.js';
import { metricsFor } from './metrics.js';

function tokenMatches(header: string | undefined, token: string): boolean {
  return secretsEqual(/^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '', token);
}

/**
 * Prometheus metrics: HTTP hooks on the root instance (so they see every route, under the
 * base path or not), upload counters fed by the ingest pipeline, and `GET /metrics`.
 * Called directly on the root app (not through `register`) so its hooks are not encapsulated.
 */
export async function registerMetrics(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { settings } = ctx;
  if (!settings.metricsEnabled) return;
  const metrics = metricsFor(ctx);

  // Fastify times every request that has an onResponse hook (from its arrival, before the
  // onRequest hooks): `reply.elapsedTime`, so no hook of our own at the start of each request.
  app.addHook('onResponse', (request, reply, done) => {
    // The route pattern, never the raw URL: one series per route, not per file.
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  const serveMetrics = async (request: FastifyRequest, reply: FastifyReply) => {
    if (settings.metricsToken && !tokenMatches(request.headers.authorization, settings.metricsToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').type('text/plain; charset=utf-8').send('metrics need a bearer token\n');
    }
    return reply.type(metrics.registry.contentType).header('cache-control', 'no-store').send(await metrics.registry.metrics());
  };
  app.get('/metrics', serveMetrics);
  if (ctx.urls.basePath) app.get(`${ctx.urls.basePath}/metrics`, serveMetrics);
}
