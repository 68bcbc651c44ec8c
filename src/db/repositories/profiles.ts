import type { Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database } from '../schema.js';

/** Profiles (0007_accounts) and what account deletion needs to find. */

export interface ProfileFields {
  displayName: string | null;
  bio: string | null;
  website: string | null;
}

export async function updateProfile(db: Kysely<Database>, userId: number, profile: ProfileFields): Promise<void> {
  await db.updateTable('users').set({ display_name: profile.displayName, bio: profile.bio, website: profile.website }).where('id', '=', userId).execute();
}

/** Sets the avatar key; returns the previous one (its file is the caller's to delete). */
export async function setAvatarKey(db: Kysely<Database>, userId: number, key: string | null): Promise<string | null> {
  return db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('users').select('avatar_key').where('id', '=', userId).executeTakeFirst();
    await trx.updateTable('users').set({ avatar_key: key }).where('id', '=', userId).execute();
    return before?.avatar_key ?? null;
  });
}

export async function findUserByAvatarKey(db: Kysely<Database>, key: string) {
  return db.selectFrom('users').select(['id', 'avatar_key']).where('avatar_key', '=', key).executeTakeFirst();
}

/** Files and albums a profile shows: what anyone may see, or everything (the owner). Expired files never count. */
export async function countProfileContent(db: Kysely<Database>, userId: number, includeHidden: boolean, now = new Date()): Promise<{ files: number; albums: number }> {
  let files = db.selectFrom('images').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', formatUtc(now))]));
  let albums = db.selectFrom('albums').select((eb) => eb.fn.countAll<number>().as('n')).where('user_id', '=', userId);
  if (!includeHidden) {
    files = files.where('listed', '=', 1);
    albums = albums.where('listed', '=', 1);
  }
  const [f, a] = await Promise.all([files.executeTakeFirstOrThrow(), albums.executeTakeFirstOrThrow()]);
  return { files: Number(f.n), albums: Number(a.n) };
}

/** Every stored avatar key (moving a site between storages copies them too). */
export async function listAvatarKeys(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('users').select('avatar_key').where('avatar_key', 'is not', null).orderBy('id').execute();
  return rows.map((r) => r.avatar_key!);
}
