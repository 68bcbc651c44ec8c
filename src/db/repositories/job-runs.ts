import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../schema.js';
import { isPostgres } from '../dialect.js';

/**
 * Claims the next due run of a periodic cluster-wide job. Every instance calls this on its
 * own timer; the conditional UPDATE moves `next_run_at` forward for exactly one of them, so
 * each run happens once across the cluster. Times come from the database's clock, so
 * instances whose clocks disagree still agree on whose turn it is. A claimer that dies
 * mid-run holds nothing: the next run is simply claimed when it falls due.
 */
export async function claimJobRun(db: Kysely<Database>, name: string, intervalSeconds: number, holder: string): Promise<boolean> {
  const { now, later } = clockExpressions(db, intervalSeconds);
  await db
    .insertInto('job_runs')
    .values({ name, next_run_at: '1970-01-01 00:00:00', holder: null, started_at: null, finished_at: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const result = await db
    .updateTable('job_runs')
    .set({ next_run_at: later, holder, started_at: now })
    .where('name', '=', name)
    .where('next_run_at', '<=', now)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Records when the holder finished (for operators reading the table; nothing depends on it). */
export async function finishJobRun(db: Kysely<Database>, name: string, holder: string): Promise<void> {
  const { now } = clockExpressions(db, 0);
  await db.updateTable('job_runs').set({ finished_at: now }).where('name', '=', name).where('holder', '=', holder).execute();
}

/** `YYYY-MM-DD HH:MM:SS` in UTC from the database server, now and `seconds` later (the format of every stored date). */
function clockExpressions(db: Kysely<any>, seconds: number): { now: RawBuilder<string>; later: RawBuilder<string> } {
  if (isPostgres(db)) {
    const format = (expression: RawBuilder<unknown>) => sql<string>`to_char(${expression}, 'YYYY-MM-DD HH24:MI:SS')`;
    const utcNow = sql`(now() at time zone 'utc')`;
    return { now: format(utcNow), later: format(sql`${utcNow} + make_interval(secs => ${seconds})`) };
  }
  return { now: sql<string>`datetime('now')`, later: sql<string>`datetime('now', ${`+${seconds} seconds`})` };
}
