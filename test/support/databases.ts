import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Databases for tests. SQLite needs nothing (every test server has its own file). PostgreSQL
 * is the server on this machine (or SHOEBOX_TEST_POSTGRES_URL): each test gets a database of
 * its own, `CREATE DATABASE shoebox_test_<pid>_<random>`, dropped afterwards, so tests run in
 * parallel without seeing each other. Without a reachable server the PostgreSQL runs skip,
 * except under CI=true, where they fail loudly instead.
 */
export const POSTGRES_ADMIN_URL = process.env.SHOEBOX_TEST_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_TEST_URL = process.env.SHOEBOX_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

export interface TestPostgresDatabase {
  /** postgres://… of the new, empty database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

const NAME_PREFIX = 'shoebox_test_';

async function withAdmin<T>(run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

let reachable: Promise<string | undefined> | undefined;

/**
 * Why the PostgreSQL runs cannot happen here, or undefined when they can. Call it at the top
 * of a test file (`const pgSkip = await postgresSkipReason()`) and use `describe.skipIf`.
 * Under CI=true it throws instead of returning a reason: CI must never pass by skipping.
 */
export async function postgresSkipReason(): Promise<string | undefined> {
  reachable ??= withAdmin(async (client) => {
    await client.query('select 1');
    return undefined;
  }).catch((error: unknown) => `PostgreSQL at ${redact(POSTGRES_ADMIN_URL)} is not reachable (${(error as Error).message})`);
  const reason = await reachable;
  if (reason && process.env.CI === 'true') throw new Error(`CI=true, so the PostgreSQL suites must run: ${reason}. Set SHOEBOX_TEST_POSTGRES_URL.`);
  if (reason) console.warn(`skipping PostgreSQL tests: ${reason}`);
  return reason;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Drops databases left by test processes that died before their cleanup ran. */
async function dropOrphans(client: pg.Client): Promise<void> {
  const { rows } = await client.query<{ datname: string }>(`select datname from pg_database where datname like '${NAME_PREFIX}%'`);
  for (const { datname } of rows) {
    const pid = Number(/^shoebox_test_(\d+)_/.exec(datname)?.[1]);
    if (Number.isInteger(pid) && !isAlive(pid)) {
      await client.query(`drop database if exists "${datname}" with (force)`).catch(() => undefined);
    }
  }
}

/** A fresh, empty PostgreSQL database for one test (or one test file). */
export async function createPostgresDatabase(): Promise<TestPostgresDatabase> {
  const name = `${NAME_PREFIX}${process.pid}_${randomBytes(5).toString('hex')}`;
  await withAdmin(async (client) => {
    await dropOrphans(client);
    await client.query(`create database "${name}"`);
  });
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  return {
    url: url.toString(),
    name,
    drop() {
      dropped ??= withAdmin(async (client) => {
        // A closed pool's sockets may still be saying goodbye; forcing them off at that moment
        // makes their client throw, so first give them a moment to leave on their own.
        for (let attempt = 0; attempt < 50; attempt++) {
          const { rows } = await client.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
          if (rows[0].n === 0) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        await client.query(`drop database if exists "${name}" with (force)`);
      });
      return dropped;
    },
  };
}

/**
 * The dialects a database test runs on, for `describe.each`: SQLite always, PostgreSQL when
 * reachable (always under CI). `databaseUrl(dataDir)` makes a fresh database for one test.
 */
export interface TestDialect {
  name: 'sqlite' | 'postgres';
  create(dataDir: string): Promise<{ url: string; drop(): Promise<void> }>;
}

export async function testDialects(): Promise<TestDialect[]> {
  const dialects: TestDialect[] = [
    { name: 'sqlite', create: async (dataDir) => ({ url: `sqlite:${dataDir}/test-${randomBytes(4).toString('hex')}.sqlite`, drop: async () => undefined }) },
  ];
  if (!(await postgresSkipReason())) dialects.push({ name: 'postgres', create: () => createPostgresDatabase() });
  return dialects;
}

/** Under SHOEBOX_TEST_DATABASE=postgres (the `postgres` vitest project) test servers run on PostgreSQL. */
export function testServersUsePostgres(): boolean {
  return process.env.SHOEBOX_TEST_DATABASE === 'postgres';
}
