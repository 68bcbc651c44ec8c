import type { Kysely } from 'kysely';
import type { Database, ImageRow } from '../schema.js';

/**
 * The database's part of deleting an account (the order is in accounts/delete-account.ts:
 * access, files, avatar, then albums and the row). Every way an account is deleted (its owner,
 * the dashboard, the management API, the CLI) goes through these.
 */

/**
 * A user's files, oldest first: a batch of `limit` for deleting an account file by file, or all
 * of them since a date (`since`, `YYYY-MM-DD HH:MM:SS` UTC) for a purge.
 */
export async function imagesOfUser(db: Kysely<Database>, userId: number, options: { limit?: number; since?: string | null } = {}): Promise<ImageRow[]> {
  let query = db.selectFrom('images').selectAll().where('user_id', '=', userId);
  if (options.since) query = query.where('date_gmt', '>=', options.since);
  query = query.orderBy('id');
  return options.limit === undefined ? query.execute() : query.limit(options.limit).execute();
}

/** Stops an account from signing in or uploading: its sessions and every key (the single key, named keys, imported Chevereto keys) go, in one transaction. */
export async function revokeAccess(db: Kysely<Database>, userId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await trx.deleteFrom('api_keys').where('user_id', '=', userId).execute();
    await trx.deleteFrom('named_api_keys').where('user_id', '=', userId).execute();
    await trx.deleteFrom('legacy_api_keys').where('user_id', '=', userId).execute();
  });
}

/**
 * THE one way the account row goes, in one transaction: files still owned (the "keep files"
 * choice) become guest files out of any album, keeping their `listed` flag so a file of a private
 * album does not turn public; then its albums, invites' links, sessions and keys, and the row
 * (tokens, recovery codes and named keys follow by their foreign keys). False when there was no row.
 */
export async function deleteUserRow(db: Kysely<Database>, userId: number): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    await trx.updateTable('images').set({ user_id: null, album_id: null }).where('user_id', '=', userId).execute();
    await trx.updateTable('albums').set({ cover_image_id: null }).where('user_id', '=', userId).execute();
    await trx.updateTable('invites').set({ created_by: null }).where('created_by', '=', userId).execute();
    await trx.updateTable('invites').set({ used_by: null }).where('used_by', '=', userId).execute();
    await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
    await trx.deleteFrom('api_keys').where('user_id', '=', userId).execute();
    await trx.updateTable('albums').set({ parent_id: null }).where('user_id', '=', userId).execute();
    await trx.deleteFrom('albums').where('user_id', '=', userId).execute();
    const result = await trx.deleteFrom('users').where('id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  });
}
