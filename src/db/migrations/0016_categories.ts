import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Categories managed in the dashboard (the `categories` table itself came with the Chevereto
 * import, 0005). A category page (`/category/<url_key>`) and the explore filter list a
 * category's public files newest first: `images_category_listed_id` (category_id, listed, id)
 * makes that one index walk, like explore's own indexes.
 */
export function categoriesMigration(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('images_category_listed_id').on('images').columns(['category_id', 'listed', 'id']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('images_category_listed_id').execute();
    },
  };
}
