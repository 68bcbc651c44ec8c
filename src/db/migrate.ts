import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { DatabaseHandle, DialectName } from './database.js';
import { initialMigration } from './migrations/0001_initial.js';
import { webMigration } from './migrations/0002_web.js';
import { scaleOutMigration } from './migrations/0003_scale_out.js';
import { searchPrivacyMigration } from './migrations/0004_search_privacy.js';
import { moderationMigration } from './migrations/0008_moderation.js';
import { cheveretoImportMigration } from './migrations/0005_chevereto_import.js';
import { siteBrowseMigration } from './migrations/0011_site_browse.js';
import { adminMigration } from './migrations/0006_admin.js';
import { accountsMigration } from './migrations/0007_accounts.js';
import { managementApiMigration } from './migrations/0009_management_api.js';
import { resumableSharedMigration } from './migrations/0013_resumable_shared.js';
import { categoriesMigration } from './migrations/0016_categories.js';
import { browseKeysetsMigration } from './migrations/0017_browse_keysets.js';
import { titleIndexNoPendingListMigration } from './migrations/0018_title_index_no_pending_list.js';
import { tagUseCountsMigration } from './migrations/0019_tag_use_counts.js';
import { titleGramsMigration } from './migrations/0020_title_grams.js';

/**
 * Migrations are plain modules listed here in order, so they work the same from `src/`
 * under tsx and from the compiled `dist/`. A new migration: add a file and a line.
 */
export function allMigrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001_initial': initialMigration(dialect),
    '0002_web': webMigration(dialect),
    '0003_scale_out': scaleOutMigration(dialect),
    '0004_search_privacy': searchPrivacyMigration(dialect),
    '0008_moderation': moderationMigration(dialect),
    '0005_chevereto_import': cheveretoImportMigration(dialect),
    '0011_site_browse': siteBrowseMigration(dialect),
    '0006_admin': adminMigration(dialect),
    '0007_accounts': accountsMigration(dialect),
    '0009_management_api': managementApiMigration(dialect),
    '0013_resumable_shared': resumableSharedMigration(dialect),
    '0016_categories': categoriesMigration(dialect),
    '0017_browse_keysets': browseKeysetsMigration(dialect),
    '0018_title_index_no_pending_list': titleIndexNoPendingListMigration(dialect),
    '0019_tag_use_counts': tagUseCountsMigration(dialect),
    '0020_title_grams': titleGramsMigration(dialect),
  };
}

/**
 * Whether the database has run exactly the migrations listed here (the usual restart): one read of
 * Kysely's own record. Kysely's Migrator would find the same, but only after reading every table's
 * columns twice to see whether its tables exist. Any other case (a new database, a new migration,
 * a migration this code does not know) goes to the Migrator.
 */
async function isUpToDate(handle: DatabaseHandle, names: string[]): Promise<boolean> {
  try {
    if (handle.dialect === 'postgres') {
      // Asked first, so a new database's server log shows no failed query.
      const { rows: found } = await sql<{ present: boolean }>`select to_regclass('kysely_migration') is not null as present`.execute(handle.db);
      if (!found[0]?.present) return false;
    }
    const { rows } = await sql<{ name: string }>`select name from kysely_migration`.execute(handle.db);
    const done = new Set(rows.map((row) => row.name));
    return done.size === names.length && names.every((name) => done.has(name));
  } catch {
    return false; // no record yet: a new database
  }
}

export async function migrateToLatest(handle: DatabaseHandle): Promise<void> {
  const migrations = allMigrations(handle.dialect);
  if (await isUpToDate(handle, Object.keys(migrations))) return;
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  // Features land in any order of their numbers; a database that already ran a later one still takes an earlier new one.
  // Names are ordered by their characters (they start with a number of four digits): the same order
  // as Kysely's default, localeCompare, without making an ICU collator.
  const migrator = new Migrator({ db: handle.db, provider, allowUnorderedMigrations: true, nameComparator: (a, b) => (a < b ? -1 : a > b ? 1 : 0) });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`database migration ${failed?.migrationName ?? ''} failed: ${String(error)}`);
  }
}
