import type { ExpressionBuilder, Kysely } from 'kysely';
import type { TableInfo } from './table-metadata.js';

/**
 * "Rows after this key" for a primary key of any width: (a > x) or (a = x and b > y) ...
 * Written out rather than as a row-value comparison so it reads the same on both databases.
 */
export function afterKey(eb: ExpressionBuilder<any, any>, columns: string[], key: unknown[]) {
  const alternatives = columns.map((column, i) =>
    eb.and([...columns.slice(0, i).map((earlier, j) => eb(earlier, '=', key[j])), eb(column, '>', key[i])]),
  );
  return eb.or(alternatives);
}

/**
 * Every row of a table in primary-key order, a batch at a time (keyset pagination: constant
 * cost per batch however large the table, and never the whole table in memory).
 */
export async function* readTableInBatches(
  db: Kysely<any>,
  table: TableInfo,
  batchSize: number,
  startAfter: unknown[] | null = null,
): AsyncIterable<Record<string, unknown>[]> {
  let after = startAfter;
  for (;;) {
    let query = db.selectFrom(table.name).select(table.columns);
    if (after) {
      const key = after;
      query = query.where((eb) => afterKey(eb, table.primaryKey, key));
    }
    for (const column of table.primaryKey) query = query.orderBy(column);
    const rows = (await query.limit(batchSize).execute()) as Record<string, unknown>[];
    if (rows.length === 0) return;
    yield rows;
    if (rows.length < batchSize) return;
    const last = rows[rows.length - 1];
    after = table.primaryKey.map((c) => last[c]);
  }
}
