import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * A running count of each tag's uses on public files (issue 20), so the /tags page reads about
 * a hundred index entries instead of every tag link (mostUsedTags, repositories/browse.ts).
 *
 * `tags.uses` is the number of `image_tags` rows whose image has `listed = 1`, the same meaning
 * the aggregate had (except that files past their expiry count until the sweep deletes them).
 * It is filled here from the current rows and then kept by the database itself, so every writer
 * (uploads, tag edits, album privacy and its cascade down the tree, moderation, deletions
 * and their foreign-key cascades, the Chevereto import, copy-db) keeps it without knowing:
 * - a tag link added or removed counts when its image is listed;
 * - an image whose `listed` flips (to 1 or from 1) adds or takes one for each of its tags;
 * - an image deleted while listed takes one for each of its tags *before* the row goes, since
 *   the cascaded delete of its tag links then finds no image (both databases run that cascade
 *   after the image row is gone) and counts nothing: each loss is counted once, whether the
 *   links went first (ingest/remove-image.ts) or by the cascade (the expiry sweep);
 * - a tag link whose image or tag changes moves its count (no code does this today).
 * `tags_uses_name` (uses desc, name) gives the page its order without a sort.
 *
 * SQLite: row triggers (one writer at a time, so nothing races). PostgreSQL: the tag links'
 * triggers run once per statement over its transition table, add up each tag's change and
 * update the tags in id order (a statement that touches many links locks each tag once, and
 * all such statements lock in the same order); they read the images FOR SHARE, so a link
 * written while another transaction flips its image's `listed` waits for it and is counted
 * once, by whichever sees the other. A flip of `listed` is counted once per statement as well
 * (by a trigger on every UPDATE of images, which finds nothing to do when `listed` did not
 * change); a deletion row by row, before the row goes.
 */
