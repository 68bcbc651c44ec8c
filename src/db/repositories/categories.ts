import { sql, type Kysely } from 'kysely';
import type { CategoriesTable, Database } from '../schema.js';

/** SQL of categories (admin/categories.ts says what is allowed). */

export type CategoryRow = CategoriesTable;

export async function listCategories(db: Kysely<Database>): Promise<CategoryRow[]> {
  return db.selectFrom('categories').selectAll().orderBy('name').orderBy('id').execute();
}

export async function findCategoryById(db: Kysely<Database>, id: number): Promise<CategoryRow | undefined> {
  return db.selectFrom('categories').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findCategoryBySlug(db: Kysely<Database>, urlKey: string): Promise<CategoryRow | undefined> {
  return db.selectFrom('categories').selectAll().where('url_key', '=', urlKey).executeTakeFirst();
}

/**
 * A new category. Its id is the next after the highest (ids imported from Chevereto are kept
 * as they were, so the table has no sequence of its own), chosen in the insert itself.
 */
export async function insertCategory(db: Kysely<Database>, category: Omit<CategoryRow, 'id'>): Promise<CategoryRow> {
  return db
    .insertInto('categories')
    .columns(['id', 'name', 'url_key', 'description'])
    .expression((eb) =>
      eb.selectFrom('categories').select([
        sql<number>`coalesce(max(id), 0) + 1`.as('id'),
        sql<string>`cast(${category.name} as text)`.as('name'),
        sql<string>`cast(${category.url_key} as text)`.as('url_key'),
        sql<string | null>`cast(${category.description} as text)`.as('description'),
      ]),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function updateCategory(db: Kysely<Database>, id: number, category: Omit<CategoryRow, 'id'>): Promise<void> {
  await db.updateTable('categories').set(category).where('id', '=', id).execute();
}

/** Deletes a category; its files stay, with no category. One transaction. Answers how many files it had. */
export async function deleteCategory(db: Kysely<Database>, id: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.updateTable('images').set({ category_id: null }).where('category_id', '=', id).executeTakeFirst();
    await trx.deleteFrom('categories').where('id', '=', id).execute();
    return Number(result.numUpdatedRows);
  });
}
