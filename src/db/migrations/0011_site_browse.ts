import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/** Code points from U+2E80 up: CJK radicals, kana, ideographs, Hangul, full-width forms. */
export const CJK_FROM = 0x2e80;
/** Longest title whose every pair of characters is indexed (titles are cut to 100 characters on upload). */
const MAX_GRAM_START = 255;

/**
 * Browsing (issue 19).
 *
 * Two-character title search for Chinese, Korean and Japanese: the trigram indexes of 0004 need
 * three characters, but "東京" or "서울" is a whole word. `cjk_title_grams` (gram, image_id) holds
 * every pair of adjacent CJK characters of every title (lower-cased), kept in sync by triggers
 * (SQLite: a join with `cjk_gram_positions` 1..255, as SQLite triggers take no recursive CTEs;
 * PostgreSQL: a PL/pgSQL trigger over generate_series), and filled here for existing rows. A
 * two-character search walks its primary key (gram, image_id) newest first: one index range.
 *
 * Explore tabs: `images_type_listed_id` (type, listed, id) for images-only / videos-only pages,
 * `images_listed_views_id` (listed, views, id) for "popular".
 */
export function siteBrowseMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await sql`create table cjk_title_grams (gram text not null, image_id integer not null, primary key (gram, image_id))`.execute(db);
      await sql`create index cjk_title_grams_image on cjk_title_grams (image_id)`.execute(db);
      if (dialect === 'sqlite') {
        await sql`create table cjk_gram_positions (n integer primary key)`.execute(db);
        await sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${MAX_GRAM_START}) insert into cjk_gram_positions select n from seq`.execute(db);
        const gramsOf = (row: 'new' | 'images') => sql.raw(`select distinct lower(substr(${row}.title, p.n, 2)), ${row}.id from cjk_gram_positions p
            where ${row}.title is not null and p.n < length(${row}.title)
            and unicode(substr(${row}.title, p.n, 1)) >= ${CJK_FROM} and unicode(substr(${row}.title, p.n + 1, 1)) >= ${CJK_FROM}`);
        await sql`create trigger cjk_title_grams_insert after insert on images begin
            insert or ignore into cjk_title_grams (gram, image_id) ${gramsOf('new')};
          end`.execute(db);
        await sql`create trigger cjk_title_grams_delete after delete on images begin
            delete from cjk_title_grams where image_id = old.id;
          end`.execute(db);
        await sql`create trigger cjk_title_grams_update after update of title on images begin
            delete from cjk_title_grams where image_id = old.id;
            insert or ignore into cjk_title_grams (gram, image_id) ${gramsOf('new')};
          end`.execute(db);
        await sql`insert or ignore into cjk_title_grams (gram, image_id) select distinct lower(substr(images.title, p.n, 2)), images.id
            from images join cjk_gram_positions p on p.n < length(images.title)
            where images.title is not null
            and unicode(substr(images.title, p.n, 1)) >= ${sql.raw(String(CJK_FROM))} and unicode(substr(images.title, p.n + 1, 1)) >= ${sql.raw(String(CJK_FROM))}`.execute(db);
      } else {
        await sql`create function shoebox_cjk_title_grams() returns trigger language plpgsql as $$
          begin
            if tg_op in ('UPDATE', 'DELETE') then
              delete from cjk_title_grams where image_id = old.id;
            end if;
            if tg_op in ('INSERT', 'UPDATE') and new.title is not null then
              insert into cjk_title_grams (gram, image_id)
                select distinct lower(substr(new.title, n, 2)), new.id from generate_series(1, char_length(new.title) - 1) n
                where ascii(substr(new.title, n, 1)) >= ${sql.raw(String(CJK_FROM))} and ascii(substr(new.title, n + 1, 1)) >= ${sql.raw(String(CJK_FROM))}
                on conflict do nothing;
            end if;
            return null;
          end $$`.execute(db);
        await sql`create trigger cjk_title_grams_sync after insert or delete or update of title on images
          for each row execute function shoebox_cjk_title_grams()`.execute(db);
        await sql`insert into cjk_title_grams (gram, image_id)
          select distinct lower(substr(images.title, n, 2)), images.id from images, generate_series(1, char_length(images.title) - 1) n
          where images.title is not null
          and ascii(substr(images.title, n, 1)) >= ${sql.raw(String(CJK_FROM))} and ascii(substr(images.title, n + 1, 1)) >= ${sql.raw(String(CJK_FROM))}
          on conflict do nothing`.execute(db);
      }
      await db.schema.createIndex('images_type_listed_id').on('images').columns(['type', 'listed', 'id']).execute();
      await db.schema.createIndex('images_listed_views_id').on('images').columns(['listed', 'views', 'id']).execute();
    },
    async down(): Promise<void> {
      throw new Error('the browse migration is not reversible');
    },
  };
}
