import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../schema.js';
import { formatUtc } from '../../core/dates.js';
import { verifyLegacyBcrypt } from '../../core/legacy-hash.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** API keys carry 256 bits of randomness, so a fast hash (sha256) is as safe as a slow one and costs nothing per request. */
export function hashApiKey(plain: string): string {
  return createHash('sha256').update(plain).digest('hex');
}

function randomBase62(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    if (bytes[i] < 248) out += BASE62[bytes[i] % 62];
  }
  return out.length === length ? out : randomBase62(length);
}

/** `chv_` like Chevereto V4 keys, so clients that check the prefix accept it. */
export function generateApiKey(): string {
  return `chv_${randomBase62(8)}_${randomBase62(44)}`;
}

/** Creates the user's key, replacing (and so revoking) any earlier one. Returns the plain key: it is never stored. */
export async function regenerateApiKey(db: Kysely<Database>, userId: number): Promise<string> {
  const plain = generateApiKey();
  const values = {
    user_id: userId,
    key_hash: hashApiKey(plain),
    key_hint: `${plain.slice(0, 12)}…`,
    created_at: formatUtc(new Date()),
    last_used_at: null,
  };
  await db
    .insertInto('api_keys')
    .values(values)
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ key_hash: values.key_hash, key_hint: values.key_hint, created_at: values.created_at, last_used_at: null }))
    .execute();
  // A key moved in from Chevereto stops working too.
  await db.deleteFrom('legacy_api_keys').where('user_id', '=', userId).execute();
  return plain;
}

export async function findUserByApiKey(db: Kysely<Database>, plain: string): Promise<UserRow | undefined> {
  const user = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .selectAll('users')
    .where('api_keys.key_hash', '=', hashApiKey(plain))
    // A disabled account's key stops working.
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
  return user ?? findUserByLegacyApiKey(db, plain);
}

/**
 * An API key a Chevereto site handed out, `chv_<encoded key id>_<secret>`, checked against the
 * bcrypt Chevereto stored (legacy_api_keys, 0005_chevereto_import). On its first successful use
 * it becomes the user's Shoebox key (sha256 in api_keys) and the bcrypt row is dropped, so the
 * same key keeps working at Shoebox's cost from then on.
 */
async function findUserByLegacyApiKey(db: Kysely<Database>, plain: string): Promise<UserRow | undefined> {
  const match = /^chv_([A-Za-z0-9]{1,16})_[A-Za-z0-9]+$/.exec(plain);
  if (!match) return undefined;
  const legacy = await db.selectFrom('legacy_api_keys').selectAll().where('public_id', '=', match[1]).executeTakeFirst();
  if (!legacy || !(await verifyLegacyBcrypt(legacy.key_hash, plain))) return undefined;
  const values = { user_id: legacy.user_id, key_hash: hashApiKey(plain), key_hint: `${plain.slice(0, 12)}…`, created_at: legacy.created_at, last_used_at: formatUtc(new Date()) };
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('api_keys')
      .values(values)
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ key_hash: values.key_hash, key_hint: values.key_hint, created_at: values.created_at, last_used_at: values.last_used_at }))
      .execute();
    await trx.deleteFrom('legacy_api_keys').where('public_id', '=', legacy.public_id).execute();
  });
  return db.selectFrom('users').selectAll().where('id', '=', legacy.user_id).executeTakeFirst();
}

export async function findApiKeyHint(db: Kysely<Database>, userId: number): Promise<{ key_hint: string; created_at: string } | undefined> {
  return db.selectFrom('api_keys').select(['key_hint', 'created_at']).where('user_id', '=', userId).executeTakeFirst();
}
