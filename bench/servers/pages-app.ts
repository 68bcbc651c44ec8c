/**
 * Shoebox built in-process from the compiled code (dist/) exactly as `shoebox serve` builds
 * it (settings from the environment, createAppContext, buildServer), plus one Fastify
 * hello-world route, GET /__bench/hello, so the viewer page and its reference run in the same
 * process with the same plugins, hooks and logger.
 *
 *   node --import tsx bench/servers/pages-app.ts   (PORT, SHOEBOX_DATA_DIR, ... from the environment)
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';

const dist = (p: string) => pathToFileURL(path.resolve(import.meta.dirname, '..', '..', 'dist', p)).href;
const { loadSettings } = (await import(dist('config/settings.js'))) as { loadSettings(): { port: number; host: string } };
const { createAppContext } = (await import(dist('context.js'))) as { createAppContext(settings: unknown): Promise<unknown> };
const { buildServer } = (await import(dist('server.js'))) as { buildServer(ctx: unknown): Promise<FastifyInstance> };

const settings = loadSettings();
const app = await buildServer(await createAppContext(settings));
app.get('/__bench/hello', async () => ({ hello: 'world' }));
await app.listen({ port: settings.port, host: settings.host });
// A clean exit on SIGTERM lets `node --cpu-prof` write its profile when the benchmark stops us.
process.once('SIGTERM', () => void app.close().finally(() => process.exit(0)));
