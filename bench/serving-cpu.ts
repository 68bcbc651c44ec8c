/**
 * CPU per request of each process serving files, for comparing builds on a noisy machine
 * (issue 20). Not part of `npm run bench`: a diagnostic, like `bench/load.ts`.
 *
 *   npx tsx bench/serving-cpu.ts [--builds=dist,dist-old] [--rounds=3] [--seconds=3] [--prof=DIR] [--keep]
 *
 * Each build is a compiled tree at the project root (`npm run build` writes dist/; copy it to
 * dist-old/ before a change to compare). One data folder (16 JPEGs of 50 KB – 5 MB uploaded
 * through the API, as bench/serving.ts) is served by, for each build, a plain Shoebox and a
 * Shoebox with SHOEBOX_ACCEL_REDIRECT behind nginx (as deploy/nginx/shoebox.conf), and by nginx
 * alone. Cases, each run with wrk (1 thread, 16 keep-alive connections) for `seconds`, in rounds
 * that alternate builds:
 *   - alone/originals, alone/thumbs: Shoebox sending the files itself;
 *   - check: the accel Shoebox asked directly (its answer is the X-Accel-Redirect, no body);
 *   - behind nginx/originals: nginx → the accel Shoebox → nginx sends the file; both processes'
 *     CPU reported apart;
 *   - nginx/originals, nginx/thumbs: nginx alone from disk.
 * CPU per request = (utime + stime from /proc/<pid>/stat after − before) ÷ requests wrk made.
 * The least of the rounds is printed with the median in brackets.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writePhotoJpeg } from './lib/fixtures.js';
import { measureLoad } from './lib/load.js';
import { startNginx } from './lib/nginx.js';
import { cleanUp, makeOptions } from './lib/options.js';
import type { Child } from './lib/processes.js';
import { createUserWithKey, startShoebox, type RunningShoebox } from './lib/shoebox.js';
import { getLength, uploadBuffer } from './lib/upload-client.js';
import { cpuSecondsOf } from './lib/workers.js';
import { REPO_ROOT } from './lib/options.js';

const CONNECTIONS = 16;

function flag(name: string): string | undefined {
  const arg = process.argv.slice(2).find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  return arg === undefined ? undefined : arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : '';
}

const builds = (flag('builds') ?? 'dist').split(',');
const rounds = Number(flag('rounds') ?? 3);
const seconds = Number(flag('seconds') ?? 3);
const profDir = flag('prof');
const options = await makeOptions({ smoke: false, keep: flag('keep') !== undefined }, 'serving-cpu');
const { workDir, log } = options;

interface Case {
  name: string;
  url: string;
  paths: string[];
  /** Processes whose CPU is reported, by label. */
  processes: { label: string; child: Child }[];
  cpu: Map<string, number[]>;
  rps: number[];
}

