import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * PostgreSQL: the title trigram index (images_title_trgm, 0004_search_privacy) without GIN's
 * pending list (`fastupdate = off`). With it on, new titles wait in an unsorted list of up to
 * gin_pending_list_limit (4 MB) until a vacuum or the insert that overflows it merges them, and
 * every search reads the whole list: 7,000 waiting titles cost a search 4-8 ms on the bench
 * machine, whatever it finds. Off, each insert adds its trigrams to the index itself (about
 * 90 µs more per row there), and the entries already waiting are merged here. SQLite: nothing.
 */
export function titleIndexNoPendingListMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`alter index images_title_trgm set (fastupdate = off)`.execute(db);
      await sql`select gin_clean_pending_list('images_title_trgm'::regclass)`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect !== 'postgres') return;
      await sql`alter index images_title_trgm reset (fastupdate)`.execute(db);
    },
  };
}
