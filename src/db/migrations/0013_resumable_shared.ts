import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Resumable (tus) uploads that any instance can continue: `resumable_uploads` holds what tus
 * knows of an unfinished upload stored in the bucket (its size, metadata and the S3 multipart
 * upload id), `resumable_locks` who is writing to an upload right now (a lease that its holder
 * renews, so a killed instance's lock runs out by itself), and `resumable_results` the answer of
 * a finished upload, claimed by the one instance that ingests it.
 */
export function resumableSharedMigration(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('resumable_uploads')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('info', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('resumable_uploads_created').on('resumable_uploads').column('created_at').execute();
      await db.schema
        .createTable('resumable_locks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('release_requested', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createTable('resumable_results')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('holder', 'text')
        .addColumn('claimed_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'integer')
        .addColumn('body', 'text')
        .addColumn('finished_at', 'bigint')
        .execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('resumable_results').execute();
      await db.schema.dropTable('resumable_locks').execute();
      await db.schema.dropTable('resumable_uploads').execute();
    },
  };
}
