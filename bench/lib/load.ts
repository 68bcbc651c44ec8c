import { accessSync, constants } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './processes.js';

export interface LoadResult {
  tool: 'wrk' | 'autocannon';
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  bytesPerSecond: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Responses that were not 2xx/3xx, plus socket errors and timeouts. */
  errors: number;
}

export interface LoadRun {
  /** e.g. http://127.0.0.1:8080 */
  origin: string;
  /** Paths requested in turn, the same order against every server. */
  paths: string[];
  seconds: number;
  connections: number;
  /** Scratch folder for the wrk script. */
  workDir: string;
  /** Extra request headers (e.g. a session cookie). */
  headers?: Record<string, string>;
}

export function onPath(command: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const full = path.join(dir, command);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return null;
}

/** wrk's Lua: walk the path list in order (one thread, so every server sees the same sequence), report JSON at the end. */
function wrkScript(paths: string[], headers: Record<string, string> = {}): string {
  return `local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }
local headers = { ${Object.entries(headers).map(([k, v]) => `[${JSON.stringify(k)}] = ${JSON.stringify(v)}`).join(', ')} }
local i = 0
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("GET", paths[i], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH-JSON {"requests":%d,"duration_us":%d,"bytes":%d,"errors":%d,"p50_us":%d,"p99_us":%d}\\n',
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
`;
}

async function runWrk(run: LoadRun): Promise<LoadResult> {
  const script = path.join(run.workDir, `wrk-${process.hrtime.bigint()}.lua`);
  await writeFile(script, wrkScript(run.paths, run.headers));
  const { stdout } = await runCommand('wrk', ['-t1', `-c${run.connections}`, `-d${run.seconds}s`, '--timeout', '10s', '-s', script, run.origin]);
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH-JSON '));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
  const r = JSON.parse(line.slice('BENCH-JSON '.length)) as { requests: number; duration_us: number; bytes: number; errors: number; p50_us: number; p99_us: number };
  const seconds = r.duration_us / 1e6;
  return {
    tool: 'wrk',
    requests: r.requests,
    seconds,
    requestsPerSecond: r.requests / seconds,
    bytesPerSecond: r.bytes / seconds,
    p50: r.p50_us / 1000,
    p99: r.p99_us / 1000,
    errors: r.errors,
  };
}

async function runAutocannon(run: LoadRun): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon');
  const result = await autocannon({
    url: run.origin,
    connections: run.connections,
    duration: run.seconds,
    requests: run.paths.map((p) => ({ method: 'GET', path: p, headers: run.headers })),
  });
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    tool: 'autocannon',
    requests: result.requests.total,
    seconds: result.duration,
    requestsPerSecond: result.requests.total / result.duration,
    bytesPerSecond: result.throughput.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    errors,
  };
}

/**
 * Keep-alive GET load, bounded in time, against 127.0.0.1 only. wrk (C, one thread) leaves
 * the second core to the server; autocannon (npm) is the fallback when wrk is not installed.
 */
export async function measureLoad(run: LoadRun): Promise<LoadResult> {
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(run.origin)) throw new Error(`load goes to 127.0.0.1 only, not ${run.origin}`);
  return onPath('wrk') ? runWrk(run) : runAutocannon(run);
}
