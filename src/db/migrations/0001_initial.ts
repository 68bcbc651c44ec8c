import { type Kysely, type CreateTableBuilder } from 'kysely';
import type { DialectName } from '../database.js';

/** An auto-increment integer primary key on both dialects. */
export function withId<T extends string>(table: CreateTableBuilder<T, never>, dialect: DialectName) {
  return dialect === 'postgres'
    ? table.addColumn('id', 'bigserial', (c) => c.primaryKey())
    : table.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

export function initialMigration(dialect: DialectName) {
  const idRef = dialect === 'postgres' ? 'bigint' : 'integer';
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('variables')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('users'), dialect)
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('email', 'text', (c) => c.unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('language', 'text')
        .addColumn('timezone', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();

      await withId(db.schema.createTable('api_keys'), dialect)
        .addColumn('user_id', idRef, (c) => c.notNull().unique().references('users.id').onDelete('cascade'))
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('key_hint', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();

      await withId(db.schema.createTable('albums'), dialect)
        .addColumn('user_id', idRef, (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('parent_id', idRef, (c) => c.references('albums.id').onDelete('set null'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('privacy', 'text', (c) => c.notNull().defaultTo('public'))
        .addColumn('password_hash', 'text')
        .addColumn('cover_image_id', idRef)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('albums_user_id').on('albums').columns(['user_id', 'id']).execute();

      await withId(db.schema.createTable('images'), dialect)
        .addColumn('user_id', idRef, (c) => c.references('users.id').onDelete('set null'))
        .addColumn('album_id', idRef, (c) => c.references('albums.id').onDelete('set null'))
        .addColumn('category_id', idRef)
        .addColumn('folder', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('extension', 'text', (c) => c.notNull())
        .addColumn('mime', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('width', 'integer', (c) => c.notNull())
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('md5', 'text', (c) => c.notNull())
        .addColumn('source_md5', 'text')
        .addColumn('title', 'text')
        .addColumn('description', 'text')
        .addColumn('nsfw', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('original_filename', 'text', (c) => c.notNull())
        .addColumn('exifdata', 'text')
        .addColumn('chain', 'integer', (c) => c.notNull())
        .addColumn('thumb_size', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('medium_size', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('frame_size', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('derivative_extension', 'text', (c) => c.notNull())
        .addColumn('is_animated', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('is_approved', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('is_360', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('duration', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('views', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('likes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('uploader_ip', 'text')
        .addColumn('date_gmt', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('delete_hash', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('images_folder_name').on('images').columns(['folder', 'name']).unique().execute();
      await db.schema.createIndex('images_user_id').on('images').columns(['user_id', 'id']).execute();
      await db.schema.createIndex('images_album_id').on('images').columns(['album_id', 'id']).execute();
      await db.schema.createIndex('images_expires_at').on('images').column('expires_at').execute();
      await db.schema.createIndex('images_user_md5').on('images').columns(['user_id', 'md5']).execute();

      await withId(db.schema.createTable('tags'), dialect)
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .execute();
      await db.schema
        .createTable('image_tags')
        .addColumn('image_id', idRef, (c) => c.notNull().references('images.id').onDelete('cascade'))
        .addColumn('tag_id', idRef, (c) => c.notNull().references('tags.id').onDelete('cascade'))
        .addPrimaryKeyConstraint('image_tags_pk', ['image_id', 'tag_id'])
        .execute();
      await db.schema.createIndex('image_tags_tag_id').on('image_tags').columns(['tag_id', 'image_id']).execute();

      await db.schema
        .createTable('file_names')
        .addColumn('folder', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('claimed_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('file_names_pk', ['folder', 'name'])
        .execute();
    },
    async down(): Promise<void> {
      throw new Error('the initial migration is not reversible');
    },
  };
}
