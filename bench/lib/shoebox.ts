import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from './options.js';
import { runCommand, startChild, waitFor200, type Child } from './processes.js';

export const CLI_ENTRY = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function newestMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.ts')) newest = Math.max(newest, (await stat(path.join(entry.parentPath ?? (entry as unknown as { path: string }).path, entry.name))).mtimeMs);
  }
  return newest;
}

/**
 * The servers are measured as users run them: compiled JavaScript (`npm run build`), started
 * with `node dist/cli/main.js serve`. run-all builds first; a single script only warns when
 * dist/ looks older than src/.
 */
export async function ensureBuilt(log: (m: string) => void, build: boolean): Promise<void> {
  if (build) {
    log('npm run build');
    try {
      await runCommand('npm', ['run', '--silent', 'build'], { cwd: REPO_ROOT });
    } catch (error) {
      // tsc still emits JavaScript when some other file has a type error; go on if it did.
      if (!existsSync(CLI_ENTRY)) throw error;
      log(`npm run build reported errors (dist/ was still written): ${(error as Error).message.split('\n').slice(1, 4).join(' | ')}`);
    }
  }
  if (!existsSync(CLI_ENTRY)) throw new Error(`${CLI_ENTRY} is missing: run npm run build first`);
  if (statSync(CLI_ENTRY).mtimeMs < (await newestMtime(path.join(REPO_ROOT, 'src')))) {
    log('warning: dist/ is older than src/; run npm run build (or npm run bench, which builds) for current figures');
  }
}

/** The environment a user would set for a loopback server with its data in `dataDir`. */
export function shoeboxEnv(dataDir: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Only what a shell would pass on; no SHOEBOX_* settings leak in from the caller's environment.
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('SHOEBOX_') && k !== 'PORT' && k !== 'HOST') env[k] = v;
  return {
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    SHOEBOX_DATA_DIR: dataDir,
    SHOEBOX_BASE_URL: `http://127.0.0.1:${port}`,
    ...extra,
  };
}

export async function cli(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const { stdout } = await runCommand(process.execPath, [CLI_ENTRY, ...args], { env, cwd: REPO_ROOT });
  return stdout;
}

/** A user and an API key made with the CLI, as an operator would. */
export async function createUserWithKey(env: NodeJS.ProcessEnv, username: string): Promise<string> {
  await cli(env, ['user', 'create', username, '--password', 'bench-password', '--admin']);
  const out = await cli(env, ['apikey', 'create', username]);
  return out.trim().split('\n').pop()!.trim();
}

export interface RunningShoebox {
  url: string;
  port: number;
  dataDir: string;
  env: NodeJS.ProcessEnv;
  child: Child;
  stop(): Promise<void>;
}

/**
 * The Node flags `npm start` gives the server (package.json's start script, e.g.
 * `--initial-old-space-size=128`). Shoebox is started with them, as users start it, and so is every
 * Node reference server, so both sides of a ratio run with the same V8 settings.
 */
export const SERVER_NODE_FLAGS: string[] = (() => {
  const start = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const words = start.trim().split(/\s+/);
  const entry = words.indexOf('dist/cli/main.js');
  if (words[0] !== 'node' || entry < 0) throw new Error(`package.json's start script is not "node [flags] dist/cli/main.js serve": ${start}`);
  return words.slice(1, entry);
})();

/** The command line `npm start` runs, for the benchmarks' method notes. */
export const SERVE_COMMAND = ['node', ...SERVER_NODE_FLAGS, 'dist/cli/main.js', 'serve'].join(' ');

/** `node <flags> dist/cli/main.js serve` (what `npm start` runs) on a free loopback port. */
export async function startShoebox(options: { dataDir: string; logFile: string; env?: Record<string, string>; cliEntry?: string; nodeFlags?: string[] }): Promise<RunningShoebox> {
  await mkdir(options.dataDir, { recursive: true });
  const port = await freePort();
  const env = shoeboxEnv(options.dataDir, port, options.env);
  const child = startChild(process.execPath, [...SERVER_NODE_FLAGS, ...(options.nodeFlags ?? []), options.cliEntry ?? CLI_ENTRY, 'serve'], { env, cwd: REPO_ROOT, logFile: options.logFile });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor200(`${url}/healthz`, { timeoutMs: 30_000, child });
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { url, port, dataDir: options.dataDir, env, child, stop: () => child.stop() };
}
