import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Indexes for explore's other tabs (issue 19), so each walks an index at any size:
 * - "popular" by type: (type, listed, views, id), the keyset (views, id) of the popular tab
 *   when it shows only images or only videos (all types use (listed, views, id) of 0011);
 * - public albums newest first, and their count: (listed, id).
 */
export function browseKeysetsMigration(_dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.createIndex('images_type_listed_views_id').on('images').columns(['type', 'listed', 'views', 'id']).execute();
      await db.schema.createIndex('albums_listed_id').on('albums').columns(['listed', 'id']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('albums_listed_id').execute();
      await db.schema.dropIndex('images_type_listed_views_id').execute();
    },
  };
}
