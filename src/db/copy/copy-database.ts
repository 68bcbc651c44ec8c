import { sql, type Kysely } from 'kysely';
import { dialectOf, openDatabase, sqlitePathOf, type DatabaseHandle } from '../database.js';
import { migrateToLatest } from '../migrate.js';
import { checksumTable, type TableChecksum } from './table-checksum.js';
import { copyOrder, describeTables, type TableInfo } from './table-metadata.js';
import { readTableInBatches } from './table-pages.js';

/** What the copy reports its progress to (the CLI's progress bar, cli/progress.ts, fits). */
export interface Progress {
  advance(n?: number, note?: string): void;
  stop(): void;
}

/**
 * `shoebox copy-db --to URL` (cli/copy-db.ts): copies every row of the site's database into another one
 * (SQLite → PostgreSQL, or back), keeping ids, so links and keys keep working.
 *
 * - Resumable: rows are copied in primary-key order, one transaction per batch; a run that
 *   stops (Ctrl-C, a lost connection) is simply started again and carries on.
 * - Safe: the target must be empty, or a copy this command started from the same source
 *   (a `shoebox_copy_db` table in the target says so until the copy is verified).
 * - Verified: afterwards every table's row count and checksum must match on both sides.
 */
export const COPY_STATE_TABLE = 'shoebox_copy_db';

export class CopyDbError extends Error {}

/** Tables are only known at run time here, so queries go through an untyped view of the handle. */
function dyn(handle: DatabaseHandle): Kysely<any> {
  return handle.db as unknown as Kysely<any>;
}

export interface CopyDbOptions {
  sourceUrl: string;
  targetUrl: string;
  /** Most rows per batch (fewer for wide tables, to stay under SQLite's parameter limit). */
  batchSize?: number;
  /** Starts the progress report for this many rows in all (none: no report). */
  startProgress?: (totalRows: number) => Progress;
  log?: (line: string) => void;
  /** Empties an unfinished copy of this source and starts over (after the source changed during a copy). */
  restart?: boolean;
  /** Called after each committed batch (tests use it to stop a copy half-way). */
  onBatch?: (table: string, rowsSoFar: number) => void;
}

export interface CopyDbReport {
  tables: { name: string; rows: number; copied: number }[];
  resumed: boolean;
}

/** A name for a database URL that can be shown and stored: no password. */
export function describeDatabaseUrl(url: string): string {
  if (dialectOf(url) === 'sqlite') return `sqlite:${sqlitePathOf(url)}`;
  const parsed = new URL(url);
  parsed.password = '';
  return `postgres://${parsed.username ? `${parsed.username}@` : ''}${parsed.host}${parsed.pathname}`;
}

export async function copyDatabase(options: CopyDbOptions): Promise<CopyDbReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const sourceName = describeDatabaseUrl(options.sourceUrl);
  const targetName = describeDatabaseUrl(options.targetUrl);
  if (sourceName === targetName) throw new CopyDbError(`source and target are the same database (${sourceName})`);
  const source = openDatabase(options.sourceUrl);
  const target = openDatabase(options.targetUrl);
  try {
    // Both sides at this version's schema, so their tables match column for column.
    await migrateToLatest(source);
    await migrateToLatest(target);
    const tables = await describeTables(source, [COPY_STATE_TABLE]);
    await checkSameShape(tables, target);
    const { ordered, deferred } = copyOrder(tables);
    let resumed = await claimTarget(target, tables, sourceName);
    if (resumed && options.restart) {
      await emptyTables(target, ordered);
      resumed = false;
    }
    log(`${resumed ? 'Resuming the copy' : 'Copying'} ${sourceName} → ${targetName}`);

    const totals = new Map<string, number>();
    for (const table of ordered) totals.set(table.name, await countRows(dyn(source), table.name));
    const progress = options.startProgress?.([...totals.values()].reduce((a, b) => a + b, 0)) ?? null;
    const report: CopyDbReport = { tables: [], resumed };
    try {
      for (const table of ordered) {
        const copied = await copyTable(source, target, table, deferred.get(table.name) ?? [], options.batchSize ?? 1000, progress, options.onBatch);
        report.tables.push({ name: table.name, rows: totals.get(table.name)!, copied });
      }
      for (const [tableName, columns] of deferred) {
        await fillDeferredColumns(source, target, tables.find((t) => t.name === tableName)!, columns, options.batchSize ?? 1000);
      }
    } finally {
      progress?.stop();
    }
    if (target.dialect === 'postgres') await moveSequencesPastCopiedIds(target, await describeTables(target, [COPY_STATE_TABLE]));

    log('Verifying: row counts and checksums of every table…');
    const differences = await compareChecksums(source, target, tables, options.batchSize ?? 1000);
    if (differences.length > 0) {
      throw new CopyDbError(
        `the copy differs from the source in ${differences.join('; ')}. The source probably changed during the copy: ` +
          'stop every Shoebox process using it and run copy-db again with --restart (it empties this unfinished copy and starts over).',
      );
    }
    await dyn(target).schema.dropTable(COPY_STATE_TABLE).ifExists().execute();
    return report;
  } finally {
    await source.close();
    await target.close();
  }
}

