/**
 * Pages: requests per second of a viewer page (/image/<slug>.<id>) against a Fastify
 * hello-world route served by the same process (Shoebox built in-process with buildServer,
 * plus one extra route). Targets: ratio ≥ 0.5 for a visitor without a session; ≥ 0.25 for the
 * viewer page signed in as its owner, and a signed-in member's home and album pages.
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
import { createAlbum, createMember, signIn, uploadToAlbum } from './lib/signed-in.js';

const CONNECTIONS = 32;

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
  type Kind = 'hello' | 'viewer' | 'owner' | 'home' | 'album';
  const runs: Record<Kind, LoadResult[]> = { viewer: [], hello: [], owner: [], home: [], album: [] };
  const cpu: Record<Kind, number[]> = { viewer: [], hello: [], owner: [], home: [], album: [] };
  let ownerCookie = '';
  let memberCookie = '';
  let albumPath = '';
  let albumFiles = 0;
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
    // A member (no admin rights) and an album of the owner's with a page of files in it.
    await createMember(env, 'member', 'member-password');
    memberCookie = await signIn(origin, 'member', 'member-password');
    const album = await createAlbum(origin, ownerCookie, 'Harbour evenings');
    albumPath = album.path;
    albumFiles = smoke ? 2 : 12;
    const small = path.join(workDir, 'small.jpg');
    await writePhotoJpeg(small, 800, 600);
    const smallBytes = await readFile(small);
    for (let i = 0; i < albumFiles; i++) await uploadToAlbum(origin, key, smallBytes, `Evening ${i + 1}.jpg`, album.id);
    for (const [p, cookie, what] of [[viewerPath, ownerCookie, 'bench'], ['/', memberCookie, 'member'], [albumPath, memberCookie, 'member']] as const) {
      const res = await fetch(`${origin}${p}`, { headers: { cookie } });
      const html = await res.text();
      if (res.status !== 200 || !html.includes(`<span class="nav-username">${what}</span>`)) throw new Error(`${p} signed in as ${what} answered ${res.status} without their menu`);
    }

    const cookieOf: Record<Kind, string | null> = { hello: null, viewer: null, owner: ownerCookie, home: memberCookie, album: memberCookie };
    const pathOf: Record<Kind, string> = { hello: '/__bench/hello', viewer: viewerPath, owner: viewerPath, home: '/', album: albumPath };
    const kinds: Kind[] = ['hello', 'viewer', 'owner', 'home', 'album'];
    for (const name of kinds) {
      const cookie = cookieOf[name];
      await measureLoad({ origin, paths: [pathOf[name]], seconds: 1, connections: CONNECTIONS, workDir, headers: cookie ? { cookie } : undefined });
    }
    for (let round = 0; round < rounds; round++) {
      for (const name of kinds) {
        const p = pathOf[name];
        log(`round ${round + 1}: ${name}, ${CONNECTIONS} keep-alive connections, ${seconds}s`);
        const cpuBefore = cpuSecondsOf(child.pid);
        const cookie = cookieOf[name];
        const headers = cookie ? { cookie } : undefined;
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
  const home = best(runs.home);
  const albumRun = best(runs.album);
  const tool = viewer.tool;
  const signedInRow = (name: string, run: LoadResult, kind: Kind) => [
    { name: `server CPU per request, ${name} (least of the runs)`, value: Math.min(...cpu[kind]), unit: 'µs' },
    { name, value: run.requestsPerSecond, unit: 'requests/s', note: `p50 ${fmt(run.p50, 2)} ms, p99 ${fmt(run.p99, 2)} ms; runs ${runs[kind].map((r) => fmt(r.requestsPerSecond, 0)).join(', ')}; ${fmt(run.requestsPerSecond / hello.requestsPerSecond, 2)} of hello world` },
  ];
  const result: BenchResult = {
    id: 'pages',
    title: 'Viewer pages',
    method: [
      `One process built the way \`shoebox serve\` builds it (dist/: loadSettings, createAppContext, buildServer; SQLite, default settings and logger) with one extra route, GET /__bench/hello → {"hello":"world"} (Fastify's hello world), registered on the same instance so it passes the same global hooks (bench/servers/pages-app.ts).`,
      `The viewer page of a 1600×1200 JPEG uploaded through the API (${viewerPath.replace(/\.[^.]+$/, '.<id>')}, ${fmt(viewerBytes / 1e3, 1)} KB of HTML): requested as an anonymous visitor (no cookies; such pages carry no CSRF token and set no cookie) and served from the page cache (SHOEBOX_PAGE_CACHE_SIZE, default on; docs/WEB.md "Page cache"): at most once a second the image row (with its tag ids) and its album chain are read from SQLite, access is decided and the cached copy checked against those rows; in between, with nothing changed through this process, the checked copy is sent without a query. A cached copy is at most 5 s old.`,
      `Signed in (session cookie from the login form): the same viewer page requested by its owner (owner's tools, the album list, the sign-out form's CSRF token), and a member's (no admin rights) home page and the page of the owner's public album of ${albumFiles} files. Each account has its own copy in the page cache, checked against the rows it shows (the account row included) at most once a second and after any change through this process; the session's CSRF token is put in per response, and the session row is read again at most once a second.`,
      `Load: ${tool} with 1 thread, ${CONNECTIONS} keep-alive connections, ${seconds} s per run after a 1 s warm-up, ${rounds} round(s) alternating hello, anonymous viewer, owner's viewer, member's home and member's album; best run of each. Any failed request fails the run.`,
    ],
    figures: [
      { name: 'Fastify hello world (reference)', value: hello.requestsPerSecond, unit: 'requests/s', note: `p50 ${fmt(hello.p50, 2)} ms, p99 ${fmt(hello.p99, 2)} ms; runs ${runs.hello.map((r) => fmt(r.requestsPerSecond, 0)).join(', ')}` },
      { name: 'server CPU per request, hello world (least of the runs)', value: Math.min(...cpu.hello), unit: 'µs' },
      { name: 'server CPU per request, viewer page (least of the runs)', value: Math.min(...cpu.viewer), unit: 'µs' },
      { name: 'viewer page', value: viewer.requestsPerSecond, unit: 'requests/s', note: `p50 ${fmt(viewer.p50, 2)} ms, p99 ${fmt(viewer.p99, 2)} ms; runs ${runs.viewer.map((r) => fmt(r.requestsPerSecond, 0)).join(', ')}` },
      ...signedInRow('viewer page, signed in as its owner', owner, 'owner'),
      ...signedInRow('home page, signed in as a member', home, 'home'),
      ...signedInRow('album page, signed in as a member', albumRun, 'album'),
    ],
    checks: [
      ratioAtLeast('pages: viewer page ÷ hello world requests/s', viewer.requestsPerSecond / hello.requestsPerSecond, 0.5),
      ratioAtLeast('pages: viewer page signed in as its owner ÷ hello world requests/s', owner.requestsPerSecond / hello.requestsPerSecond, 0.25),
      ratioAtLeast('pages: home page signed in as a member ÷ hello world requests/s', home.requestsPerSecond / hello.requestsPerSecond, 0.25),
      ratioAtLeast('pages: album page signed in as a member ÷ hello world requests/s', albumRun.requestsPerSecond / hello.requestsPerSecond, 0.25),
    ],
    notes: [],
    seconds: secondsSince(started),
  };
  return result;
}

await runWhenMain(import.meta.url, 'pages', run);
