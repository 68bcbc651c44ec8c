/**
 * Pages: requests per second of a viewer page (/image/<slug>.<id>) against a Fastify
 * hello-world route served by the same process (Shoebox built in-process with buildServer,
 * plus one extra route). Target: ratio ≥ 0.5.
 *
 *   npx tsx bench/pages.ts [--smoke] [--keep]
 */
import path from 'node:path';
import { writePhotoJpeg } from './lib/fixtures.js';
import { measureLoad, type LoadResult } from './lib/load.js';
import { REPO_ROOT, type BenchOptions } from './lib/options.js';
import { runWhenMain, secondsSince } from './lib/run-alone.js';
import { probeStatus, startChild, waitFor200 } from './lib/processes.js';
import { fmt, ratioAtLeast, type BenchResult } from './lib/report.js';
import { createUserWithKey, freePort, SERVER_NODE_FLAGS, shoeboxEnv } from './lib/shoebox.js';
import { readFile } from 'node:fs/promises';
import { getLength, uploadBuffer } from './lib/upload-client.js';
import { cpuSecondsOf } from './lib/workers.js';

const CONNECTIONS = 32;

/** Signs in through the web form (as a browser does) and returns the Cookie header of the session. */
async function signIn(origin: string, login: string, password: string): Promise<string> {
  const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]);
  const form = await fetch(`${origin}/login`);
  const csrfCookies = cookiesOf(form);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!token) throw new Error('no CSRF token on /login');
  const res = await fetch(`${origin}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookies.join('; ') },
    body: new URLSearchParams({ login, password, _csrf: token }),
  });
  const session = cookiesOf(res).find((c) => c.startsWith('shoebox_session='));
  if (res.status !== 303 || !session) throw new Error(`signing in answered ${res.status}`);
  return [...csrfCookies, session].join('; ');
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const { smoke, workDir, log } = options;
  const seconds = smoke ? 1 : 5;
  const rounds = smoke ? 1 : 3;
  const dataDir = path.join(workDir, 'data');
  const port = await freePort();
  const env = shoeboxEnv(dataDir, port, { SHOEBOX_FLOOD_LIMIT: '0' });
  const child = startChild(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', path.join(REPO_ROOT, 'bench/servers/pages-app.ts')], { env, cwd: REPO_ROOT, logFile: path.join(workDir, 'pages-app.log') });
  const origin = `http://127.0.0.1:${port}`;
  const runs: { viewer: LoadResult[]; hello: LoadResult[]; owner: LoadResult[] } = { viewer: [], hello: [], owner: [] };
  const cpu: { viewer: number[]; hello: number[]; owner: number[] } = { viewer: [], hello: [], owner: [] };
  let ownerCookie = '';
  let viewerPath = '';
  let viewerBytes = 0;
  try {
    await waitFor200(`${origin}/__bench/hello`, { timeoutMs: 30_000, child });
    const key = await createUserWithKey(env, 'bench');
    const photo = path.join(workDir, 'photo.jpg');
    await writePhotoJpeg(photo, 1600, 1200);
    const image = await uploadBuffer(origin, key, await readFile(photo), 'Sunset over the harbour.jpg', 'image/jpeg');
    viewerPath = new URL(image.url_viewer).pathname;
    const page = await getLength(`${origin}${viewerPath}`);
    if (page.status !== 200) throw new Error(`the viewer page ${viewerPath} answered ${page.status}`);
    viewerBytes = page.length;
    if ((await probeStatus(`${origin}/__bench/hello`)) !== 200) throw new Error('the hello route is gone');
    ownerCookie = await signIn(origin, 'bench', 'bench-password');

    for (const [name, p] of [['viewer', viewerPath], ['hello', '/__bench/hello']] as const) {
      await measureLoad({ origin, paths: [p], seconds: 1, connections: CONNECTIONS, workDir });
      void name;
    }
    for (let round = 0; round < rounds; round++) {
      for (const [name, p] of [['hello', '/__bench/hello'], ['viewer', viewerPath], ['owner', viewerPath]] as const) {
        log(`round ${round + 1}: ${name}, ${CONNECTIONS} keep-alive connections, ${seconds}s`);
        const cpuBefore = cpuSecondsOf(child.pid);
        const headers = name === 'owner' ? { cookie: ownerCookie } : undefined;
        const result = await measureLoad({ origin, paths: [p], seconds, connections: CONNECTIONS, workDir, headers });
        if (result.errors > 0) throw new Error(`${name}: ${result.errors} failed requests`);
        runs[name].push(result);
        cpu[name].push(((cpuSecondsOf(child.pid) - cpuBefore) * 1e6) / result.requests);
      }
    }
  } finally {
    await child.stop();
  }
  const best = (xs: LoadResult[]) => xs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a));
  const viewer = best(runs.viewer);
  const hello = best(runs.hello);
  const owner = best(runs.owner);
  const tool = viewer.tool;
  const result: BenchResult = {
    id: 'pages',
    title: 'Viewer pages',
    method: [
      `One process built the way \`shoebox serve\` builds it (dist/: loadSettings, createAppContext, buildServer; SQLite, default settings and logger) with one extra route, GET /__bench/hello → {"hello":"world"} (Fastify's hello world), registered on the same instance so it passes the same global hooks (bench/servers/pages-app.ts).`,
      `The viewer page of a 1600×1200 JPEG uploaded through the API (${viewerPath.replace(/\.[^.]+$/, '.<id>')}, ${fmt(viewerBytes / 1e3, 1)} KB of HTML): requested as an anonymous visitor (no cookies; such pages carry no CSRF token and set no cookie) and served from the page cache (SHOEBOX_PAGE_CACHE_SIZE, default on; docs/WEB.md "Page cache"): at most once a second the image row (with its tag ids) and its album chain are read from SQLite, access is decided and the cached copy checked against those rows; in between, with nothing changed through this process, the checked copy is sent without a query. A cached copy is at most 5 s old.`,
      `Diagnostic row: the same page requested by its owner, signed in through the login form (session cookie): never cached, rendered on every request (Eta, i18next, owner tools with the album list).`,
      `Load: ${tool} with 1 thread, ${CONNECTIONS} keep-alive connections, ${seconds} s per run after a 1 s warm-up, ${rounds} round(s) alternating hello, anonymous viewer and owner viewer; best run of each. Any failed request fails the run.`,
    ],
    figures: [
      { name: 'Fastify hello world (reference)', value: hello.requestsPerSecond, unit: 'requests/s', note: `p50 ${fmt(hello.p50, 2)} ms, p99 ${fmt(hello.p99, 2)} ms; runs ${runs.hello.map((r) => fmt(r.requestsPerSecond, 0)).join(', ')}` },
      { name: 'server CPU per request, hello world (least of the runs)', value: Math.min(...cpu.hello), unit: 'µs' },
      { name: 'server CPU per request, viewer page (least of the runs)', value: Math.min(...cpu.viewer), unit: 'µs' },
      { name: 'viewer page', value: viewer.requestsPerSecond, unit: 'requests/s', note: `p50 ${fmt(viewer.p50, 2)} ms, p99 ${fmt(viewer.p99, 2)} ms; runs ${runs.viewer.map((r) => fmt(r.requestsPerSecond, 0)).join(', ')}` },
      { name: 'server CPU per request, viewer page signed in as its owner, uncached (least of the runs; diagnostic)', value: Math.min(...cpu.owner), unit: 'µs' },
      { name: 'viewer page, signed in as its owner (uncached; diagnostic)', value: owner.requestsPerSecond, unit: 'requests/s', note: `p50 ${fmt(owner.p50, 2)} ms, p99 ${fmt(owner.p99, 2)} ms; ${fmt(owner.requestsPerSecond / hello.requestsPerSecond, 2)} of hello world` },
    ],
    checks: [ratioAtLeast('pages: viewer page ÷ hello world requests/s', viewer.requestsPerSecond / hello.requestsPerSecond, 0.5)],
    notes: [],
    seconds: secondsSince(started),
  };
  return result;
}

await runWhenMain(import.meta.url, 'pages', run);
