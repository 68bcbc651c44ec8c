import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '../../src/config/settings.js';
import { createAppContext, type AppContext } from '../../src/context.js';
import { importChevereto, type ImportOptions, type ImportReport } from '../../src/import/chevereto-import.js';
import { buildServer } from '../../src/server.js';
import { createMariaDatabase, mariadbSkipReason, type TestMariaDatabase } from '../support/mariadb.js';
import { freePort, testSettings } from '../support/server.js';
import { WebClient } from '../web/web-client.js';
import { buildCommunitySite, type CheveretoSite } from './chevereto-site.js';

const skip = await mariadbSkipReason();

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

const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

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

describe.skipIf(skip)('import-chevereto: a community site into SQLite and local storage', () => {
  let maria: TestMariaDatabase;
  let work: string;
  let imagesDir: string;
  let settings: Settings;
  let old: CheveretoSite;
  let site: Site;
  let first: ImportReport;
  let rerun: ImportReport;
  let dry: ImportReport;

  beforeAll(async () => {
    maria = await createMariaDatabase();
    work = await mkdtemp(path.join(tmpdir(), 'shoebox-import-'));
    imagesDir = path.join(work, 'chevereto', 'images');
    old = await buildCommunitySite(maria, imagesDir);
    const port = await freePort();
    settings = testSettings(path.join(work, 'shoebox'), port);
    const options = { from: maria.url, imagesDir, batchSize: 3 };
    dry = await runImport(settings, { ...options, dryRun: true });
    // Stopped half-way (after the first batch of files), then run again: it carries on.
    await expect(
      runImport(settings, {
        ...options,
        onBatch: (kind) => {
          if (kind === 'images') throw new Error('stopped');
        },
      }),
    ).rejects.toThrow('stopped');
    first = await runImport(settings, options);
    rerun = await runImport(settings, options);
    site = await serve(settings);
  }, 180_000);

  afterAll(async () => {
    await site?.close();
    await maria?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('a dry run reports what it would do and writes nothing', async () => {
    expect(dry.dryRun).toBe(true);
    expect(dry.counts.images).toMatchObject({ found: 8, imported: 7, skipped: 1 });
    expect(dry.counts.users.imported).toBe(3);
    expect(dry.problems.some((p) => p.kind === 'image' && p.id === 7 && /missing/.test(p.problem))).toBe(true);
  });

  it('resumes after a stop, and a finished import run again adds nothing', async () => {
    expect(first.counts.images.alreadyImported).toBe(3);
    expect(first.counts.images.imported).toBe(4);
    expect(rerun.counts.images).toMatchObject({ found: 8, imported: 0, alreadyImported: 7, skipped: 1 });
    expect(rerun.counts.users).toMatchObject({ imported: 0, alreadyImported: 3 });
    expect(rerun.counts.albums).toMatchObject({ imported: 0, alreadyImported: 6 });
    const count = await site.ctx.db.selectFrom('images').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(7);
    expect(first.suggestedSettings.SHOEBOX_TIMEZONE).toBe('America/Santiago');
  });

  it('keeps ids, so encoded ids are the old ones', async () => {
    expect(site.ctx.ids.encode(1)).toBe(old.files.sunset.encoded);
    const row = await site.ctx.db.selectFrom('images').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ folder: '2023/12/31', date_gmt: '2024-01-01 01:30:00', date_local: '2023-12-31 22:30:00', original_filename: 'sunset-original.jpg', views: 11, category_id: 1 });
  });

  it('serves every file byte for byte at the path Chevereto served it from, a missing derivative made again', async () => {
    const browser = new WebClient(site.url);
    for (const key of ['sunset', 'shells', 'guest', 'clip']) {
      const file = old.files[key];
      for (const [role, p] of Object.entries(file.paths)) {
        const res = await fetch(`${site.url}/images/${p}`);
        expect(res.status, `${key} ${role} ${p}`).toBe(200);
        const body = Buffer.from(await res.arrayBuffer());
        if (file.bytes[role]) expect(md5(body), `${key} ${role}`).toBe(md5(file.bytes[role]));
        else expect(body.length).toBeGreaterThan(100);
      }
    }
    expect((await land(browser, `/images/${old.files.lost.paths.image}`)).status).toBe(404);
  });
});
