import { sql, type Kysely } from 'kysely';
import type { DatabaseHandle } from '../database.js';

/** What copy-db needs to know of a table: its columns, primary key and references to other tables. */
export interface TableInfo {
  name: string;
  columns: string[];
  primaryKey: string[];
  /** Columns whose value names a row of another (or the same) table. */
  references: { column: string; table: string }[];
  /** Columns filled from a sequence on PostgreSQL (bigserial ids), to move on after copying. */
  sequenceColumns: string[];
  /**
   * Columns the target's triggers fill as the rows they count arrive (see DERIVED_COLUMNS): left at
   * their default by the copy, compared all the same by the checksums.
   */
  derivedColumns: string[];
}

/** Tables that describe the running installation, not the site: never copied. */
const NOT_SITE_DATA = new Set(['job_runs', 'kysely_migration', 'kysely_migration_lock']);
/**
 * Tables derived from images and refilled by triggers on the target as its rows arrive: SQLite's
 * search index (FTS5 table and its shadow tables, 0004_search_privacy), the two-character CJK
 * title grams and SQLite's helper table of positions for them (0011_site_browse), PostgreSQL's
 * three-character title grams (0020_title_grams).
 */
const DERIVED = /^(images_title_fts(_|$)|cjk_title_grams$|cjk_gram_positions$|title_grams$)/;
/**
 * Columns counted by triggers on the target: `tags.uses` (0019_tag_use_counts) goes up as the
 * target's image_tags rows arrive after their images, so a copied value would be counted twice.
 * The verification still compares them, so a copy whose counts differ from the source's fails.
 */
const DERIVED_COLUMNS: Record<string, string[]> = { tags: ['uses'] };

export async function describeTables(handle: DatabaseHandle, skip: string[] = []): Promise<TableInfo[]> {
  const tables = await handle.db.introspection.getTables();
  const wanted = tables.filter((t) => !t.isView && !NOT_SITE_DATA.has(t.name) && !skip.includes(t.name) && !t.name.startsWith('sqlite_') && !DERIVED.test(t.name));
  const infos: TableInfo[] = [];
  for (const table of wanted) {
    const keys = handle.dialect === 'postgres' ? await postgresKeys(handle.db, table.name) : await sqliteKeys(handle.db, table.name);
    infos.push({
      name: table.name,
      columns: table.columns.map((c) => c.name).sort(),
      primaryKey: keys.primaryKey,
      references: keys.references,
      sequenceColumns: handle.dialect === 'postgres' ? table.columns.filter((c) => c.isAutoIncrementing || /nextval\(/.test(String((c as { defaultValue?: unknown }).defaultValue ?? ''))).map((c) => c.name) : [],
      derivedColumns: (DERIVED_COLUMNS[table.name] ?? []).filter((c) => table.columns.some((column) => column.name === c)),
    });
  }
  return infos.sort((a, b) => a.name.localeCompare(b.name));
}

type Keys = Pick<TableInfo, 'primaryKey' | 'references'>;

async function sqliteKeys(db: Kysely<any>, table: string): Promise<Keys> {
  const pk = await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${table}) where pk > 0 order by pk`.execute(db);
  const fks = await sql<{ from: string; table: string }>`select "from", "table" from pragma_foreign_key_list(${table})`.execute(db);
  return { primaryKey: pk.rows.map((r) => r.name), references: fks.rows.map((r) => ({ column: r.from, table: r.table })) };
}

async function postgresKeys(db: Kysely<any>, table: string): Promise<Keys> {
  const pk = await sql<{ column: string }>`
    select a.attname as column
    from pg_index i join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
    where i.indrelid = to_regclass(${table}) and i.indisprimary
    order by array_position(i.indkey::int2[], a.attnum)`.execute(db);
  const fks = await sql<{ column: string; table: string }>`
    select a.attname as column, c.confrelid::regclass::text as table
    from pg_constraint c join pg_attribute a on a.attrelid = c.conrelid and a.attnum = any(c.conkey)
    where c.contype = 'f' and c.conrelid = to_regclass(${table})`.execute(db);
  return { primaryKey: pk.rows.map((r) => r.column), references: fks.rows.map((r) => ({ column: r.column, table: r.table.replace(/^"|"$/g, '') })) };
}

/**
 * Tables in an order where every referenced table comes first. References that cannot be
 * satisfied that way (a table naming itself, like an album's parent, or a cycle) are
 * returned as deferred: those columns are copied as NULL first and filled in at the end.
 */
export function copyOrder(tables: TableInfo[]): { ordered: TableInfo[]; deferred: Map<string, string[]> } {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: TableInfo[] = [];
  const placed = new Set<string>();
  const deferred = new Map<string, string[]>();
  const remaining = new Set(tables.map((t) => t.name));
  while (remaining.size > 0) {
    const ready = [...remaining].find((name) =>
      byName.get(name)!.references.every((ref) => ref.table === name || placed.has(ref.table) || !byName.has(ref.table)),
    );
    // A cycle between tables: break it at the first table, deferring what it cannot satisfy yet.
    const next = ready ?? [...remaining][0];
    const table = byName.get(next)!;
    const unsatisfied = table.references.filter((ref) => byName.has(ref.table) && (ref.table === next || !placed.has(ref.table)));
    if (unsatisfied.length > 0) deferred.set(next, unsatisfied.map((ref) => ref.column));
    ordered.push(table);
    placed.add(next);
    remaining.delete(next);
  }
  return { ordered, deferred };
}
