import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { withId } from './0001_initial.js';

/**
 * The management API (issue 18):
 * - `named_api_keys`: a user's named keys, each with scopes (comma list), an optional expiry
 *   and the time and address of its last use. The single key of `api_keys` stays as it was
 *   and counts as a key with every scope; it gains `last_used_ip`.
 * (`users.disabled_at`, which stops a disabled user's keys, comes from 0006_admin.)
 * - `webhooks`: a user's (or, with `user_id` null, the site's) URLs for change events, with
 *   the secret that signs each delivery (kept plain: the site must sign with it).
 * - `webhook_deliveries`: one row per event and hook, claimed by one instance at a time
 *   (`claimed_until`), retried with back-off until `give_up_at`; the last 50 per hook are kept.
 */
export function managementApiMigration(dialect: DialectName) {
  const idRef = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await withId(db.schema.createTable('named_api_keys'), dialect)
        .addColumn('user_id', idRef, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('key_hint', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .addColumn('last_used_ip', 'text')
        .execute();
      await db.schema.createIndex('named_api_keys_user').on('named_api_keys').columns(['user_id', 'id']).execute();
      await db.schema.alterTable('api_keys').addColumn('last_used_ip', 'text').execute();

      await withId(db.schema.createTable('webhooks'), dialect)
        .addColumn('user_id', idRef, (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('created_by', idRef, (c) => c.references('users.id').onDelete('set null'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhooks_user').on('webhooks').columns(['user_id', 'id']).execute();

      await withId(db.schema.createTable('webhook_deliveries'), dialect)
        .addColumn('webhook_id', idRef, (c) => c.notNull().references('webhooks.id').onDelete('cascade'))
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('give_up_at', 'text', (c) => c.notNull())
        .addColumn('claimed_by', 'text')
        .addColumn('claimed_until', 'text')
        .addColumn('last_status', 'integer')
        .addColumn('last_response', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema.createIndex('webhook_deliveries_due').on('webhook_deliveries').columns(['state', 'next_attempt_at']).execute();
      await db.schema.createIndex('webhook_deliveries_hook').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
    },
    async down(): Promise<void> {
      throw new Error('the management API migration is not reversible');
    },
  };
}