const stops: (() => Promise<void>)[] = [];
try {
  const dataDir = path.join(workDir, 'data');
  const first = await startShoebox({ dataDir, logFile: path.join(workDir, 'setup.log'), env: { SHOEBOX_FLOOD_LIMIT: '0' } });
  const originals: string[] = [];
  const thumbs: string[] = [];
  try {
    const key = await createUserWithKey(first.env, 'bench');
    const count = 16;
    for (let i = 0; i < count; i++) {
      const bytes = Math.round(50e3 * (5e6 / 50e3) ** (i / (count - 1)));
      const width = Math.max(16, Math.round(Math.sqrt(((bytes / 0.37) * 4) / 3)));
      const file = path.join(workDir, `mix-${i}.jpg`);
      await writePhotoJpeg(file, width, Math.round((width * 3) / 4));
      const image = await uploadBuffer(first.url, key, await readFile(file), `mix-${i}.jpg`, 'image/jpeg');
      originals.push(new URL(image.url).pathname);
      for (const d of ['thumb', 'medium'] as const) {
        const url = (image[d] as { url?: string } | undefined)?.url;
        if (url) thumbs.push(new URL(url).pathname);
      }
    }
  } finally {
    await first.stop();
  }
  const shuffle = (paths: string[]) => paths.map((p, i) => ({ p, k: (i * 7919) % paths.length })).sort((a, b) => a.k - b.k).map((x) => x.p);
  const mixes = { originals: shuffle(originals), thumbs: shuffle(thumbs) };
  log(`${originals.length} originals, ${thumbs.length} thumbs and mediums`);

  const cases: Case[] = [];
  const add = (name: string, url: string, paths: string[], processes: { label: string; child: Child }[]) =>
    cases.push({ name, url, paths, processes, cpu: new Map(processes.map((p) => [p.label, []])), rps: [] });

  const nginx = await startNginx(path.join(workDir, 'nginx'), dataDir, mixes.originals[0]);
  stops.push(() => nginx.child.stop());
  for (const build of builds) {
    const node = profDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profDir)}`] : [];
    const start = (name: string, env: Record<string, string>): Promise<RunningShoebox> =>
      startShoebox({ dataDir, logFile: path.join(workDir, `${build}-${name}.log`), env: { SHOEBOX_FLOOD_LIMIT: '0', ...env }, cliEntry: path.join(REPO_ROOT, build, 'cli/main.js'), nodeFlags: node });
    const plain = await start('plain', {});
    stops.push(() => plain.stop());
    const accel = await start('accel', { SHOEBOX_ACCEL_REDIRECT: '/_shoebox_files' });
    stops.push(() => accel.stop());
    const proxy = await startNginx(path.join(workDir, `nginx-${build}`), dataDir, mixes.originals[0], { accelUpstream: accel.url });
    stops.push(() => proxy.child.stop());
    add(`${build}: alone, originals`, plain.url, mixes.originals, [{ label: 'Shoebox', child: plain.child }]);
    add(`${build}: alone, thumbs`, plain.url, mixes.thumbs, [{ label: 'Shoebox', child: plain.child }]);
    add(`${build}: check (X-Accel-Redirect answer), originals`, accel.url, mixes.originals, [{ label: 'Shoebox', child: accel.child }]);
    add(`${build}: behind nginx, originals`, proxy.url, mixes.originals, [{ label: 'Shoebox', child: accel.child }, { label: 'nginx', child: proxy.child }]);
    add(`${build}: behind nginx, thumbs`, proxy.url, mixes.thumbs, [{ label: 'Shoebox', child: accel.child }, { label: 'nginx', child: proxy.child }]);
  }
  add('nginx alone, originals', nginx.url, mixes.originals, [{ label: 'nginx', child: nginx.child }]);
  add('nginx alone, thumbs', nginx.url, mixes.thumbs, [{ label: 'nginx', child: nginx.child }]);

  for (const c of cases) {
    for (const p of c.paths) {
      const got = await getLength(`${c.url}${p}`);
      if (got.status !== 200) throw new Error(`${c.name}: ${p} answered ${got.status}`);
    }
    await measureLoad({ origin: c.url, paths: c.paths, seconds: 1, connections: CONNECTIONS, workDir });
  }
  for (let round = 0; round < rounds; round++) {
    for (const c of cases) {
      const before = c.processes.map((p) => cpuSecondsOf(p.child.pid));
      const result = await measureLoad({ origin: c.url, paths: c.paths, seconds, connections: CONNECTIONS, workDir });
      if (result.errors > 0) throw new Error(`${c.name}: ${result.errors} failed requests`);
      c.processes.forEach((p, i) => c.cpu.get(p.label)!.push(((cpuSecondsOf(p.child.pid) - before[i]) * 1e6) / result.requests));
      c.rps.push(result.requestsPerSecond);
    }
    log(`round ${round + 1} of ${rounds} done`);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const c of cases) {
    const parts = [...c.cpu].map(([label, xs]) => `${label} ${Math.min(...xs).toFixed(0)} µs (median ${median(xs).toFixed(0)})`);
    console.log(`${c.name.padEnd(56)} ${parts.join(', ')}; requests/s best ${Math.max(...c.rps).toFixed(0)}`);
  }
} finally {
  for (const stop of stops.reverse()) await stop();
  await cleanUp(options);
}
