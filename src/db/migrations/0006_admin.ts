import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { withId } from './0001_initial.js';

/**
 * Running a public site (issue 16): roles instead of the admin flag (`is_admin` stays, kept
 * equal to `role = 'admin'`, for code that only asks "admin?"), disabled accounts, the
 * sign-up address, settings stored in the database (`site_settings`, one row per setting,
 * with `variables.settings_version` bumped on every change so each instance notices), the
 * logo and favicon (`site_assets`), and the site's Markdown pages.
 */
export function adminMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('users').addColumn('role', 'text', (c) => c.notNull().defaultTo('user')).execute();
      await db.schema.alterTable('users').addColumn('disabled_at', 'text').execute();
      await db.schema.alterTable('users').addColumn('signup_ip', 'text').execute();
      await sql`update users set role = 'admin' where is_admin = 1`.execute(db);

      await db.schema
        .createTable('site_settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('site_assets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('mime', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await withId(db.schema.createTable('site_pages'), dialect)
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('in_footer', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      // No settings_version row yet: a missing version reads as '' and the first change writes it, so a
      // freshly migrated database stays empty (copy-db fills only empty targets).
    },
    async down(): Promise<void> {
      throw new Error('the admin migration is not reversible');
    },
  };
}
