import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database, SitePageRow } from '../schema.js';

/**
 * Settings, logo/favicon and pages kept in the database. Every change also writes a new
 * `variables.settings_version`, in the same transaction, which each instance polls: one
 * tiny read every few seconds tells it whether to reload.
 */

const VERSION = 'settings_version';

export async function settingsVersion(db: Kysely<Database>): Promise<string> {
  const row = await db.selectFrom('variables').select('value').where('name', '=', VERSION).executeTakeFirst();
  return row?.value ?? '';
}

async function bumpVersion(trx: Kysely<Database>): Promise<void> {
  const value = `${Date.now()}-${randomBytes(4).toString('hex')}`;
  await trx.insertInto('variables').values({ name: VERSION, value }).onConflict((oc) => oc.column('name').doUpdateSet({ value })).execute();
}

export async function readStoredSettings(db: Kysely<Database>): Promise<Record<string, string>> {
  const rows = await db.selectFrom('site_settings').select(['name', 'value']).execute();
  return Object.fromEntries(rows.map((r) => [r.name, r.value]));
}

/** Sets (string) or clears (null: back to the default) settings, all or none. */
export async function writeStoredSettings(db: Kysely<Database>, changes: Record<string, string | null>): Promise<void> {
  const now = formatUtc(new Date());
  await db.transaction().execute(async (trx) => {
    for (const [name, value] of Object.entries(changes)) {
      if (value === null) await trx.deleteFrom('site_settings').where('name', '=', name).execute();
      else await trx.insertInto('site_settings').values({ name, value, updated_at: now }).onConflict((oc) => oc.column('name').doUpdateSet({ value, updated_at: now })).execute();
    }
    await bumpVersion(trx);
  });
}

export interface SiteAsset {
  name: string;
  mime: string;
  data: Buffer;
  updatedAt: string;
}

export async function readSiteAssets(db: Kysely<Database>): Promise<SiteAsset[]> {
  const rows = await db.selectFrom('site_assets').selectAll().execute();
  return rows.map((r) => ({ name: r.name, mime: r.mime, data: Buffer.from(r.data, 'base64'), updatedAt: r.updated_at }));
}

export async function writeSiteAsset(db: Kysely<Database>, name: string, asset: { mime: string; data: Buffer } | null): Promise<void> {
  const now = formatUtc(new Date());
  await db.transaction().execute(async (trx) => {
    if (!asset) await trx.deleteFrom('site_assets').where('name', '=', name).execute();
    else {
      const values = { name, mime: asset.mime, data: asset.data.toString('base64'), updated_at: now };
      await trx.insertInto('site_assets').values(values).onConflict((oc) => oc.column('name').doUpdateSet({ mime: values.mime, data: values.data, updated_at: now })).execute();
    }
    await bumpVersion(trx);
  });
}

export async function listSitePages(db: Kysely<Database>): Promise<SitePageRow[]> {
  return db.selectFrom('site_pages').selectAll().orderBy('position').orderBy('id').execute();
}

export async function findSitePage(db: Kysely<Database>, id: number): Promise<SitePageRow | undefined> {
  return db.selectFrom('site_pages').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findSitePageBySlug(db: Kysely<Database>, slug: string): Promise<SitePageRow | undefined> {
  return db.selectFrom('site_pages').selectAll().where('slug', '=', slug).executeTakeFirst();
}

export interface SitePageInput {
  slug: string;
  title: string;
  body: string;
  inFooter: boolean;
  position: number;
}

/** Creates (id null) or updates a page. */
export async function saveSitePage(db: Kysely<Database>, id: number | null, page: SitePageInput): Promise<number> {
  const now = formatUtc(new Date());
  const values = { slug: page.slug, title: page.title, body: page.body, in_footer: page.inFooter ? 1 : 0, position: page.position, updated_at: now };
  return db.transaction().execute(async (trx) => {
    let savedId = id;
    if (id === null) {
      const row = await trx.insertInto('site_pages').values({ ...values, created_at: now }).returning('id').executeTakeFirstOrThrow();
      savedId = row.id;
    } else {
      await trx.updateTable('site_pages').set(values).where('id', '=', id).execute();
    }
    await bumpVersion(trx);
    return savedId!;
  });
}

export async function deleteSitePage(db: Kysely<Database>, id: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('site_pages').where('id', '=', id).execute();
    await bumpVersion(trx);
  });
}
