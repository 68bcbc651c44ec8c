/**
 * Serving: requests per second for originals (a mix of 50 KB – 5 MB files) with keep-alive,
 * Shoebox against Debian's nginx and a bare Node http + fs.createReadStream server serving
 * the same folder in the same run. Target: Shoebox ≥ 0.7 of nginx.
 *
 *   npx tsx bench/serving.ts [--smoke] [--keep]
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writePhotoJpeg } from './lib/fixtures.js';
import { measureLoad, onPath, type LoadResult } from './lib/load.js';
import { startNginx } from './lib/nginx.js';
import { REPO_ROOT, type BenchOptions } from './lib/options.js';
import { runWhenMain, secondsSince } from './lib/run-alone.js';
import { startChild, waitFor200, type Child } from './lib/processes.js';
import { fmt, ratioAtLeast, type BenchResult } from './lib/report.js';
import { createUserWithKey, freePort, SERVER_NODE_FLAGS, startShoebox, SERVE_COMMAND } from './lib/shoebox.js';
import { getLength, uploadBuffer } from './lib/upload-client.js';
import { cpuSecondsOf } from './lib/workers.js';

const CONNECTIONS = 16;

/** Sizes spread evenly on a log scale between `min` and `max` bytes. */
function logSpaced(min: number, max: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => Math.round(min * (max / min) ** (count === 1 ? 0 : i / (count - 1))));
}

/** A photo JPEG of roughly `bytes` (grainy photos come out near 0.37 bytes per pixel at quality 90). */
async function writeJpegOfAbout(target: string, bytes: number): Promise<number> {
  const pixels = bytes / 0.37;
  const width = Math.max(16, Math.round(Math.sqrt((pixels * 4) / 3)));
  return writePhotoJpeg(target, width, Math.max(12, Math.round((width * 3) / 4)));
}

interface Contender {
  name: string;
  url: string;
  child: Child;
  runs: LoadResult[];
  /** Server CPU time per request in each run, in microseconds. */
  cpu: number[];
  /** A second process whose CPU time counts too (Shoebox behind the nginx that sends its files). */
  alsoCounts?: Child;
}

const ACCEL = 'Shoebox behind nginx (X-Accel-Redirect)';

