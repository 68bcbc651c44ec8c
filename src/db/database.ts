import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, SqliteDialect, type Dialect } from 'kysely';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import type { Database } from './schema.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  close(): Promise<void>;
}

// int8 (count(*), bigserial ids) as numbers: ids stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export function dialectOf(databaseUrl: string): DialectName {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return 'postgres';
  if (/^sqlite:/i.test(databaseUrl)) return 'sqlite';
  throw new Error(`SHOEBOX_DATABASE_URL: "${databaseUrl}" must start with sqlite: or postgres://`);
}

export function sqlitePathOf(databaseUrl: string): string {
  const p = databaseUrl.replace(/^sqlite:(\/\/)?/i, '');
  return p === ':memory:' ? p : path.resolve(p);
}

export function openDatabase(databaseUrl: string, options: { poolSize?: number } = {}): DatabaseHandle {
  const dialectName = dialectOf(databaseUrl);
  let dialect: Dialect;
  if (dialectName === 'sqlite') {
    const file = sqlitePathOf(databaseUrl);
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    const sqlite = new SqliteDatabase(file);
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma('busy_timeout = 5000');
    dialect = new SqliteDialect({ database: sqlite });
  } else {
    dialect = new PostgresDialect({
      pool: new pg.Pool({ connectionString: databaseUrl, max: options.poolSize ?? 10 }),
    });
  }
  const db = new Kysely<Database>({ dialect });
  return { db, dialect: dialectName, close: () => db.destroy() };
}
