import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database, SessionRow, UserRow } from '../schema.js';

/**
 * Web sessions live in the database so any instance can answer any request. The browser
 * holds a random token; only its sha256 is stored, so a copy of the database cannot be
 * used to sign in.
 */

export const SESSION_LIFETIME_SECONDS = 30 * 86_400;
/** A session is extended at most this often, so browsing does not write on every page. */
const TOUCH_INTERVAL_SECONDS = 3600;

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createSession(
  db: Kysely<Database>,
  userId: number,
  client: { ip: string | null; userAgent: string | null },
  now = new Date(),
): Promise<{ token: string; session: SessionRow }> {
  const token = randomBytes(32).toString('base64url');
  const session = await db
    .insertInto('sessions')
    .values({
      token_hash: hashSessionToken(token),
      user_id: userId,
      created_at: formatUtc(now),
      last_seen_at: formatUtc(now),
      expires_at: formatUtc(new Date(now.getTime() + SESSION_LIFETIME_SECONDS * 1000)),
      ip: client.ip,
      user_agent: client.userAgent?.slice(0, 300) ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { token, session };
}

/** The live session of a token and its user; expired sessions count as none. */
export async function findSessionByToken(
  db: Kysely<Database>,
  token: string,
  now = new Date(),
): Promise<{ session: SessionRow; user: UserRow } | null> {
  const session = await db
    .selectFrom('sessions')
    .selectAll()
    .where('token_hash', '=', hashSessionToken(token))
    .where('expires_at', '>', formatUtc(now))
    .executeTakeFirst();
  if (!session) return null;
  // A disabled account's sessions count as none (they are also deleted when it is disabled).
  const user = await db.selectFrom('users').selectAll().where('id', '=', session.user_id).where('disabled_at', 'is', null).executeTakeFirst();
  return user ? { session, user } : null;
}

/** Slides the expiry forward; returns true when it did (the cookie should then be re-sent). */
export async function touchSession(db: Kysely<Database>, session: SessionRow, now = new Date()): Promise<boolean> {
  const lastSeen = new Date(`${session.last_seen_at.replace(' ', 'T')}Z`).getTime();
  if (now.getTime() - lastSeen < TOUCH_INTERVAL_SECONDS * 1000) return false;
  await db
    .updateTable('sessions')
    .set({ last_seen_at: formatUtc(now), expires_at: formatUtc(new Date(now.getTime() + SESSION_LIFETIME_SECONDS * 1000)) })
    .where('id', '=', session.id)
    .execute();
  return true;
}

export async function deleteSession(db: Kysely<Database>, sessionId: number): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** Signs the user out everywhere but `keepSessionId` (after a password change). */
export async function deleteOtherSessions(db: Kysely<Database>, userId: number, keepSessionId: number | null): Promise<void> {
  let q = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keepSessionId !== null) q = q.where('id', '<>', keepSessionId);
  await q.execute();
}

export async function deleteExpiredSessions(db: Kysely<Database>, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', formatUtc(now)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