export async function run(options: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const { smoke, workDir, log } = options;
  const sizes = smoke ? logSpaced(50e3, 300e3, 4) : logSpaced(50e3, 5e6, 16);
  const seconds = smoke ? 1 : 4;
  const rounds = smoke ? 1 : 5;

  const server = await startShoebox({ dataDir: path.join(workDir, 'data'), logFile: path.join(workDir, 'shoebox.log'), env: { SHOEBOX_FLOOD_LIMIT: '0' } });
  const contenders: Contender[] = [];
  const fileSizes: number[] = [];
  let accelShoebox: Awaited<ReturnType<typeof startShoebox>> | undefined;
  try {
    const key = await createUserWithKey(server.env, 'bench');
    log(`making and uploading ${sizes.length} JPEGs of ${fmt(sizes[0] / 1e3, 0)} KB to ${fmt(sizes[sizes.length - 1] / 1e6, 1)} MB`);
    const paths: string[] = [];
    for (const [i, size] of sizes.entries()) {
      const file = path.join(workDir, `mix-${i}.jpg`);
      await writeJpegOfAbout(file, size);
      const image = await uploadBuffer(server.url, key, await readFile(file), `mix-${i}.jpg`, 'image/jpeg');
      paths.push(new URL(image.url).pathname);
      fileSizes.push(Number(image.size));
    }
    // The same request sequence for everyone: each file once per cycle, in a shuffled but fixed order.
    const order = paths.map((p, i) => ({ p, k: (i * 7919) % paths.length })).sort((a, b) => a.k - b.k).map((x) => x.p);

    const nodePort = await freePort();
    const bare = startChild(process.execPath, [...SERVER_NODE_FLAGS, '--import', 'tsx', path.join(REPO_ROOT, 'bench/servers/static-node.ts'), server.dataDir, String(nodePort)], { logFile: path.join(workDir, 'node-static.log'), cwd: REPO_ROOT });
    const bareUrl = `http://127.0.0.1:${nodePort}`;
    await waitFor200(`${bareUrl}${order[0]}`, { timeoutMs: 15_000, child: bare });
    contenders.push({ name: 'Shoebox', url: server.url, child: server.child, runs: [], cpu: [] });
    if (onPath('nginx') || (await import('node:fs')).existsSync('/usr/sbin/nginx')) {
      const nginx = await startNginx(path.join(workDir, 'nginx'), server.dataDir, order[0]);
      contenders.push({ name: 'nginx', url: nginx.url, child: nginx.child, runs: [], cpu: [] });
    } else {
      log('nginx is not installed: the nginx ratio is not measured');
    }
    contenders.push({ name: 'bare Node', url: bareUrl, child: bare, runs: [], cpu: [] });
    if (contenders.some((c) => c.name === 'nginx')) {
      // The deployment of docs/DEPLOY.md: a second Shoebox on the same data (SQLite, files) with
      // SHOEBOX_ACCEL_REDIRECT behind nginx; CPU per request counts both processes.
      accelShoebox = await startShoebox({
        dataDir: server.dataDir,
        logFile: path.join(workDir, 'shoebox-accel.log'),
        env: { SHOEBOX_FLOOD_LIMIT: '0', SHOEBOX_ACCEL_REDIRECT: '/_shoebox_files' },
      });
      const proxy = await startNginx(path.join(workDir, 'nginx-accel'), server.dataDir, order[0], { accelUpstream: accelShoebox.url });
      contenders.push({ name: ACCEL, url: proxy.url, child: proxy.child, alsoCounts: accelShoebox.child, runs: [], cpu: [] });
    }

    // Every server must hand out the same bytes for the same paths before its speed means anything.
    for (const c of contenders) {
      for (const [i, p] of paths.entries()) {
        const got = await getLength(`${c.url}${p}`);
        if (got.status !== 200 || got.length !== fileSizes[i]) throw new Error(`${c.name} answered ${got.status} with ${got.length} bytes for ${p} (expected ${fileSizes[i]})`);
      }
      await measureLoad({ origin: c.url, paths: order, seconds: 1, connections: CONNECTIONS, workDir });
    }
    for (let round = 0; round < rounds; round++) {
      for (const c of contenders) {
        log(`round ${round + 1}: ${c.name}, ${CONNECTIONS} keep-alive connections, ${seconds}s`);
        const cpuOf = () => cpuSecondsOf(c.child.pid) + (c.alsoCounts ? cpuSecondsOf(c.alsoCounts.pid) : 0);
        const cpuBefore = cpuOf();
        const result = await measureLoad({ origin: c.url, paths: order, seconds, connections: CONNECTIONS, workDir });
        if (result.errors > 0) throw new Error(`${c.name}: ${result.errors} failed requests during the run`);
        c.runs.push(result);
        c.cpu.push(((cpuOf() - cpuBefore) * 1e6) / result.requests);
      }
    }
  } finally {
    for (const c of contenders) if (c.child !== server.child) await c.child.stop();
    await accelShoebox?.stop();
    await server.stop();
  }

  const best = (c: Contender | undefined) => (c ? c.runs.reduce((a, b) => (b.requestsPerSecond > a.requestsPerSecond ? b : a)) : undefined);
  const byName = (name: string) => contenders.find((c) => c.name === name);
  const shoebox = best(byName('Shoebox'))!;
  const nginx = best(byName('nginx'));
  const bare = best(byName('bare Node'))!;
  const accel = best(byName(ACCEL));
  const total = fileSizes.reduce((a, b) => a + b, 0);
  const tool = shoebox.tool;
  const result: BenchResult = {
    id: 'serving',
    title: 'Serving originals',
    method: [
      `${fileSizes.length} JPEG originals from ${fmt(Math.min(...fileSizes) / 1e3, 0)} KB to ${fmt(Math.max(...fileSizes) / 1e6, 2)} MB (log-spaced, mean ${fmt(total / fileSizes.length / 1e6, 2)} MB), uploaded through the API; their URLs are requested in one fixed shuffled cycle.`,
      `Shoebox: \`${SERVE_COMMAND}\` (SQLite, local storage, defaults) answering /images/YYYY/MM/DD/<name>.jpg: database lookup, ETag, Last-Modified, Cache-Control, Range support, sent from disk in 1 MiB reads written straight to the socket, or from memory for a file asked for again within the second its descriptor is shared (storage/local.ts).`,
      `nginx: Debian's /usr/sbin/nginx ${contenders.some((c) => c.name === 'nginx') ? '' : '(missing in this run) '}with a temp config: 1 worker, sendfile on, tcp_nopush on, no access log, root = the same data folder.`,
      `bare Node: node:http + fs.stat + fs.createReadStream().pipe(res) (bench/servers/static-node.ts), same folder.`,
      `${ACCEL} (diagnostic): a second Shoebox on the same data with SHOEBOX_ACCEL_REDIRECT=/_shoebox_files behind another nginx (one process) that proxies /images/ to it and sends the files it names from an internal location (deploy/nginx/shoebox.conf); CPU per request counts both processes.`,
      `CPU per request: CPU time (user + system, from /proc) the server process used during a run ÷ requests; less sensitive than requests/s to other work on the machine. Load: ${tool} with 1 thread, ${CONNECTIONS} keep-alive connections, ${seconds} s per run after a 1 s warm-up, ${rounds} round(s) alternating the servers; the best run of each counts. Every body length is checked against the file before timing, and any failed request fails the run.`,
    ],
    figures: [
      ...contenders.map((c) => {
        const b = best(c)!;
        return { name: `${c.name}`, value: b.requestsPerSecond, unit: 'requests/s', note: `${fmt(b.bytesPerSecond / 1e9, 2)} GB/s, p50 ${fmt(b.p50, 1)} ms, p99 ${fmt(b.p99, 1)} ms; runs ${c.runs.map((r) => fmt(r.requestsPerSecond, 0)).join(', ')}` };
      }),
      ...contenders.map((c) => ({ name: `${c.name}: server CPU per request (least of the runs)`, value: Math.min(...c.cpu), unit: 'µs' })),
    ],
    checks: [
      // Issue 20's bar: 0.9 of nginx alone, for Shoebox alone and behind nginx (the setup docs/DEPLOY.md recommends).
      ratioAtLeast('serving: Shoebox ÷ nginx requests/s', nginx ? shoebox.requestsPerSecond / nginx.requestsPerSecond : NaN, 0.9),
      ...(accel ? [ratioAtLeast('serving: Shoebox behind nginx (X-Accel-Redirect) ÷ nginx requests/s', nginx ? accel.requestsPerSecond / nginx.requestsPerSecond : NaN, 0.9)] : []),
    ],
    notes: [
      `Shoebox ÷ bare Node: ${fmt(shoebox.requestsPerSecond / bare.requestsPerSecond, 2)}${nginx ? `; bare Node ÷ nginx: ${fmt(bare.requestsPerSecond / nginx.requestsPerSecond, 2)}` : ''}.`,
      ...(accel && nginx
        ? [`${ACCEL} ÷ nginx: ${fmt(accel.requestsPerSecond / nginx.requestsPerSecond, 2)} (the setup docs/DEPLOY.md recommends, where Shoebox checks each request and nginx sends the bytes).`]
        : []),
    ],
    seconds: secondsSince(started),
  };
  return result;
}

await runWhenMain(import.meta.url, 'serving', run);
