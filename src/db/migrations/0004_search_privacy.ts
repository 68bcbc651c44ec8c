import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * Search by title backed by an index, and album privacy inherited down the album tree.
 *
 * Search: titles are matched as substrings (any language, CJK included) through trigrams.
 * - SQLite: `images_title_fts`, an FTS5 table with the `trigram` tokenizer (case-insensitive)
 *   over images(title) as external content, kept in sync by triggers; filled here for existing
 *   rows. The search queries its rowids with MATCH and a quoted phrase (listings.ts).
 * - PostgreSQL: the pg_trgm extension and a GIN `gin_trgm_ops` index on lower(title), which
 *   `lower(title) LIKE '%…%'` uses.
 * Both: an index on lower(tags.name), for the exact tag match the search also does.
 *
 * Privacy: `albums.listed` is 1 when the album and every album above it are public (the
 * album may appear on its owner's profile); `images.listed` now copies its album's `listed`
 * instead of its album's own privacy, so a public sub-album of a private album lists nothing.
 */
export function searchPrivacyMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect === 'sqlite') {
        await sql`create virtual table images_title_fts using fts5(title, content='images', content_rowid='id', tokenize='trigram')`.execute(db);
        await sql`create trigger images_title_fts_insert after insert on images begin
            insert into images_title_fts(rowid, title) values (new.id, new.title);
          end`.execute(db);
        await sql`create trigger images_title_fts_delete after delete on images begin
            insert into images_title_fts(images_title_fts, rowid, title) values ('delete', old.id, old.title);
          end`.execute(db);
        await sql`create trigger images_title_fts_update after update of title on images begin
            insert into images_title_fts(images_title_fts, rowid, title) values ('delete', old.id, old.title);
            insert into images_title_fts(rowid, title) values (new.id, new.title);
          end`.execute(db);
        await sql`insert into images_title_fts(images_title_fts) values ('rebuild')`.execute(db);
      } else {
        await sql`create extension if not exists pg_trgm`.execute(db);
        await sql`create index images_title_trgm on images using gin (lower(title) gin_trgm_ops)`.execute(db);
      }
      await sql`create index tags_lower_name on tags (lower(name))`.execute(db);

      await db.schema.alterTable('albums').addColumn('listed', 'integer', (c) => c.notNull().defaultTo(1)).execute();
      await sql`with recursive hidden(id) as (
          select id from albums where privacy <> 'public'
          union
          select albums.id from albums join hidden on albums.parent_id = hidden.id
        )
        update albums set listed = 0 where id in (select id from hidden)`.execute(db);
      await sql`update images set listed = 0 where listed = 1 and album_id in (select id from albums where listed = 0)`.execute(db);
      await db.schema.createIndex('albums_user_listed_id').on('albums').columns(['user_id', 'listed', 'id']).execute();
    },
    async down(): Promise<void> {
      throw new Error('the search and privacy migration is not reversible');
    },
  };
}
