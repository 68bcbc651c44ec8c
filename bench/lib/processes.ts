import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';

/** A server or tool this benchmark started; stopped by its own pid (or its own process group). */
export interface Child {
  pid: number;
  proc: ChildProcess;
  logFile: string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Starts a long-running child with its output in a log file (a pipe nobody drains would
 * stall it). `group: true` puts it in its own process group so a wrapper such as `npm start`
 * is stopped together with the node it spawned.
 */
export function startChild(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; logFile: string; group?: boolean }): Child {
  const fd = openSync(options.logFile, 'a');
  const spawnOptions: SpawnOptions = {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ['ignore', fd, fd],
    detached: options.group ?? false,
  };
  const proc = spawn(command, args, spawnOptions);
  closeSync(fd);
  if (proc.pid === undefined) throw new Error(`could not start ${command}`);
  const pid = proc.pid;
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let stopping: Promise<void> | null = null;
  const signal = (name: NodeJS.Signals) => {
    try {
      if (options.group) process.kill(-pid, name);
      else proc.kill(name);
    } catch {
      // already gone
    }
  };
  return {
    pid,
    proc,
    logFile: options.logFile,
    exited,
    stop() {
      stopping ??= (async () => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}

/** Runs a command to completion and returns its output; throws with the output when it fails. */
export function runCommand(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.once('error', reject);
    proc.once('close', (code) => {
      if (code === 0) resolve({ stdout, stderr, code });
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${stdout}\n${stderr}`.trim()));
    });
    // A command that exits before reading its input (a failed build) is reported by 'close', not by EPIPE here.
    proc.stdin.on('error', () => undefined);
    proc.stdin.end(options.input ?? '');
  });
}

/** One GET over a fresh connection; resolves with the status (0 when nothing answers). */
export function probeStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(0));
    req.end();
  });
}

/** Polls `url` every `intervalMs` until it answers 200; returns the time that took. */
export async function waitFor200(url: string, options: { timeoutMs: number; intervalMs?: number; child?: Child }): Promise<number> {
  const started = performance.now();
  let exited = false;
  void options.child?.exited.then(() => (exited = true));
  for (;;) {
    if ((await probeStatus(url)) === 200) return performance.now() - started;
    if (exited) throw new Error(`the server exited before answering ${url}; see ${options.child?.logFile}\n${tail(options.child?.logFile)}`);
    if (performance.now() - started > options.timeoutMs) throw new Error(`no 200 from ${url} within ${options.timeoutMs} ms; see ${options.child?.logFile ?? 'its log'}\n${tail(options.child?.logFile)}`);
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 20));
  }
}

function tail(file: string | undefined): string {
  if (!file) return '';
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '';
  }
}

/** Resident memory of a process in bytes, now (VmRSS) and at its peak (VmHWM), from /proc. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** Resets the kernel's peak-RSS mark of a process we started (echo 5 > clear_refs), so VmHWM covers only what follows. */
export function resetPeakMemory(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the highest value seen. */
export function sampleMemory(pid: number, everyMs = 25): { stop(): number } {
  let highest = 0;
  const take = () => {
    try {
      highest = Math.max(highest, memoryOf(pid).rss);
    } catch {
      // the process ended
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return highest;
    },
  };
}

export async function commandExists(command: string, args = ['--version']): Promise<boolean> {
  try {
    await runCommand(command, args);
    return true;
  } catch {
    return false;
  }
}
