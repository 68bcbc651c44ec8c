/**
 * Start: time from running `npm start` to the first 200 from the server, on an empty data
 * folder (first start: creates the database, runs every migration) and on an existing one
 * (a restart). Target: < 2 s.
 *
 *   npx tsx bench/start.ts [--smoke] [--keep]
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, type BenchOptions } from './lib/options.js';
import { runWhenMain, secondsSince } from './lib/run-alone.js';
import { startChild, waitFor200 } from './lib/processes.js';
import { fmt, median, valueBelow, type BenchResult } from './lib/report.js';
import { CLI_ENTRY, freePort, SERVER_NODE_FLAGS, shoeboxEnv, SERVE_COMMAND } from './lib/shoebox.js';

/**
 * CPU time (user + system, ms) used so far by the live processes of a process group (npm and the
 * server it started), from /proc (Linux; NaN elsewhere). Clock ticks are taken as 100 per second,
 * Linux's usual USER_HZ. CPU time is what a loaded machine inflates least, so it is printed beside
 * the wall-clock figures.
 */
function groupCpuMs(pgid: number): number {
  try {
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (Number(fields[2]) === pgid) ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        // the process ended meanwhile
      }
    }
    return ticks * 10;
  } catch {
    return NaN;
  }
}

/** Spawns the command in its own process group, polls GET / every 10 ms, and stops it; returns ms to the first 200 and the group's CPU ms by then. */
async function timeToFirst200(command: string, args: string[], dataDir: string, logFile: string): Promise<{ ms: number; cpuMs: number }> {
  const port = await freePort();
  const started = performance.now();
  const child = startChild(command, args, { env: shoeboxEnv(dataDir, port), cwd: REPO_ROOT, logFile, group: true });
  try {
    await waitFor200(`http://127.0.0.1:${port}/`, { timeoutMs: 30_000, intervalMs: 10, child });
    const ms = performance.now() - started;
    return { ms, cpuMs: groupCpuMs(child.pid) };
  } finally {
    await child.stop();
  }
}

export async function run(options: BenchOptions): Promise<BenchResult> {
  const started = performance.now();
  const { smoke, workDir, log } = options;
  const repeats = smoke ? 1 : 5;
  const times: Record<string, number[]> = { first: [], restart: [], node: [] };
  const cpu: Record<string, number[]> = { first: [], restart: [], node: [] };
  const record = (kind: string, run: { ms: number; cpuMs: number }) => {
    times[kind].push(run.ms);
    cpu[kind].push(run.cpuMs);
  };
  const log1 = path.join(workDir, 'start.log');
  for (let i = 0; i < repeats; i++) {
    const dataDir = path.join(workDir, `data-${i}`);
    log(`run ${i + 1}/${repeats}: npm start on an empty data folder, then again on it, then ${SERVE_COMMAND}`);
    record('first', await timeToFirst200('npm', ['start', '--silent'], dataDir, log1));
    record('restart', await timeToFirst200('npm', ['start', '--silent'], dataDir, log1));
    record('node', await timeToFirst200(process.execPath, [...SERVER_NODE_FLAGS, CLI_ENTRY, 'serve'], dataDir, log1));
  }
  const result: BenchResult = {
    id: 'start',
    title: 'Start-up',
    method: [
      `\`npm start\` (which runs \`${SERVE_COMMAND}\`) spawned with PORT, HOST=127.0.0.1 and SHOEBOX_DATA_DIR; GET / polled every 10 ms over a fresh connection; the time is from spawning npm to the first 200. The process group is stopped after each run.`,
      `First start: an empty data folder (creates the SQLite file, runs every migration, makes the site secrets). Restart: the same folder again. For scale, the same restart without npm (\`${SERVE_COMMAND}\`).`,
      `${repeats} run(s) of each; the median is the figure, the slowest is shown beside it.`,
      'CPU: user + system time of the process group (npm and the server) when the first 200 arrived, from /proc (Linux); it moves less than wall-clock time when other work shares the machine.',
    ],
    figures: [
      { name: 'npm start, first start (empty data folder)', value: median(times.first), unit: 'ms', note: `slowest ${fmt(Math.max(...times.first), 0)} ms` },
      { name: 'npm start, restart', value: median(times.restart), unit: 'ms', note: `slowest ${fmt(Math.max(...times.restart), 0)} ms` },
      { name: `${SERVE_COMMAND}, restart`, value: median(times.node), unit: 'ms', note: `slowest ${fmt(Math.max(...times.node), 0)} ms` },
      { name: 'CPU to the first 200: npm start, first start', value: median(cpu.first), unit: 'ms' },
      { name: 'CPU to the first 200: npm start, restart', value: median(cpu.restart), unit: 'ms' },
      { name: `CPU to the first 200: ${SERVE_COMMAND}, restart`, value: median(cpu.node), unit: 'ms' },
    ],
    checks: [
      valueBelow('start: npm start to the first 200, first start (median)', median(times.first) / 1000, 2, 's', 2),
      valueBelow('start: npm start to the first 200, restart (median)', median(times.restart) / 1000, 2, 's', 2),
    ],
    notes: [],
    seconds: secondsSince(started),
  };
  return result;
}

await runWhenMain(import.meta.url, 'start', run);
