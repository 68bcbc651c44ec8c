import path from 'node:path';
import { mkdirSync } from 'node:fs';
import { Kysely, PostgresDialect, SqliteDialect, sql, type Dialect, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import { noteLocalChange } from '../core/local-changes.js';
import SqliteDatabase from 'better-sqlite3';
import type { Database } from './schema.js';
import { registerTitleFunctions } from './title-fold.js';

export type DialectName = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: DialectName;
  close(): Promise<void>;
}

/**
 * pg's pool, loaded when the first PostgreSQL connection is made (Kysely asks for the pool then):
 * a SQLite site never loads the driver.
 */
async function postgresPool(connectionString: string, max: number) {
  const { default: pg } = await import('pg');
  // int8 (count(*), bigserial ids) as numbers: ids stay far below 2^53.
  pg.types.setTypeParser(20, (v) => Number(v));
  return new pg.Pool({ connectionString, max });
}

export function dialectOf(databaseUrl: string): DialectName {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) return 'postgres';
  if (/^sqlite:/i.test(databaseUrl)) return 'sqlite';
  throw new Error(`SHOEBOX_DATABASE_URL: "${databaseUrl}" must start with sqlite: or postgres://`);
}

export function sqlitePathOf(databaseUrl: string): string {
  const p = databaseUrl.replace(/^sqlite:(\/\/)?/i, '');
  return p === ':memory:' ? p : path.resolve(p);
}

/** How many prepared SQLite statements one database keeps (least recently used go first). */
export const STATEMENT_CACHE_SIZE = 256;

/**
 * Kysely's SQLite driver calls better-sqlite3's `prepare()` for every query, which parses and
 * plans the SQL again each time (about 0.1 ms). The queries are built from a small set of
 * shapes with `?` parameters, so the handle Kysely gets keeps the prepared statements of the
 * last STATEMENT_CACHE_SIZE distinct SQL texts and hands the same Statement back. Statements
 * are reusable: Kysely runs them with `all()`/`run()`, which finish before returning, a busy one
 * is never handed out twice, and SQLite re-prepares them itself after a schema change.
 */
export function withStatementCache(sqlite: SqliteDatabase.Database, size = STATEMENT_CACHE_SIZE): SqliteDatabase.Database {
  const statements = new Map<string, SqliteDatabase.Statement>();
  const prepare = (sql: string): SqliteDatabase.Statement => {
    let statement = statements.get(sql);
    // A statement still being iterated (Kysely's stream()) cannot run again: give a fresh one.
    if (statement?.busy) return sqlite.prepare(sql);
    if (statement) {
      // Most recently used last: Map keeps insertion order.
      statements.delete(sql);
      statements.set(sql, statement);
      return statement;
    }
    statement = sqlite.prepare(sql);
    statements.set(sql, statement);
    if (statements.size > size) statements.delete(statements.keys().next().value!);
    return statement;
  };
  return new Proxy(sqlite, {
    get(target, property, receiver) {
      if (property === 'prepare') return prepare;
      if (property === 'close') {
        return () => {
          statements.clear();
          return target.close();
        };
      }
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Whether a query may change rows: anything but a SELECT (raw SQL by its first word). */
function mayWrite(node: RootOperationNode): boolean {
  if (node.kind === 'SelectQueryNode') return false;
  if (node.kind === 'RawNode') return !/^\s*(select|with|explain|pragma)\b/i.test(node.sqlFragments[0] ?? '');
  return true;
}

/**
 * Notes every write sent through this handle (core/local-changes.ts) before it runs and again
 * when it has run, so the page and session caches of this process never take rows read across a
 * change made here as still current.
 */
export class NoteWritesPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (mayWrite(args.node)) noteLocalChange();
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (args.result.numAffectedRows !== undefined || args.result.numChangedRows !== undefined) noteLocalChange();
    return args.result;
  }
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
    // shoebox_title_contains(title, text): title search's check, folded as FTS5 folds (title-fold.ts).
    registerTitleFunctions(sqlite);
    dialect = new SqliteDialect({ database: withStatementCache(sqlite) });
  } else {
    dialect = new PostgresDialect({ pool: () => postgresPool(databaseUrl, options.poolSize ?? 10) });
  }
  const db = new Kysely<Database>({ dialect, plugins: [new NoteWritesPlugin()] });
  return { db, dialect: dialectName, close: () => db.destroy() };
}

/** The database answers (the health check, /healthz): throws when it cannot be reached. */
export async function pingDatabase(db: Kysely<Database>): Promise<void> {
  await sql`select 1`.execute(db);
}
