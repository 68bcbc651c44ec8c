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

/** `albums.listed`: 1 only when public and inside no album that is not listed (privacy is inherited down the tree). */
export function albumListed(privacy: string, parent: Pick<AlbumRow, 'listed'> | undefined): number {
  return privacy === 'public' && (!parent || parent.listed === 1) ? 1 : 0;
}

export async function createAlbum(db: Kysely<Database>, album: NewAlbum): Promise<AlbumRow> {
  const parent = album.parentId ? await db.selectFrom('albums').select('listed').where('id', '=', album.parentId).executeTakeFirst() : undefined;
  const listed = albumListed(album.privacy ?? 'public', parent);
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
      listed,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function findAlbumById(db: Kysely<Database>, id: number): Promise<AlbumRow | undefined> {
  return db.selectFrom('albums').selectAll().where('id', '=', id).executeTakeFirst();
}
