import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { loadSettings, type Settings } from '../../src/config/settings.js';
import { createAppContext, type AppContext } from '../../src/context.js';
import { regenerateApiKey } from '../../src/db/repositories/api-keys.js';
import { createUser } from '../../src/db/repositories/users.js';
import { buildServer, type BuildServerOptions } from '../../src/server.js';
import { createPostgresDatabase, testServersUsePostgres } from './databases.js';

export interface TestServer {
  /** e.g. http://127.0.0.1:41234 (plus the base path, when one is set). */
  url: string;
  port: number;
  ctx: AppContext;
  app: FastifyInstance;
  dataDir: string;
  settings: Settings;
  /** Creates a user and returns its API key. */
  createUserWithKey(username: string, options?: { admin?: boolean }): Promise<{ key: string; userId: number }>;
  close(): Promise<void>;
}

/** The settings every test server starts from: loopback, quiet, private URLs allowed (for local fetch tests). */
export function testSettings(dataDir: string, port: number, env: Record<string, string> = {}) {
  return loadSettings({
    SHOEBOX_DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    SHOEBOX_LOG_LEVEL: 'silent',
    SHOEBOX_ALLOW_PRIVATE_URLS: '1',
    SHOEBOX_BASE_URL: `http://127.0.0.1:${port}`,
    ...env,
  });
}

/**
 * A real Shoebox on a free port with its own data folder. `env` takes the same names as the
 * environment (SHOEBOX_...), so tests configure it exactly as a user would.
 */
export async function startTestServer(env: Record<string, string> = {}, options: { onRoute?: BuildServerOptions['onRoute'] } = {}): Promise<TestServer> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-test-'));
  const port = await freePort();
  // The `postgres` vitest project runs the same suites on a fresh PostgreSQL database per server.
  const postgres = testServersUsePostgres() && !env.SHOEBOX_DATABASE_URL ? await createPostgresDatabase() : null;
  const settings = testSettings(dataDir, port, { ...(postgres ? { SHOEBOX_DATABASE_URL: postgres.url } : {}), ...env });
  const ctx = await createAppContext(settings);
  const app = await buildServer(ctx, { logger: env.SHOEBOX_LOG_LEVEL === 'error' ? { level: 'error' } : false, onRoute: options.onRoute });
  await app.listen({ port: settings.port, host: '127.0.0.1' });
  return {
    url: settings.baseUrl,
    port: settings.port,
    ctx,
    app,
    dataDir,
    settings,
    async createUserWithKey(username, options = {}) {
      const user = await createUser(ctx.db, { username, password: 'password123', email: `${username}@example.test`, isAdmin: options.admin });
      return { key: await regenerateApiKey(ctx.db, user.id), userId: user.id };
    },
    async close() {
      // A keep-alive socket mid-response is not "idle"; without this, close() can wait out the keep-alive timeout.
      app.server.closeAllConnections();
      await app.close();
      await ctx.close();
      await postgres?.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
