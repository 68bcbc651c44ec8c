import { spawn, type ChildProcess } from 'node:child_process';
import { PROJECT_ROOT, shoeboxCommand } from './cli.js';

/**
 * A real `shoebox serve` in its own process, as an operator runs it: for tests about several
 * instances, crashes and restarts, which one in-process server cannot show.
 */
export interface ShoeboxInstance {
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything the process logged so far (pino JSON lines and anything else). */
  logs(): string;
  /** Resolves with the exit code or signal once the process is gone. */
  exited: Promise<number | string | null>;
  kill(signal?: NodeJS.Signals): Promise<number | string | null>;
}

export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export async function startInstance(env: Record<string, string>): Promise<ShoeboxInstance> {
  const port = Number(env.PORT);
  const { command, args } = shoeboxCommand(['serve']);
  const child = spawn(command, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
  const url = env.SHOEBOX_BASE_URL ?? `http://127.0.0.1:${port}`;
  const instance: ShoeboxInstance = {
    url,
    port,
    process: child,
    logs: () => output,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  let gone = false;
  void exited.then(() => (gone = true));
  try {
    await waitFor(`instance on port ${port} to answer /healthz`, async () => {
      if (gone) throw new Error(`it exited:\n${output}`);
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      return res.status === 200;
    });
  } catch (error) {
    await instance.kill('SIGKILL');
    throw new Error(`${(error as Error).message}\n--- output ---\n${output}`);
  }
  return instance;
}
