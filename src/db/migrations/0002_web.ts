import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { withId } from './0001_initial.js';

/**
 * The web site: database sessions (shared by every instance), sign-up invites, the per-user
 * preferences of the web pages, and `images.listed`, a copy of "may appear in public
 * listings" kept beside each image so the explore, profile and tag listings stay one index
 * range scan even when most of a site's files sit in private albums.
 */
export function webMigration(dialect: DialectName) {
  const idRef = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(db.schema.createTable('sessions'), dialect)
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', idRef, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_seen_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();
      await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();

      await withId(db.schema.createTable('invites'), dialect)
        .addColumn('code_hash', 'text', (c) => c.notNull().unique())
        .addColumn('created_by', idRef, (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('used_by', idRef, (c) => c.references('users.id').onDelete('set null'))
        .addColumn('used_at', 'text')
        .execute();

      await db.schema.alterTable('users').addColumn('show_nsfw', 'integer', (c) => c.notNull().defaultTo(0)).execute();

      await db.schema.alterTable('images').addColumn('listed', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await sql`update images set listed = 0 where album_id in (select id from albums where privacy <> 'public')`.execute(db);
      // Keyset pagination (WHERE id < cursor ORDER BY id DESC) of each listing walks one of these.
      await db.schema.createIndex('images_listed_id').on('images').columns(['listed', 'id']).execute();
      await db.schema.createIndex('images_user_listed_id').on('images').columns(['user_id', 'listed', 'id']).execute();
      await db.schema.createIndex('albums_parent_id').on('albums').columns(['parent_id', 'id']).execute();
      await db.schema.createIndex('albums_user_privacy_id').on('albums').columns(['user_id', 'privacy', 'id']).execute();
    },
    async down(): Promise<void> {
      throw new Error('the web migration is not reversible');
    },
  };
}
