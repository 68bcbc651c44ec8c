import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database } from '../schema.js';

/** Sign-up invites (SHOEBOX_SIGNUP=invite): single-use codes, stored only as hashes. */

function hashInviteCode(code: string): string {
  return createHash('sha256').update(code).digest('hex');
}

export async function createInvite(db: Kysely<Database>, createdBy: number | null): Promise<string> {
  const code = randomBytes(18).toString('base64url');
  await db.insertInto('invites').values({
    code_hash: hashInviteCode(code),
    created_by: createdBy,
    created_at: formatUtc(new Date()),
    used_by: null,
    used_at: null,
  }).execute();
  return code;
}

export async function isInviteUsable(db: Kysely<Database>, code: string): Promise<boolean> {
  const row = await db.selectFrom('invites').select('id').where('code_hash', '=', hashInviteCode(code)).where('used_at', 'is', null).executeTakeFirst();
  return row !== undefined;
}

/** Marks the code used by `userId`; false when it was unknown or already used (two sign-ups racing for one code). */
export async function consumeInvite(db: Kysely<Database>, code: string, userId: number): Promise<boolean> {
  const result = await db
    .updateTable('invites')
    .set({ used_by: userId, used_at: formatUtc(new Date()) })
    .where('code_hash', '=', hashInviteCode(code))
    .where('used_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