async function countRows(db: Kysely<any>, table: string): Promise<number> {
  const row = await db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

async function checkSameShape(tables: TableInfo[], target: DatabaseHandle): Promise<void> {
  const targetTables = new Map((await describeTables(target, [COPY_STATE_TABLE])).map((t) => [t.name, t]));
  for (const table of tables) {
    const other = targetTables.get(table.name);
    if (!other) throw new CopyDbError(`the target has no table ${table.name}`);
    const missing = table.columns.filter((c) => !other.columns.includes(c));
    if (missing.length > 0) throw new CopyDbError(`the target's ${table.name} lacks ${missing.join(', ')}`);
    if (table.primaryKey.length === 0) throw new CopyDbError(`${table.name} has no primary key, so it cannot be copied resumably`);
  }
}

/**
 * Makes sure the target is ours to fill: empty (a first run) or marked as a copy of this very
 * source (a resumed run). Returns whether this is a resumed run.
 */
async function claimTarget(target: DatabaseHandle, tables: TableInfo[], sourceName: string): Promise<boolean> {
  const existing = await dyn(target).introspection.getTables();
  if (existing.some((t) => t.name === COPY_STATE_TABLE)) {
    const row = await dyn(target).selectFrom(COPY_STATE_TABLE).select('value').where('name', '=', 'source').executeTakeFirst();
    if (row?.value !== sourceName) {
      throw new CopyDbError(`the target holds an unfinished copy of ${row?.value ?? 'another database'}, not of ${sourceName}`);
    }
    return true;
  }
  for (const table of tables) {
    if ((await countRows(dyn(target), table.name)) > 0) {
      throw new CopyDbError(`the target is not empty (${table.name} has rows): copy-db only fills a new, empty database`);
    }
  }
  await dyn(target).schema
    .createTable(COPY_STATE_TABLE)
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await dyn(target).insertInto(COPY_STATE_TABLE).values({ name: 'source', value: sourceName }).execute();
  return false;
}

/** Deletes every copied row of an unfinished copy, children before the rows they point to. */
async function emptyTables(target: DatabaseHandle, ordered: TableInfo[]): Promise<void> {
  await dyn(target).transaction().execute(async (trx) => {
    for (const table of [...ordered].reverse()) await trx.deleteFrom(table.name).execute();
  });
}

/** Where an earlier run stopped: for a one-column integer key, the highest key already copied. */
async function resumePoint(target: DatabaseHandle, table: TableInfo): Promise<unknown[] | null> {
  if (table.primaryKey.length !== 1) return null;
  const [column] = table.primaryKey;
  const row = await dyn(target)
    .selectFrom(table.name)
    .select((eb) => eb.fn.max(column).as('last'))
    .executeTakeFirst();
  const last = row?.last;
  return typeof last === 'number' ? [last] : null;
}

async function copyTable(
  source: DatabaseHandle,
  target: DatabaseHandle,
  table: TableInfo,
  deferredColumns: string[],
  maxBatch: number,
  progress: Progress | null,
  onBatch?: CopyDbOptions['onBatch'],
): Promise<number> {
  // SQLite allows 32766 parameters per statement; stay well below it for wide tables.
  const batchSize = Math.max(1, Math.min(maxBatch, Math.floor(30_000 / table.columns.length)));
  const start = await resumePoint(target, table);
  if (start) progress?.advance(await countRowsUpTo(dyn(source), table, start[0] as number), table.name);
  let copied = 0;
  for await (const rows of readTableInBatches(dyn(source), table, batchSize, start)) {
    const values = rows.map((row) => {
      const copy = { ...row };
      for (const column of deferredColumns) copy[column] = null;
      // Counted by the target's triggers as the rows they count arrive (tags.uses): left at the default.
      for (const column of table.derivedColumns) delete copy[column];
      return copy;
    });
    await dyn(target).transaction().execute(async (trx) => {
      // Rows an interrupted run already wrote are skipped, not duplicated.
      await trx.insertInto(table.name).values(values).onConflict((oc) => oc.columns(table.primaryKey as any).doNothing()).execute();
    });
    copied += rows.length;
    progress?.advance(rows.length, table.name);
    onBatch?.(table.name, copied);
  }
  return copied;
}

async function countRowsUpTo(db: Kysely<any>, table: TableInfo, last: number): Promise<number> {
  const row = await db
    .selectFrom(table.name)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where(table.primaryKey[0], '<=', last)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Second pass for references copied as NULL (an album's parent album): every row gets its real value. */
async function fillDeferredColumns(source: DatabaseHandle, target: DatabaseHandle, table: TableInfo, columns: string[], batchSize: number): Promise<void> {
  for await (const rows of readTableInBatches(dyn(source), table, batchSize)) {
    const withValues = rows.filter((row) => columns.some((c) => row[c] !== null && row[c] !== undefined));
    if (withValues.length === 0) continue;
    await dyn(target).transaction().execute(async (trx) => {
      for (const row of withValues) {
        let update = trx.updateTable(table.name).set(Object.fromEntries(columns.map((c) => [c, row[c]])));
        for (const key of table.primaryKey) update = update.where(key, '=', row[key]);
        await update.execute();
      }
    });
  }
}

/** Ids were copied explicitly, so each PostgreSQL sequence must move past them or the next insert collides. */
async function moveSequencesPastCopiedIds(target: DatabaseHandle, tables: TableInfo[]): Promise<void> {
  for (const table of tables) {
    for (const column of table.sequenceColumns) {
      await sql`select setval(pg_get_serial_sequence(${table.name}, ${column}), coalesce((select max(${sql.ref(column)}) from ${sql.table(table.name)}), 0) + 1, false)`.execute(dyn(target));
    }
  }
}

async function compareChecksums(source: DatabaseHandle, target: DatabaseHandle, tables: TableInfo[], batchSize: number): Promise<string[]> {
  const differences: string[] = [];
  for (const table of tables) {
    const [a, b]: TableChecksum[] = await Promise.all([checksumTable(dyn(source), table, batchSize), checksumTable(dyn(target), table, batchSize)]);
    if (a.rows !== b.rows) differences.push(`${table.name} (${a.rows} rows in the source, ${b.rows} in the copy)`);
    else if (a.digest !== b.digest) differences.push(`${table.name} (same ${a.rows} rows, different contents)`);
  }
  return differences;
}
