import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';
import { hashPassword } from './users.js';

/** What a signed-in person changes about their own account from the settings page. */

export async function setUserLanguage(db: Kysely<Database>, userId: number, language: string | null): Promise<void> {
  await db.updateTable('users').set({ language }).where('id', '=', userId).execute();
}

export async function setUserShowNsfw(db: Kysely<Database>, userId: number, show: boolean): Promise<void> {
  await db.updateTable('users').set({ show_nsfw: show ? 1 : 0 }).where('id', '=', userId).execute();
}

/**
 * Sets a new password, wherever it is changed (settings page, reset link, dashboard, CLI): in
 * the same transaction every outstanding password-reset link of the account, and any two-factor
 * sign-in begun with the old password, stop working. Sessions are the caller's to end (the
 * settings page keeps the one that changed it).
 */
export async function setUserPassword(db: Kysely<Database>, userId: number, password: string): Promise<void> {
  const passwordHash = await hashPassword(password);
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
    await trx.deleteFrom('account_tokens').where('user_id', '=', userId).where('purpose', 'in', ['password-reset', 'two-factor']).execute();
  });
}

export async function countUsers(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function setUserAdmin(db: Kysely<Database>, userId: number): Promise<void> {
  await db.updateTable('users').set({ is_admin: 1, role: 'admin' }).where('id', '=', userId).execute();
}

/** The account for a sign-in name: the username, or the email address. */
export async function findUserByLogin(db: Kysely<Database>, login: string) {
  const byName = await db.selectFrom('users').selectAll().where('username', '=', login).executeTakeFirst();
  if (byName || !login.includes('@')) return byName;
  return db.selectFrom('users').selectAll().where('email', '=', login.toLowerCase()).executeTakeFirst();
}

export async function isEmailTaken(db: Kysely<Database>, email: string): Promise<boolean> {
  return (await db.selectFrom('users').select('id').where('email', '=', email.toLowerCase()).executeTakeFirst()) !== undefined;
}
