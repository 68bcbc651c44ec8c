import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orphansOf, runFuzz } from '../support/fuzz.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Issue 13: fast-check over the upload API, the resumable routes and the site's forms, over
 * real HTTP against a real server in this process: thousands of random and mutated requests,
 * no 5xx, no file without its row or row without its files afterwards, and the server's heap
 * back near where it was. `npm run fuzz -- --cases N` runs the same properties longer.
 */
const CASES = Number(process.env.SHOEBOX_FUZZ_CASES ?? 400);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('fuzzing the front doors', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_MAX_UPLOAD_SIZE: '2MB', SHOEBOX_GUEST_WEB_UPLOADS: '1' });
    ({ key } = await server.createUserWithKey('fuzzer'));
  });
  afterAll(async () => {
    await server.close();
  });

  it(`answers ${CASES * 5} random requests without a 5xx, leaves no orphan, and gives its memory back`, async () => {
    // A short warm-up, so lazy caches (templates, catalogs, codecs) are in the baseline.
    await runFuzz(server, { cases: 20, seed: 1, key });
    const before = settledHeap();
    const started = Date.now();
    const report = await runFuzz(server, { cases: CASES, seed: Number(process.env.SHOEBOX_FUZZ_SEED ?? 13), key });
    const seconds = (Date.now() - started) / 1000;
    const after = settledHeap();
    console.log(`fuzz: ${report.requests} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(report.statuses)}; heap ${(before / 1e6).toFixed(1)} → ${(after / 1e6).toFixed(1)} MB`);
    expect(report.serverErrors).toEqual([]);
    expect(report.requests + (report.statuses.cut ?? 0)).toBeGreaterThanOrEqual(CASES * 5);
    expect(report.statuses['200'] ?? 0).toBeGreaterThan(0);

    const orphans = await orphansOf(server);
    expect(orphans).toEqual({ filesWithoutRow: [], rowsWithoutFiles: [], claimsWithoutRow: [] });
    // No work folder of an API upload is left behind (resumable parts wait for their uploader).
    const tmp = await readdir(path.join(server.dataDir, 'tmp'));
    expect(tmp.filter((entry) => /^(api|ingest)-/.test(entry))).toEqual([]);
    expect(after - before).toBeLessThan(48 * 1024 * 1024);
  }, 240_000);
});
