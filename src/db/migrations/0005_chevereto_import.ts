import { type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * What a site moved in from Chevereto needs beyond Shoebox's own columns
 * (`shoebox import-chevereto`, src/import/):
 *
 * - users: the profile fields Chevereto keeps (display name, bio, website), a private profile
 *   flag and the account status;
 * - images: the local date Chevereto showed and filed the upload under (`date_local`, its date
 *   folder follows it) and the bcrypt of an old delete link's secret (`legacy_delete_hash`);
 * - `legacy_api_keys`: old `chv_<encoded id>_<secret>` keys, bcrypt as Chevereto stored them,
 *   looked up by the encoded id; moved to Shoebox's own key hash on first use;
 * - `categories`: Chevereto's categories (images.category_id points at them);
 * - `deleted_ids`: ids Chevereto deleted, kept so they are never handed out again;
 * - `chevereto_imported`: one row per imported row (kind, id), written in the same transaction
 *   as the row itself: what makes a stopped import resumable and a finished one a no-op.
 */
export function cheveretoImportMigration(dialect: DialectName) {
  const idRef = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('users').addColumn('display_name', 'text').execute();
      await db.schema.alterTable('users').addColumn('bio', 'text').execute();
      await db.schema.alterTable('users').addColumn('website', 'text').execute();
      await db.schema.alterTable('users').addColumn('is_private', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('users').addColumn('status', 'text', (c) => c.notNull().defaultTo('valid')).execute();

      await db.schema.alterTable('images').addColumn('date_local', 'text').execute();
      await db.schema.alterTable('images').addColumn('legacy_delete_hash', 'text').execute();

      await db.schema
        .createTable('legacy_api_keys')
        .addColumn('public_id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', idRef, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('categories')
        .addColumn('id', idRef, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('url_key', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text')
        .execute();

      await db.schema
        .createTable('deleted_ids')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', idRef, (c) => c.notNull())
        .addColumn('deleted_at', 'text', (c) => c.notNull())
        .addColumn('md5', 'text')
        .addColumn('original_filename', 'text')
        .addPrimaryKeyConstraint('deleted_ids_pk', ['kind', 'id'])
        .execute();

      await db.schema
        .createTable('chevereto_imported')
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('id', idRef, (c) => c.notNull())
        .addPrimaryKeyConstraint('chevereto_imported_pk', ['kind', 'id'])
        .execute();
    },
    async down(): Promise<void> {
      throw new Error('the Chevereto import migration is not reversible');
    },
  };
}
