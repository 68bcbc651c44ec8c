import type { Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import { errors } from '../../core/errors.js';
import type { Database, NamedApiKeyRow, UserRow } from '../schema.js';
import { generateApiKey, hashApiKey } from './api-keys.js';

/** What a key may do. `admin` only ever works for an admin's key. */
export const API_SCOPES = ['upload', 'read', 'write', 'delete', 'admin'] as const;
export type ApiScope = (typeof API_SCOPES)[number];

export function isApiScope(value: string): value is ApiScope {
  return (API_SCOPES as readonly string[]).includes(value);
}

/** The scopes a user's keys may carry: every scope but `admin` for a user who is not one. */
export function scopesAllowedFor(user: Pick<UserRow, 'is_admin'>): ApiScope[] {
  return API_SCOPES.filter((scope) => scope !== 'admin' || user.is_admin === 1);
}

/** A key that matched: its user, what it may do, and which row it is (for `last used`). */
export interface ResolvedApiKey {
  user: UserRow;
  scopes: ApiScope[];
  /** `named`: a row of named_api_keys; `default`: the user's single key of api_keys (every scope). */
  kind: 'named' | 'default';
  keyId: number;
  label: string;
}

export interface NewNamedKey {
  userId: number;
  label: string;
  scopes: ApiScope[];
  expiresAt: string | null;
}

/** Creates a named key; returns the plain key (shown once) and its row. */
export async function createNamedApiKey(db: Kysely<Database>, key: NewNamedKey): Promise<{ plain: string; row: NamedApiKeyRow }> {
  const plain = generateApiKey();
  const row = await db
    .insertInto('named_api_keys')
    .values({
      user_id: key.userId,
      label: key.label,
      key_hash: hashApiKey(plain),
      key_hint: `${plain.slice(0, 12)}…`,
      scopes: key.scopes.join(','),
      expires_at: key.expiresAt,
      created_at: formatUtc(new Date()),
      last_used_at: null,
      last_used_ip: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { plain, row };
}

export async function listNamedApiKeys(db: Kysely<Database>, userId: number): Promise<NamedApiKeyRow[]> {
  return db.selectFrom('named_api_keys').selectAll().where('user_id', '=', userId).orderBy('id', 'desc').limit(200).execute();
}

/** Deletes one of the user's named keys; false when it is not theirs (or already gone). */
export async function revokeNamedApiKey(db: Kysely<Database>, userId: number, keyId: number): Promise<boolean> {
  const result = await db.deleteFrom('named_api_keys').where('id', '=', keyId).where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** The single key of api_keys, with its last use (for Settings). */
export async function findDefaultKeyUsage(db: Kysely<Database>, userId: number) {
  return db.selectFrom('api_keys').select(['key_hint', 'created_at', 'last_used_at', 'last_used_ip']).where('user_id', '=', userId).executeTakeFirst();
}

export function scopesOf(text: string): ApiScope[] {
  return text.split(',').map((s) => s.trim()).filter(isApiScope);
}

/**
 * Finds the key (a named key first, then the user's single key) and what it may do. An expired
 * named key, or any key of a disabled user, matches nothing. `now` is `YYYY-MM-DD HH:MM:SS` UTC.
 */
export async function resolveApiKey(db: Kysely<Database>, plain: string, now = formatUtc(new Date())): Promise<ResolvedApiKey | undefined> {
  const hash = hashApiKey(plain);
  const named = await db
    .selectFrom('named_api_keys')
    .innerJoin('users', 'users.id', 'named_api_keys.user_id')
    .selectAll('users')
    .select(['named_api_keys.id as key_id', 'named_api_keys.scopes as key_scopes', 'named_api_keys.expires_at as key_expires_at', 'named_api_keys.label as key_label'])
    .where('named_api_keys.key_hash', '=', hash)
    .executeTakeFirst();
  if (named) {
    const { key_id, key_scopes, key_expires_at, key_label, ...user } = named;
    if (user.disabled_at || (key_expires_at !== null && key_expires_at <= now)) return undefined;
    const allowed = scopesAllowedFor(user);
    return { user, scopes: scopesOf(key_scopes).filter((s) => allowed.includes(s)), kind: 'named', keyId: key_id, label: key_label };
  }
  const single = await db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .selectAll('users')
    .select(['api_keys.id as key_id'])
    .where('api_keys.key_hash', '=', hash)
    .executeTakeFirst();
  if (!single) return undefined;
  const { key_id, ...user } = single;
  if (user.disabled_at) return undefined;
  return { user, scopes: scopesAllowedFor(user), kind: 'default', keyId: key_id, label: 'default' };
}

/**
 * Records the key's last use. Writes only when a minute has passed or the address changed, so a
 * busy script costs one write a minute, not one per request.
 */
export async function touchApiKey(db: Kysely<Database>, key: Pick<ResolvedApiKey, 'kind' | 'keyId'>, ip: string, now = new Date()): Promise<void> {
  const at = formatUtc(now);
  const minuteAgo = formatUtc(new Date(now.getTime() - 60_000));
  const table = key.kind === 'named' ? 'named_api_keys' : 'api_keys';
  await db
    .updateTable(table)
    .set({ last_used_at: at, last_used_ip: ip })
    .where('id', '=', key.keyId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', minuteAgo), eb('last_used_ip', 'is', null), eb('last_used_ip', '<>', ip)]))
    .execute();
}

/**
 * The one check every door that takes an `X-API-Key` makes: the key must exist (and not be
 * expired or belong to a disabled user: 401 as an unknown key) and carry `scope` (else a 403
 * naming the scope). Records the key's last use.
 */
export async function authenticateApiKey(db: Kysely<Database>, plain: string, scope: ApiScope, ip: string): Promise<ResolvedApiKey> {
  const key = await resolveApiKey(db, plain);
  if (!key) throw errors.invalidKey();
  if (!key.scopes.includes(scope)) throw errors.missingScope(scope);
  await touchApiKey(db, key, ip);
  return key;
}
