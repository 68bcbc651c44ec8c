import type { Kysely } from 'kysely';
import type { AlbumRow, Database } from '../schema.js';
import { formatUtc } from '../../core/dates.js';

export interface NewAlbum {
  userId: number;
  name: string;
  description?: string | null;
  privacy?: 'public' | 'private' | 'unlisted' | 'password';
  parentId?: number | null;
}

export async function createAlbum(db: Kysely<Database>, album: NewAlbum): Promise<AlbumRow> {
  return db
    .insertInto('albums')
    .values({
      user_id: album.userId,
      parent_id: album.parentId ?? null,
      name: album.name,
      description: album.description ?? null,
      privacy: album.privacy ?? 'public',
      password_hash: null,
      cover_image_id: null,
      created_at: formatUtc(new Date()),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAlbumById(db: Kysely<Database>, id: number): Promise<AlbumRow | undefined> {
  return db.selectFrom('albums').selectAll().where('id', '=', id).executeTakeFirst();
}
