import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { regenerateApiKey } from '../../src/db/repositories/api-keys.js';
import { createUser } from '../../src/db/repositories/users.js';
import { resumableDirectory } from '../../src/ingest/resumable-parts.js';
import { writeBigPng } from '../support/media.js';
import { startServerAt, type RunningServer } from '../support/restartable-server.js';
import { freePort } from '../support/server.js';
import { ARTIFACTS, buildUploaderBundle, chromiumSkipReason, launchChromium, signIn } from './browser-support.js';

/**
 * A 300 MB upload from the browser uploader in 50 MB chunks (below Cloudflare's 100 MB
 * request cap), with the server killed and started again mid-way: Uppy's tus client resumes
 * the same upload from the server's offset, and the stored file is byte-identical.
 */
const skipReason = chromiumSkipReason();
const BIG_BYTES = 300 * 1024 * 1024;

/** Bytes received so far by the (single) unfinished upload in the tus folder. */
async function partBytes(dataDir: string): Promise<number> {
  const dir = resumableDirectory(dataDir);
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => !n.endsWith('.json'));
  const sizes = await Promise.all(names.map((n) => stat(path.join(dir, n)).then((s) => s.size, () => 0)));
  return Math.max(0, ...sizes);
}

async function md5OfUrl(url: string): Promise<{ md5: string; size: number }> {
  const res = await fetch(url);
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { md5: hash.digest('hex'), size };
}

describe.skipIf(skipReason !== undefined)(`a 300 MB upload that survives a server restart${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let work: string;
  let dataDir: string;
  let bigFile: string;
  let sourceMd5: string;
  let server: RunningServer;
  let browser: Browser;
  let port: number;
  const env = { SHOEBOX_MAX_UPLOAD_SIZE: '400MB', SHOEBOX_CHUNK_SIZE: '50MB' };

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    await buildUploaderBundle();
    work = await mkdtemp(path.join(tmpdir(), 'shoebox-300mb-'));
    dataDir = path.join(work, 'data');
    bigFile = path.join(work, 'harbour-panorama.png');
    sourceMd5 = await writeBigPng(BIG_BYTES, bigFile);
    port = await freePort();
    server = await startServerAt(dataDir, port, env);
    const user = await createUser(server.ctx.db, { username: 'gina', password: 'password123', email: null });
    await regenerateApiKey(server.ctx.db, user.id);
    browser = await launchChromium();
  }, 300_000);
  afterAll(async () => {
    await browser?.close();
    await server?.kill();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('uploads in chunks, is cut off mid-way, resumes after the restart, and stores the same bytes', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    const creations: string[] = [];
    const resumeOffsets: number[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && /\/upload\/tus$/.test(request.url())) creations.push(request.url());
    });
    page.on('response', (response) => {
      if (response.request().method() === 'HEAD' && /\/upload\/tus\/[0-9a-f]{32}$/.test(response.url())) {
        resumeOffsets.push(Number(response.headers()['upload-offset']));
      }
    });

    await signIn(page, server.url, 'gina');
    await page.goto(`${server.url}/upload`);
    await page.waitForSelector('.uppy-Dashboard-inner');
    await page.locator('input.uppy-Dashboard-input').first().setInputFiles(bigFile);
    // The browser reads through the whole file for its preview, which can take a while.
    await page.waitForSelector('.uppy-Dashboard-Item', { state: 'attached', timeout: 120_000 });
    await page.click('.uppy-StatusBar-actionBtn--upload');

    // Overall progress is shown while it goes.
    await page.waitForFunction(() => /^Uploading 1 file \(\d+% complete\)$/.test(document.querySelector('.su-status')?.textContent ?? ''));

    // Once the server holds more than two chunks, it goes down in the middle of the third.
    while ((await partBytes(dataDir)) < 120 * 1024 * 1024) await new Promise((r) => setTimeout(r, 25));
    await server.kill();
    const kept = await partBytes(dataDir);
    expect(kept).toBeGreaterThanOrEqual(100 * 1024 * 1024);
    expect(kept).toBeLessThan(BIG_BYTES);
    server = await startServerAt(dataDir, port, env);

    await page.waitForSelector('.su-result', { timeout: 240_000 });
    await page.waitForSelector('.uppy-StatusBar.is-complete');
    await page.screenshot({ path: path.join(ARTIFACTS, 'uploader-300mb-resumed.png'), fullPage: true });

    // One upload was created; after the restart the client asked where to go on and did.
    expect(creations).toHaveLength(1);
    expect(resumeOffsets.length).toBeGreaterThan(0);
    expect(Math.max(...resumeOffsets)).toBeGreaterThanOrEqual(100 * 1024 * 1024);

    const row = await server.ctx.db.selectFrom('images').selectAll().executeTakeFirstOrThrow();
    expect(row.md5).toBe(sourceMd5);
    expect(row.size).toBe((await stat(bigFile)).size);
    const directUrl = await page.locator('.su-result .su-link-direct').getAttribute('href');
    const stored = await md5OfUrl(directUrl!);
    expect(stored).toEqual({ md5: sourceMd5, size: row.size });
    // Nothing is left of the parts.
    expect(await partBytes(dataDir)).toBe(0);
  }, 300_000);
});
