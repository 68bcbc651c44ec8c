import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { withId } from './0001_initial.js';

/**
 * Accounts for life (issue 16): profiles, two-factor sign-in, emailed links.
 *
 * - users: `avatar_key` (a storage key under `avatars/`; the profile's `display_name`, `bio` and
 *   `website` columns come from 0005_chevereto_import, which Chevereto's users fill too);
 *   `email_unverified` (1 only for a web sign-up still waiting for its emailed link, so every
 *   other way of making an account, the CLI included, makes a usable one); `totp_secret`
 *   (base32, set when enrolment starts), `totp_enabled`, and `totp_last_step` (the last
 *   30-second step a code was accepted for, so a code works once).
 * - account_tokens: single-use links and half-done sign-ins (password reset, address check,
 *   address change, the second step of a two-factor sign-in); only the sha256 of the token is
 *   stored, and `used_at` is set by a conditional UPDATE so a link works exactly once.
 * - recovery_codes: two-factor recovery codes, sha256 only, each usable once.
 */
export function accountsMigration(dialect: DialectName) {
  const idRef = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('users').addColumn('avatar_key', 'text').execute();
      await db.schema.alterTable('users').addColumn('email_unverified', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('users').addColumn('totp_secret', 'text').execute();
      await db.schema.alterTable('users').addColumn('totp_enabled', 'integer', (c) => c.notNull().defaultTo(0)).execute();
      await db.schema.alterTable('users').addColumn('totp_last_step', 'bigint', (c) => c.notNull().defaultTo(0)).execute();

      await withId(db.schema.createTable('account_tokens'), dialect)
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('user_id', idRef, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema.createIndex('account_tokens_user_purpose').on('account_tokens').columns(['user_id', 'purpose']).execute();
      await db.schema.createIndex('account_tokens_expires_at').on('account_tokens').column('expires_at').execute();

      await withId(db.schema.createTable('recovery_codes'), dialect)
        .addColumn('user_id', idRef, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('code_hash', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text')
        .execute();
      await db.schema.createIndex('recovery_codes_user_id').on('recovery_codes').columns(['user_id', 'code_hash']).execute();
    },
    async down(): Promise<void> {
      throw new Error('the accounts migration is not reversible');
    },
  };
}
