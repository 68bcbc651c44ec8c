import { execFile, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * A real S3 server for tests. Either one the developer or CI runs already
 * (SHOEBOX_TEST_S3_ENDPOINT), or a throwaway single-node Ceph radosgw on loopback started by
 * `s3-radosgw-up` beside this file. No mocks: the S3 driver is only worth what a real server says.
 */
export interface TestS3Server {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  stop(): Promise<void>;
}

const run = promisify(execFile);
const supportDir = path.dirname(fileURLToPath(import.meta.url));
const upScript = path.join(supportDir, 's3-radosgw-up');
const downScript = path.join(supportDir, 's3-radosgw-down');
const START_TIMEOUT_MS = 60_000;

const CI_REQUIRES_S3 =
  'CI=true, so the S3 suites must run, but there is no S3 server: set SHOEBOX_TEST_S3_ENDPOINT ' +
  '(and SHOEBOX_TEST_S3_ACCESS_KEY / SHOEBOX_TEST_S3_SECRET), or install radosgw: ' +
  'apt-get install -y ceph-mon ceph-osd radosgw ceph-common';

function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((dir) => {
    if (!dir) return false;
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/**
 * Why the S3 suites cannot run here, or undefined when they can. Synchronous, so a test file
 * can decide at collection time (`describe.skipIf`) without starting anything. Throws under
 * CI=true instead of returning a reason: CI must never pass by skipping.
 */
export function s3TestSkipReason(): string | undefined {
  if (process.env.SHOEBOX_TEST_S3_ENDPOINT) return undefined;
  if (onPath('radosgw')) return undefined;
  if (process.env.CI === 'true') throw new Error(CI_REQUIRES_S3);
  return 'no S3 server: set SHOEBOX_TEST_S3_ENDPOINT or install radosgw (apt-get install ceph-mon ceph-osd radosgw ceph-common)';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

async function stopRadosgw(cephDir: string): Promise<void> {
  await run(downScript, [], { env: { ...process.env, CEPH_DIR: cephDir } });
}

/**
 * Stops the cluster when this process is gone, however it went (vitest kills its workers,
 * a crash, SIGKILL): Ceph daemons detach from us and would otherwise run on, holding ports and RAM.
 */
function startOrphanWatchdog(cephDir: string): { cancel(): void } {
  const watchdog = spawn(
    'bash',
    ['-c', 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2"', 'shoebox-rgw-watchdog', String(process.pid), downScript],
    { detached: true, stdio: 'ignore', env: { ...process.env, CEPH_DIR: cephDir } },
  );
  watchdog.unref();
  return {
    cancel() {
      if (watchdog.pid !== undefined && watchdog.exitCode === null) {
        try {
          process.kill(watchdog.pid, 'SIGTERM');
        } catch {
          // Already gone.
        }
      }
    },
  };
}

async function startRadosgw(): Promise<TestS3Server> {
  const [rgwPort, monPort] = [await freePort(), await freePort()];
  const cephDir = await mkdtemp(path.join(tmpdir(), 'shoebox-rgw-'));
  const accessKeyId = 'TESTAK';
  const secretAccessKey = 'TESTSK';
  const env = { ...process.env, CEPH_DIR: cephDir, RGW_PORT: String(rgwPort), MON_PORT: String(monPort), AK: accessKeyId, SK: secretAccessKey };
  const watchdog = startOrphanWatchdog(cephDir);
  try {
    await run(upScript, [], { env, timeout: START_TIMEOUT_MS });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    // A start that timed out leaves daemons behind; the script only cleans up after its own failures.
    await run(downScript, [], { env: { ...env, KEEP_CEPH_DIR: '1' } }).catch(() => undefined);
    watchdog.cancel();
    throw new Error(`s3-radosgw-up failed (logs in ${cephDir}/log): ${(stderr || stdout || String(error)).trim()}`);
  }
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${rgwPort}`,
    accessKeyId,
    secretAccessKey,
    stop() {
      stopped ??= stopRadosgw(cephDir).finally(() => watchdog.cancel());
      return stopped;
    },
  };
}

async function startServer(): Promise<TestS3Server | null> {
  const endpoint = process.env.SHOEBOX_TEST_S3_ENDPOINT;
  if (endpoint) {
    return {
      endpoint,
      accessKeyId: process.env.SHOEBOX_TEST_S3_ACCESS_KEY || 'TESTAK',
      secretAccessKey: process.env.SHOEBOX_TEST_S3_SECRET || 'TESTSK',
      // Not ours to stop.
      stop: async () => undefined,
    };
  }
  if (s3TestSkipReason() !== undefined) return null;
  return startRadosgw();
}

let shared: Promise<TestS3Server | null> | undefined;
let users = 0;

/**
 * The S3 server for this test process: the first call starts it, later calls share it, and it
 * stops when every caller has called its own `stop()`. Null when there is none (the caller
 * skips); under CI=true it throws instead.
 */
export async function startS3ForTests(): Promise<TestS3Server | null> {
  shared ??= startServer().catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  const server = await shared;
  if (!server) return null;
  users += 1;
  let released = false;
  return {
    endpoint: server.endpoint,
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    async stop() {
      if (released) return;
      released = true;
      users -= 1;
      if (users > 0) return;
      shared = undefined;
      await server.stop();
    },
  };
}
