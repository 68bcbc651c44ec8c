import type { Kysely } from 'kysely';
import { hash, verify } from '@node-rs/argon2';
import type { Database, UserRow } from '../schema.js';
import { formatUtc } from '../../core/dates.js';
import { isLegacyBcrypt, verifyLegacyBcrypt } from '../../core/legacy-hash.js';
import { errors } from '../../core/errors.js';

export interface NewUser {
  username: string;
  email?: string | null;
  password: string;
  isAdmin?: boolean;
  /** Address the account was made from (web sign-up). */
  signupIp?: string | null;
}

export const USERNAME_PATTERN = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{1,31}$/;

export async function hashPassword(password: string): Promise<string> {
  return hash(password);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  // A password moved in from Chevereto (bcrypt, `$2y$`) until its first sign-in here.
  if (isLegacyBcrypt(passwordHash)) return verifyLegacyBcrypt(passwordHash, password);
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** After a successful sign-in: a Chevereto bcrypt hash is replaced by Shoebox's own (argon2). */
export async function upgradeLegacyPassword(db: Kysely<Database>, user: Pick<UserRow, 'id' | 'password_hash'>, password: string): Promise<boolean> {
  if (!isLegacyBcrypt(user.password_hash)) return false;
  await db
    .updateTable('users')
    .set({ password_hash: await hashPassword(password) })
    .where('id', '=', user.id)
    .where('password_hash', '=', user.password_hash)
    .execute();
  return true;
}

export async function createUser(db: Kysely<Database>, user: NewUser): Promise<UserRow> {
  if (!USERNAME_PATTERN.test(user.username)) {
    throw errors.invalidUsername();
  }
  if (user.password.length < 6) throw errors.passwordTooShort();
  const existing = await findUserByUsername(db, user.username);
  if (existing) throw errors.usernameTaken(user.username);
  const row = await db
    .insertInto('users')
    .values({
      username: user.username,
      email: user.email ?? null,
      password_hash: await hashPassword(user.password),
      is_admin: user.isAdmin ? 1 : 0,
      role: user.isAdmin ? 'admin' : 'user',
      signup_ip: user.signupIp ?? null,
      language: null,
      timezone: null,
      created_at: formatUtc(new Date()),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return row;
}

export async function findUserByUsername(db: Kysely<Database>, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function findUserById(db: Kysely<Database>, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Deletes an account that owns nothing yet (a sign-up whose invite was taken a moment earlier). */
export async function deleteNewUser(db: Kysely<Database>, userId: number): Promise<void> {
  await db.deleteFrom('users').where('id', '=', userId).execute();
}
