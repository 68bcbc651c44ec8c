import type { Kysely } from 'kysely';
import { deleteCategory, findCategoryById, findCategoryBySlug, insertCategory, updateCategory, type CategoryRow } from '../db/repositories/categories.js';
import { errors } from '../core/errors.js';
import { insertAuditEntry } from '../db/repositories/moderation.js';
import type { Database } from '../db/schema.js';

/**
 * Categories (Chevereto's, kept by the import, and new ones from the dashboard): a name, a
 * url key (the page is `/category/<url_key>`, as on Chevereto) and a description. Uploads and
 * edits name one by id (`category_id`); deleting one keeps its files, with no category. Every
 * change is written to the audit log.
 */

export const MAX_CATEGORY_NAME = 80;
export const MAX_CATEGORY_DESCRIPTION = 500;
/** Lower-case letters (any script), digits and inner hyphens, up to 64. */
export const CATEGORY_SLUG = /^[\p{Ll}\p{Lo}\p{Nd}](?:[\p{Ll}\p{Lo}\p{Nd}-]{0,62}[\p{Ll}\p{Lo}\p{Nd}])?$/u;

export interface CategoryInput {
  name: string;
  url_key: string;
  description: string;
}

/** Who changes it, for the audit log. */
export interface CategoryActor {
  name: string;
  ip: string | null;
}

function cleaned(input: CategoryInput): Omit<CategoryRow, 'id'> {
  const name = input.name.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
  const urlKey = input.url_key.trim().toLowerCase();
  const description = input.description.replace(/\r\n/g, '\n').trim();
  if (!name || [...name].length > MAX_CATEGORY_NAME) throw errors.badCategoryName(MAX_CATEGORY_NAME);
  if (!CATEGORY_SLUG.test(urlKey)) throw errors.badCategorySlug();
  if ([...description].length > MAX_CATEGORY_DESCRIPTION) throw errors.categoryDescriptionTooLong(MAX_CATEGORY_DESCRIPTION);
  return { name, url_key: urlKey, description: description || null };
}

async function assertSlugFree(db: Kysely<Database>, urlKey: string, id: number | null): Promise<void> {
  const same = await findCategoryBySlug(db, urlKey);
  if (same && same.id !== id) throw errors.categorySlugTaken(urlKey);
}

export async function createCategory(db: Kysely<Database>, input: CategoryInput, actor: CategoryActor): Promise<CategoryRow> {
  const values = cleaned(input);
  await assertSlugFree(db, values.url_key, null);
  const row = await insertCategory(db, values);
  await insertAuditEntry(db, { actor: actor.name, action: 'category.create', target: `category:${row.id}`, detail: `${row.name} (${row.url_key})`, ip: actor.ip });
  return row;
}

export async function editCategory(db: Kysely<Database>, id: number, input: CategoryInput, actor: CategoryActor): Promise<CategoryRow> {
  if (!(await findCategoryById(db, id))) throw errors.noSuchCategory(id);
  const values = cleaned(input);
  await assertSlugFree(db, values.url_key, id);
  await updateCategory(db, id, values);
  await insertAuditEntry(db, { actor: actor.name, action: 'category.edit', target: `category:${id}`, detail: `${values.name} (${values.url_key})`, ip: actor.ip });
  return { id, ...values };
}

/** Deletes a category; answers how many files lost it. */
export async function removeCategory(db: Kysely<Database>, id: number, actor: CategoryActor): Promise<number> {
  const row = await findCategoryById(db, id);
  if (!row) throw errors.noSuchCategory(id);
  const files = await deleteCategory(db, id);
  await insertAuditEntry(db, { actor: actor.name, action: 'category.delete', target: `category:${id}`, detail: `${row.name} (${row.url_key}), ${files} files kept without a category`, ip: actor.ip });
  return files;
}
