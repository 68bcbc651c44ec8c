import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * PostgreSQL: `title_grams` (gram, image_id), every distinct three-character run of every
 * lower-cased title, kept by a trigger on images (insert, delete, a change of title) and filled
 * here for existing rows. Its primary key walks one gram's titles newest first, which the GIN
 * index of 0004_search_privacy cannot: a text with many hits that are all older than the walk of
 * recent files (postgres-title-search.ts) costs a page's worth of rows instead of a recheck of
 * every hit on the heap. The gram column keeps a longer list of its most common values (the
 * search reads them from pg_stats to pick the text's rarest gram). About eleven rows per
 * "Photo 1234567" title: roughly 55 bytes a gram with its key.
 *
 * SQLite: nothing (its FTS5 trigram index, 0004_search_privacy, already hands rows back in order).
 */
export function titleGramsMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect !== 'postgres') return;
      // The key and the second index are made after the fill (a sorted build, much faster than
      // eleven million inserts into a B-tree at a million titles); the trigger first, so a write
      // waits for this migration's transaction instead of being missed.
      await sql`create table title_grams (gram text not null, image_id integer not null)`.execute(db);
      await sql`alter table title_grams alter column gram set statistics 1000`.execute(db);
      await sql`create function shoebox_title_grams() returns trigger language plpgsql as $$
        begin
          if tg_op = 'UPDATE' and new.title is not distinct from old.title then
            return null;
          end if;
          if tg_op in ('UPDATE', 'DELETE') then
            delete from title_grams where image_id = old.id;
          end if;
          if tg_op in ('INSERT', 'UPDATE') and new.title is not null then
            insert into title_grams (gram, image_id)
              select distinct substr(t, n, 3), new.id from lower(new.title) t, generate_series(1, char_length(t) - 2) n
              on conflict do nothing;
          end if;
          return null;
        end $$`.execute(db);
      await sql`create trigger title_grams_sync after insert or delete or update of title on images
        for each row execute function shoebox_title_grams()`.execute(db);
      await fillTitleGrams(db);
      await sql`alter table title_grams add primary key (gram, image_id)`.execute(db);
      await sql`create index title_grams_image on title_grams (image_id)`.execute(db);
      await sql`analyze title_grams`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`drop trigger title_grams_sync on images`.execute(db);
      await sql`drop function shoebox_title_grams()`.execute(db);
      await sql`drop table title_grams`.execute(db);
    },
  };
}

/** Every title's grams (each title's distinct ones), for an empty title_grams without its key (the migration, the bench's bulk load). */
export const FILL_TITLE_GRAMS = `insert into title_grams (gram, image_id)
  select g.gram, images.id from images cross join lateral (
    select distinct substr(t, n, 3) as gram from lower(images.title) t, generate_series(1, char_length(t) - 2) n
  ) g
  where images.title is not null`;

async function fillTitleGrams(db: Kysely<any>): Promise<void> {
  await sql.raw(FILL_TITLE_GRAMS).execute(db);
}
