import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { AppContext } from '../context.js';

/** /healthz for load balancers and monitors. The home page is part of the web site (routes/listing-routes.ts). */
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
    if (ctx.settings.redisUrl) {
      try {
        await ctx.hits.checkHealth();
        checks.redis = 'ok';
      } catch (error) {
        healthy = false;
        checks.redis = (error as Error).message;
      }
    }
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'ok' : 'unhealthy', checks });
  });
}
