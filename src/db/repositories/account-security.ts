import type { Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database } from '../schema.js';

/** Two-factor sign-in and email address state of an account (0007_accounts). */

/** Starts (or restarts) enrolment: a new secret, not yet on. */
export async function setPendingTotpSecret(db: Kysely<Database>, userId: number, secret: string): Promise<void> {
  await db.updateTable('users').set({ totp_secret: secret, totp_enabled: 0, totp_last_step: 0 }).where('id', '=', userId).where('totp_enabled', '=', 0).execute();
}

/** Turns two-factor sign-in on with the pending secret and stores the recovery codes, in one transaction. */
export async function enableTotp(db: Kysely<Database>, userId: number, secret: string, step: number, recoveryCodeHashes: string[]): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.updateTable('users').set({ totp_enabled: 1, totp_last_step: step })
      .where('id', '=', userId).where('totp_secret', '=', secret).where('totp_enabled', '=', 0).executeTakeFirst();
    if (Number(result.numUpdatedRows) !== 1) return false;
    await replaceCodes(trx, userId, recoveryCodeHashes);
    return true;
  });
}

export async function disableTotp(db: Kysely<Database>, userId: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('users').set({ totp_enabled: 0, totp_secret: null, totp_last_step: 0 }).where('id', '=', userId).execute();
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  });
}

/**
 * Records that a code of `step` was accepted; false when a code of this step or a later one
 * was already accepted (the same code twice, or an older one after a newer).
 */
export async function acceptTotpStep(db: Kysely<Database>, userId: number, step: number): Promise<boolean> {
  const result = await db.updateTable('users').set({ totp_last_step: step })
    .where('id', '=', userId).where('totp_last_step', '<', step).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

async function replaceCodes(db: Kysely<Database>, userId: number, hashes: string[]): Promise<void> {
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
  if (hashes.length > 0) await db.insertInto('recovery_codes').values(hashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null }))).execute();
}

export async function replaceRecoveryCodes(db: Kysely<Database>, userId: number, hashes: string[]): Promise<void> {
  await db.transaction().execute((trx) => replaceCodes(trx, userId, hashes));
}

/** Spends a recovery code; false when it is not one of the user's unused codes. */
export async function spendRecoveryCode(db: Kysely<Database>, userId: number, codeHash: string): Promise<boolean> {
  const result = await db.updateTable('recovery_codes').set({ used_at: formatUtc(new Date()) })
    .where('user_id', '=', userId).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function countUnusedRecoveryCodes(db: Kysely<Database>, userId: number): Promise<number> {
  const row = await db.selectFrom('recovery_codes').select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId).where('used_at', 'is', null).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findUserByEmail(db: Kysely<Database>, email: string) {
  return db.selectFrom('users').selectAll().where('email', '=', email.toLowerCase()).executeTakeFirst();
}

/** Sets the address (already checked); false when another account took it meanwhile. */
export async function setUserEmail(db: Kysely<Database>, userId: number, email: string | null): Promise<boolean> {
  if (email) {
    const other = await db.selectFrom('users').select('id').where('email', '=', email).where('id', '<>', userId).executeTakeFirst();
    if (other) return false;
  }
  await db.updateTable('users').set({ email, email_unverified: 0 }).where('id', '=', userId).execute();
  return true;
}

export async function markEmailUnverified(db: Kysely<Database>, userId: number): Promise<void> {
  await db.updateTable('users').set({ email_unverified: 1 }).where('id', '=', userId).execute();
}

export async function markEmailVerified(db: Kysely<Database>, userId: number): Promise<void> {
  await db.updateTable('users').set({ email_unverified: 0 }).where('id', '=', userId).execute();
}
