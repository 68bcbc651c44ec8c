import { createHash, randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { AccountTokensTable, Database } from '../schema.js';

/**
 * Single-use tokens of accounts: emailed links (password reset, address check, address change)
 * and the second step of a two-factor sign-in. The token goes to the person; only its sha256
 * is stored. A token is spent by one conditional UPDATE, so two requests (or two instances)
 * racing for one link cannot both use it.
 */
export type AccountTokenPurpose = 'password-reset' | 'email-verify' | 'email-change' | 'two-factor';
export type AccountTokenRow = Selectable<AccountTokensTable>;

export function hashAccountToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export async function createAccountToken(
  db: Kysely<Database>,
  token: { userId: number; purpose: AccountTokenPurpose; email?: string | null; lifetimeSeconds: number },
  now = new Date(),
): Promise<string> {
  const secret = randomBytes(32).toString('base64url');
  await db.insertInto('account_tokens').values({
    token_hash: hashAccountToken(secret),
    user_id: token.userId,
    purpose: token.purpose,
    email: token.email ?? null,
    created_at: formatUtc(now),
    expires_at: formatUtc(new Date(now.getTime() + token.lifetimeSeconds * 1000)),
    used_at: null,
  }).execute();
  return secret;
}

/** The token's row while it is unused and unexpired, else undefined. Spends nothing. */
export async function findLiveAccountToken(db: Kysely<Database>, token: string, purpose: AccountTokenPurpose, now = new Date()): Promise<AccountTokenRow | undefined> {
  if (!token || token.length > 100) return undefined;
  return db.selectFrom('account_tokens').selectAll()
    .where('token_hash', '=', hashAccountToken(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', formatUtc(now))
    .executeTakeFirst();
}

/** Spends the token: its row when this call was the one that used it, else undefined (unknown, expired or already used). */
export async function spendAccountToken(db: Kysely<Database>, token: string, purpose: AccountTokenPurpose, now = new Date()): Promise<AccountTokenRow | undefined> {
  if (!token || token.length > 100) return undefined;
  return db.updateTable('account_tokens')
    .set({ used_at: formatUtc(now) })
    .where('token_hash', '=', hashAccountToken(token))
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', formatUtc(now))
    .returningAll()
    .executeTakeFirst();
}

/** Makes every outstanding token of this kind of the user useless (after a reset, a new address...). */
export async function deleteAccountTokens(db: Kysely<Database>, userId: number, purposes: AccountTokenPurpose[]): Promise<void> {
  await db.deleteFrom('account_tokens').where('user_id', '=', userId).where('purpose', 'in', purposes).execute();
}

export async function deleteExpiredAccountTokens(db: Kysely<Database>, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('account_tokens').where('expires_at', '<=', formatUtc(now)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
