import { createHash } from 'node:crypto';
import type { Settings } from '../../src/config/settings.js';
import { createAppContext, type AppContext } from '../../src/context.js';
import { importChevereto, type ImportOptions, type ImportReport } from '../../src/import/chevereto-import.js';
import { buildServer } from '../../src/server.js';
import { WebClient } from '../web/web-client.js';

export const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

export async function runImport(settings: Settings, options: ImportOptions): Promise<ImportReport> {
  const ctx = await createAppContext(settings);
  try {
    return await importChevereto({ database: ctx.database, storage: ctx.storage, settings, binaries: ctx.binaries }, options);
  } finally {
    await ctx.close();
  }
}

export interface Site {
  url: string;
  ctx: AppContext;
  close(): Promise<void>;
}

export async function serve(settings: Settings): Promise<Site> {
  const ctx = await createAppContext(settings);
  const app = await buildServer(ctx, { logger: false });
  await app.listen({ port: settings.port, host: '127.0.0.1' });
  return {
    url: settings.baseUrl,
    ctx,
    async close() {
      app.server.closeAllConnections();
      await app.close();
      await ctx.close();
    },
  };
}

/** Follows redirects (on this site only) and returns the last answer with the path it ended on. */
export async function land(browser: WebClient, pathname: string): Promise<{ status: number; path: string; text: string }> {
  let current = pathname;
  for (let hops = 0; hops < 5; hops++) {
    const page = await browser.get(current);
    if (page.status >= 300 && page.status < 400 && page.location) {
      current = new URL(page.location, browser.baseUrl).pathname + new URL(page.location, browser.baseUrl).search;
      continue;
    }
    return { status: page.status, path: current, text: page.text };
  }
  throw new Error(`too many redirects from ${pathname}`);
}

