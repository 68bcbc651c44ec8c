import { PostgresAdapter, type Kysely } from 'kysely';

/**
 * Whether a Kysely instance talks to PostgreSQL. Jobs take a plain `Kysely` (so tests and the
 * CLI can pass `ctx.db`), and only PostgreSQL has the row locks (`FOR UPDATE SKIP LOCKED`)
 * that let several instances share one batch of work.
 */
export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
