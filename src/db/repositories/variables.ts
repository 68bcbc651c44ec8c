import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../schema.js';

export async function getVariable(db: Kysely<Database>, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('variables').select('value').where('name', '=', name).executeTakeFirst();
  return row?.value;
}

/** Stores `value` only if the variable is not set yet, and returns whatever is stored (first writer wins across instances). */
export async function getOrInitVariable(db: Kysely<Database>, name: string, value: string): Promise<string> {
  await db.insertInto('variables').values({ name, value }).onConflict((oc) => oc.column('name').doNothing()).execute();
  return (await getVariable(db, name))!;
}

export async function setVariable(db: Kysely<Database>, name: string, value: string): Promise<void> {
  await db
    .insertInto('variables')
    .values({ name, value })
    .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
    .execute();
}

export interface SiteSecrets {
  cryptSalt: string;
  idPadding: number;
}

/**
 * The public-id salt and padding. Settings win (a migrated Chevereto site sets them);
 * otherwise the first start picks a random salt and keeps it, so ids never change.
 */
export async function loadSiteSecrets(
  db: Kysely<Database>,
  overrides: { cryptSalt?: string; idPadding?: number },
): Promise<SiteSecrets> {
  const cryptSalt = overrides.cryptSalt ?? (await getOrInitVariable(db, 'crypt_salt', randomBytes(4).toString('hex')));
  const idPadding = overrides.idPadding ?? Number(await getOrInitVariable(db, 'id_padding', '999'));
  return { cryptSalt, idPadding };
}
