import type { Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { withId } from './0001_initial.js';

/**
 * Moderation (issue 17): IP bans, the takedown blocklist (md5 + perceptual hash), stop words,
 * reports, the audit log, flags on uploaders, and `images.phash`, the perceptual
 * hash every upload keeps (16 hex digits, a 64-bit DCT hash; null for rows older than this).
 */
export function moderationMigration(dialect: DialectName) {
  const idRef = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('images').addColumn('phash', 'text').execute();
      await db.schema.createIndex('images_uploader_ip').on('images').column('uploader_ip').execute();
      await db.schema.createIndex('images_is_approved_id').on('images').columns(['is_approved', 'id']).execute();

      await withId(db.schema.createTable('ip_bans'), dialect)
        .addColumn('range', 'text', (c) => c.notNull().unique())
        .addColumn('message', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();

      await withId(db.schema.createTable('blocklist'), dialect)
        .addColumn('md5', 'text')
        .addColumn('phash', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();
      await db.schema.createIndex('blocklist_md5').on('blocklist').column('md5').execute();

      await withId(db.schema.createTable('stop_words'), dialect)
        .addColumn('word', 'text', (c) => c.notNull().unique())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('moderation_flags'), dialect)
        .addColumn('user_id', idRef, (c) => c.references('users.id').onDelete('cascade'))
        .addColumn('ip', 'text')
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();


      await withId(db.schema.createTable('reports'), dialect)
        .addColumn('image_id', idRef, (c) => c.references('images.id').onDelete('cascade'))
        .addColumn('album_id', idRef, (c) => c.references('albums.id').onDelete('cascade'))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('note', 'text')
        .addColumn('reporter_id', idRef, (c) => c.references('users.id').onDelete('set null'))
        .addColumn('reporter_ip', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('resolved_at', 'text')
        .execute();
      await db.schema.createIndex('reports_open').on('reports').columns(['resolved_at', 'id']).execute();

      await withId(db.schema.createTable('audit_log'), dialect)
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text')
        .addColumn('detail', 'text')
        .addColumn('ip', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
    async down(): Promise<void> {
      throw new Error('the moderation migration is not reversible');
    },
  };
}
