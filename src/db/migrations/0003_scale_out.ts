import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Several instances on one database: `job_runs` holds one row per periodic cluster-wide job
 * (expiry sweep, session cleanup...). An instance runs a job only after moving its
 * `next_run_at` forward with a conditional UPDATE, so each due run is claimed by exactly one
 * instance, on SQLite and PostgreSQL alike (see src/db/repositories/job-runs.ts).
 */
export function scaleOutMigration(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('job_runs')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('next_run_at', 'text', (c) => c.notNull())
        .addColumn('holder', 'text')
        .addColumn('started_at', 'text')
        .addColumn('finished_at', 'text')
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('job_runs').execute();
    },
  };
}