export function tagUseCountsMigration(dialect: DialectName) {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await sql`alter table tags add column uses integer not null default 0`.execute(db);
      await sql`update tags set uses = counted.n
        from (select image_tags.tag_id, count(*) as n from image_tags join images on images.id = image_tags.image_id
              where images.listed = 1 group by image_tags.tag_id) as counted
        where tags.id = counted.tag_id`.execute(db);
      await sql`create index tags_uses_name on tags (uses desc, name)`.execute(db);
      if (dialect === 'sqlite') {
        const listed = (link: 'new' | 'old') => sql.raw(`(select listed from images where id = ${link}.image_id) = 1`);
        await sql`create trigger tag_uses_link_insert after insert on image_tags when ${listed('new')} begin
            update tags set uses = uses + 1 where id = new.tag_id;
          end`.execute(db);
        await sql`create trigger tag_uses_link_delete after delete on image_tags when ${listed('old')} begin
            update tags set uses = uses - 1 where id = old.tag_id;
          end`.execute(db);
        await sql`create trigger tag_uses_link_update after update of image_id, tag_id on image_tags begin
            update tags set uses = uses - 1 where id = old.tag_id and ${listed('old')};
            update tags set uses = uses + 1 where id = new.tag_id and ${listed('new')};
          end`.execute(db);
        await sql`create trigger tag_uses_image_listed after update of listed on images
          when (old.listed = 1) <> (new.listed = 1) begin
            update tags set uses = uses + (case when new.listed = 1 then 1 else -1 end)
              where id in (select tag_id from image_tags where image_id = new.id);
          end`.execute(db);
        await sql`create trigger tag_uses_image_delete before delete on images when old.listed = 1 begin
            update tags set uses = uses - 1 where id in (select tag_id from image_tags where image_id = old.id);
          end`.execute(db);
        return;
      }
      // The links' change per tag, images locked FOR SHARE (a concurrent flip of `listed` is waited for).
      const listedLinks = (table: string) => sql.raw(`select ${table}.tag_id from ${table} join images on images.id = ${table}.image_id where images.listed = 1 for share of images`);
      await sql`create function shoebox_tag_uses_links() returns trigger language plpgsql as $$
          declare
            change record;
          begin
            if tg_op = 'INSERT' then
              for change in select tag_id, count(*) as n from (${listedLinks('added')}) l group by tag_id order by tag_id loop
                update tags set uses = uses + change.n where id = change.tag_id;
              end loop;
            elsif tg_op = 'DELETE' then
              for change in select tag_id, count(*) as n from (${listedLinks('removed')}) l group by tag_id order by tag_id loop
                update tags set uses = uses - change.n where id = change.tag_id;
              end loop;
            else
              for change in select tag_id, sum(d) as n from (
                  select tag_id, -1 as d from (${listedLinks('removed')}) o
                  union all select tag_id, 1 as d from (${listedLinks('added')}) a
                ) l group by tag_id having sum(d) <> 0 order by tag_id loop
                update tags set uses = uses + change.n where id = change.tag_id;
              end loop;
            end if;
            return null;
          end $$`.execute(db);
      await sql`create trigger tag_uses_link_insert after insert on image_tags referencing new table as added
        for each statement execute function shoebox_tag_uses_links()`.execute(db);
      await sql`create trigger tag_uses_link_delete after delete on image_tags referencing old table as removed
        for each statement execute function shoebox_tag_uses_links()`.execute(db);
      await sql`create trigger tag_uses_link_update after update on image_tags referencing old table as removed new table as added
        for each statement execute function shoebox_tag_uses_links()`.execute(db);
      // A flip of `listed`: once per statement too, whatever it updated (an album made private
      // updates all its files in one statement; row by row, the same few tag rows would be updated
      // once per file in one transaction, each update walking every version left by the ones
      // before it: 8,000 files took 11 s). Statement triggers take no column list, so this one runs
      // for every UPDATE of images; when `listed` did not change it finds nothing to do.
      const flips = `select image_tags.tag_id, sum(case when n.listed = 1 then 1 else -1 end) as n
                from old_images o join new_images n on n.id = o.id join image_tags on image_tags.image_id = n.id
                where (o.listed = 1) <> (n.listed = 1)
                group by image_tags.tag_id order by image_tags.tag_id`;
      // The static query's plan is made once, for a statement of one row or a few (a nested loop over
      // both row sets); a statement that updated many rows gets a plan of its own (a hash join).
      await sql`create function shoebox_tag_uses_listed() returns trigger language plpgsql as $$
          declare
            change record;
          begin
            if (select count(*) from new_images) <= 64 then
              for change in ${sql.raw(flips)} loop
                update tags set uses = uses + change.n where id = change.tag_id;
              end loop;
            else
              for change in execute ${sql.raw(`'${flips}'`)} loop
                update tags set uses = uses + change.n where id = change.tag_id;
              end loop;
            end if;
            return null;
          end $$`.execute(db);
      await sql`create trigger tag_uses_image_listed after update on images referencing old table as old_images new table as new_images
        for each statement execute function shoebox_tag_uses_listed()`.execute(db);
      // A file deleted while listed: before its row goes (its links are gone by the time any AFTER
      // trigger on images runs). Row by row: only the expiry sweep deletes several files in one
      // statement (a batch of 100 at most); everything else deletes one file per transaction.
      await sql`create function shoebox_tag_uses_image_deleted() returns trigger language plpgsql as $$
          declare
            change record;
          begin
            for change in select tag_id from image_tags where image_id = old.id order by tag_id loop
              update tags set uses = uses - 1 where id = change.tag_id;
            end loop;
            return old;
          end $$`.execute(db);
      await sql`create trigger tag_uses_image_delete before delete on images
        for each row when (old.listed = 1) execute function shoebox_tag_uses_image_deleted()`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      if (dialect === 'sqlite') {
        for (const name of ['tag_uses_link_insert', 'tag_uses_link_delete', 'tag_uses_link_update', 'tag_uses_image_listed', 'tag_uses_image_delete']) {
          await sql`drop trigger if exists ${sql.raw(name)}`.execute(db);
        }
      } else {
        await sql`drop function if exists shoebox_tag_uses_links() cascade`.execute(db);
        await sql`drop function if exists shoebox_tag_uses_listed() cascade`.execute(db);
        await sql`drop function if exists shoebox_tag_uses_image_deleted() cascade`.execute(db);
      }
      await sql`drop index if exists tags_uses_name`.execute(db);
      await sql`alter table tags drop column uses`.execute(db);
    },
  };
}
