import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * MariaDB/MySQL for the Chevereto import tests: the server on this machine (`mysql -uroot`
 * over its unix socket, as Debian sets it up) or SHOEBOX_TEST_MYSQL_URL. Each test gets its
 * own database, `shoebox_chv_<pid>_<random>`, dropped afterwards; mysql2 reaches it over TCP
 * as a test user with a password made here. Without a server the suites skip, except under
 * CI=true, where they fail.
 */
const run = promisify(execFile);
const TEST_USER = 'shoebox_test';
const TEST_PASSWORD = 'shoebox-test-pw';
const NAME_PREFIX = 'shoebox_chv_';

export interface TestMariaDatabase {
  /** mysql://user:pass@127.0.0.1:3306/name */
  url: string;
  name: string;
  /** Runs SQL as root in this database. */
  sql(statements: string): Promise<void>;
  drop(): Promise<void>;
}

async function rootSql(statements: string, database?: string): Promise<string> {
  const { stdout } = await run('mysql', ['-uroot', '--batch', '--skip-column-names', ...(database ? [database] : []), '-e', statements], { maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

let reachable: Promise<string | undefined> | undefined;

export async function mariadbSkipReason(): Promise<string | undefined> {
  reachable ??= rootSql('select 1')
    .then(() => undefined)
    .catch((error: Error) => `MariaDB is not reachable with \`mysql -uroot\` (${error.message.split('\n')[0]})`);
  const reason = await reachable;
  if (reason && process.env.CI === 'true') throw new Error(`CI=true, so the Chevereto import suites must run: ${reason}`);
  if (reason) console.warn(`skipping Chevereto import tests: ${reason}`);
  return reason;
}

export async function createMariaDatabase(): Promise<TestMariaDatabase> {
  const name = `${NAME_PREFIX}${process.pid}_${randomBytes(4).toString('hex')}`;
  await rootSql(
    [
      `create user if not exists '${TEST_USER}'@'127.0.0.1' identified by '${TEST_PASSWORD}'`,
      `create user if not exists '${TEST_USER}'@'localhost' identified by '${TEST_PASSWORD}'`,
      `grant all on \`${NAME_PREFIX}%\`.* to '${TEST_USER}'@'127.0.0.1'`,
      `grant all on \`${NAME_PREFIX}%\`.* to '${TEST_USER}'@'localhost'`,
      `create database \`${name}\` character set utf8mb4`,
    ].join(';'),
  );
  return {
    url: `mysql://${TEST_USER}:${TEST_PASSWORD}@127.0.0.1:3306/${name}`,
    name,
    sql: async (statements) => {
      await rootSql(statements, name);
    },
    drop: async () => {
      await rootSql(`drop database if exists \`${name}\``);
    },
  };
}
