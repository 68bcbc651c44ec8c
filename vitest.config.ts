import { connect } from 'node:net';
import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

const postgresUrl = new URL(process.env.SHOEBOX_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test');

/** Whether PostgreSQL answers at all; without it the `postgres` project is left out (never under CI=true). */
function postgresListening(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: postgresUrl.hostname, port: Number(postgresUrl.port || 5432) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export default defineConfig(async () => {
  const withPostgres = process.env.CI === 'true' || (await postgresListening());
  if (!withPostgres) console.warn(`PostgreSQL is not listening at ${postgresUrl.host}: the postgres project (API suites on PostgreSQL) is skipped`);
  return {
    test: {
      // The browser suites need Chromium and run from .ci/run with `npm run test:browser`.
      exclude: ['test/browser/**', 'node_modules/**'],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      pool: 'forks',
      fileParallelism: true,
      // Most suites spend their time waiting on a server, a child process or a database, not on
      // the CPU: vitest's default (one worker fewer than the cores: a single worker on a
      // two-core machine) leaves the machine idle. SHOEBOX_TEST_WORKERS overrides.
      maxWorkers: Number(process.env.SHOEBOX_TEST_WORKERS) || Math.max(2, availableParallelism() + 1),
      // Every suite runs on SQLite; the suites that go through a database end to end run again
      // on PostgreSQL (a fresh database per test server, see test/support/databases.ts).
      projects: [
        // (Each project names its own files: `extends` would add the root's list to the project's.)
        { extends: true, test: { name: 'sqlite', include: ['test/**/*.test.ts'] } },
        ...(withPostgres
          ? [
              {
                extends: true as const,
                test: {
                  name: 'postgres',
                  include: ['test/api/**/*.test.ts', 'test/ingest/**/*.test.ts', 'test/web/**/*.test.ts'],
                  env: { SHOEBOX_TEST_DATABASE: 'postgres' },
                },
              },
            ]
          : []),
      ],
    },
  };
});
