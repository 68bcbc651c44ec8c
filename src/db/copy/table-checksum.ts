import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { TableInfo } from './table-metadata.js';
import { readTableInBatches } from './table-pages.js';

export interface TableChecksum {
  rows: number;
  /** Sum of per-row hashes: independent of row order, which differs between SQLite and PostgreSQL collations. */
  digest: string;
}

/** One value as text, the same whichever database returned it. */
function canonical(value: unknown): string {
  if (value === null || value === undefined) return '\u0000null';
  if (Buffer.isBuffer(value)) return `\u0000bytes:${value.toString('hex')}`;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

export function rowHash(row: Record<string, unknown>, columns: string[]): bigint {
  const text = JSON.stringify(columns.map((c) => canonical(row[c])));
  return createHash('sha256').update(text).digest().readBigUInt64BE(0);
}

/** Row count and order-independent digest of every row of a table. */
export async function checksumTable(db: Kysely<any>, table: TableInfo, batchSize: number): Promise<TableChecksum> {
  let rows = 0;
  let sum = 0n;
  for await (const batch of readTableInBatches(db, table, batchSize)) {
    for (const row of batch) sum = (sum + rowHash(row, table.columns)) & 0xffffffffffffffffn;
    rows += batch.length;
  }
  return { rows, digest: sum.toString(16).padStart(16, '0') };
}
