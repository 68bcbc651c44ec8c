import type { FastifyInstance } from 'fastify';
import type { Settings } from '../../src/config/settings.js';
import { createAppContext, type AppContext } from '../../src/context.js';
import { buildServer } from '../../src/server.js';
import { testSettings } from './server.js';

export interface RunningServer {
  url: string;
  ctx: AppContext;
  app: FastifyInstance;
  settings: Settings;
  /** Stops the server as a crash would for its clients: open connections are cut, not drained. */
  kill(): Promise<void>;
}

/**
 * A real server on a given port and data folder, so a test can stop it and start another on
 * the same address and data (a restart). The caller owns and removes the data folder.
 */
export async function startServerAt(dataDir: string, port: number, env: Record<string, string> = {}): Promise<RunningServer> {
  const settings = testSettings(dataDir, port, env);
  const ctx = await createAppContext(settings);
  const app = await buildServer(ctx, { logger: false });
  await app.listen({ port, host: '127.0.0.1' });
  return {
    url: settings.baseUrl,
    ctx,
    app,
    settings,
    async kill() {
      app.server.closeAllConnections();
      await app.close();
      await ctx.close();
    },
  };
}
