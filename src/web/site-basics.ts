import type { FastifyInstance } from 'fastify';
import { pingDatabase } from '../db/database.js';
import type { AppContext } from '../context.js';

/** /healthz for load balancers and monitors. The home page is part of the web site (routes/listing-routes.ts). */
export async function registerSiteBasics(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // Each check throws when its service cannot be reached; Redis is checked only when the site uses it.
  const probes: Record<string, () => Promise<unknown>> = {
    database: () => pingDatabase(ctx.db),
    storage: () => ctx.storage.checkHealth(),
    ...(ctx.settings.redisUrl ? { redis: () => ctx.hits.checkHealth() } : {}),
  };
  app.get('/healthz', async (request, reply) => {
    const checks: Record<string, string> = {};
    let healthy = true;
    for (const [name, probe] of Object.entries(probes)) {
      try {
        await probe();
        checks[name] = 'ok';
      } catch (error) {
        healthy = false;
        // The reason goes to the log: its text (hosts, paths, driver messages) is not for anyone who asks.
        checks[name] = 'unavailable';
        request.log.error({ err: error, check: name }, 'health check failed');
      }
    }
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'unhealthy', checks });
  });
}
