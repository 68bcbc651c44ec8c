import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';

/** Each tag's running count as stored (tags.uses, 0019_tag_use_counts), by name, zeros left out. */
export async function storedTagUses(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db.selectFrom('tags').select(['name', 'uses']).where('uses', '<>', 0).orderBy('name').execute();
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.uses)]));
}

/** What the running counts must be: the tag links of listed files, counted from scratch, by name. */
export async function recountTagUses(db: Kysely<Database>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('image_tags')
    .innerJoin('images', 'images.id', 'image_tags.image_id')
    .innerJoin('tags', 'tags.id', 'image_tags.tag_id')
    .where('images.listed', '=', 1)
    .select((eb) => ['tags.name', eb.fn.countAll<number>().as('n')])
    .groupBy('tags.name')
    .orderBy('tags.name')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.name, Number(r.n)]));
}
