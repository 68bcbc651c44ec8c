import { sql, type Kysely, type RawBuilder } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database, ImageRow } from '../schema.js';

/**
 * Search by title on PostgreSQL, newest first, one keyset window at a time.
 *
 * The pg_trgm GIN index (images_title_trgm, 0004_search_privacy) finds the titles that contain
 * a text, but hands them back in no order: every candidate has to be fetched and rechecked on
 * the heap before the newest can be picked, and its cost grows with the trigrams' own posting
 * lists (a word in every title costs a walk through a million postings per trigram). Walking
 * the table newest first answers a common text after a few rows, but walks the whole table for
 * a rare one. So a window is found in up to three steps:
 *
 * 1. a walk of the next WALK_ROWS listed files from the cursor (`images_listed_id` or
 *    `images_type_listed_id`), each title checked with strpos: a text found in recent titles
 *    fills the page here. It also counts how many of those titles contain each word of the text;
 * 2. when the walk found the text in some titles but not enough, and walking on looks cheaper
 *    than the index (the expected rows to walk against the expected hits left to recheck), longer
 *    walks from where the last stopped (at least WALK_ROWS each, so a dense text is not left to
 *    the index by a short unlucky walk; MAX_WALKS in all);
 * 3. else the trigram index for the files past the walked boundary, ordered by `id + 0` (so no
 *    plan can turn it back into a walk of images_pkey; a MATERIALIZED CTE did the same but cost
 *    a third more for 11,000 hits), over the words of the text that the walk found in few titles
 *    (a word in most titles only makes the index slower; the whole text is still checked), the
 *    newest of them kept (a top-N sort).
 *
 * The rows are the same as `lower(title) LIKE '%text%' AND listed AND not expired ORDER BY id`
 * would give: every step checks the whole text with strpos, the walks cover every listed file
 * between the cursor and their boundary, and the index step everything past it.
 */

/** Files the first walk reads (under 1 ms at a million rows): a text in one recent title of 40 fills a page of 25 here. */
export const WALK_ROWS = 1000;
/** A title rechecked by the index step costs about as much as this many rows walked (the heap fetch of a bitmap scan, lower(title) and LIKE again). */
const INDEX_HIT_COST = 2;
/** The longest walk after the first (a text in one title of 4,000 would fill a page of 25 by then, if recent titles are like older ones), and how many walks at most. */
const MAX_WALK = 100_000;
const MAX_WALKS = 4;
/** A word found in at least this share of the walked titles is left out of the index condition. */
const COMMON_WORD_SHARE = 0.05;
/** Words pg_trgm indexes: runs of letters and digits (it splits titles at anything else), of at least 3 characters. */
const WORD = /[\p{L}\p{N}]+/gu;

export interface TitleWindow {
  op: '<' | '>';
  cursor: number | null;
  direction: 'desc' | 'asc';
  limit: number;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The words of the text that could narrow the trigram index: distinct, 3 characters or more. */
export function indexWords(lowerText: string): string[] {
  return [...new Set((lowerText.match(WORD) ?? []).filter((word) => [...word].length >= 3))];
}

interface Walked {
  hits: number[];
  walked: number;
  /** The last id walked (the lowest for a newest-first walk). */
  boundary: number | null;
  /** Titles among the walked ones that contain each word of `words`. */
  wordRows: number[];
  /** How many ids lie past the boundary (an upper bound of the files left). */
  beyond: number;
}

/**
 * `text` is the visitor's text lowercased (as the index's `lower(title)`); `words` its
 * indexWords. Returns the window's rows, in the window's order.
 */
export async function postgresTitleWindow(db: Kysely<Database>, text: string, w: TitleWindow, now: Date, type?: 'image' | 'video'): Promise<ImageRow[]> {
  const live = sql`(expires_at is null or expires_at > ${formatUtc(now)})`;
  const needle = sql`lower(${text})`;
  const words = indexWords(text);
  const typeFilter = type ? sql`and type = ${type}` : sql``;
  const order = sql.raw(w.direction);
  const op = sql.raw(w.op);

  /** Walks up to `rows` listed files past `from` (exclusive) in the window's order. */
  const walk = async (from: number | null, rows: number, want: number): Promise<Walked> => {
    const past = from === null ? sql`` : sql`and id ${op} ${from}`;
    const counts = words.length < 2 ? sql`array[]::int[]` : sql`array[${sql.join(words.map((word) => sql`count(*) filter (where strpos(t, lower(${word})) > 0)::int`))}]`;
    const result = await sql<{ hits: string[] | null; walked: number; boundary: number | null; word_rows: number[]; beyond: number | null }>`
      select (array_agg(id order by id ${order}) filter (where hit))[1:${want}] as hits, count(*)::int as walked,
        ${w.direction === 'desc' ? sql`min(id)` : sql`max(id)`} as boundary, ${counts} as word_rows,
        ${w.direction === 'desc' ? sql`min(id) - (select min(id) from images)` : sql`(select max(id) from images) - max(id)`} as beyond
      from (
        select id, t, strpos(t, ${needle}) > 0 and ${live} as hit
        from (select id, lower(title) as t, expires_at from images where listed = 1 ${typeFilter} ${past} order by id ${order} limit ${rows}) walked
      ) checked`.execute(db);
    const row = result.rows[0];
    return { hits: (row.hits ?? []).map(Number), walked: row.walked, boundary: row.boundary === null ? null : Number(row.boundary), wordRows: row.word_rows ?? [], beyond: Math.max(0, Number(row.beyond ?? 0)) };
  };

  const ids: number[] = [];
  let from = w.cursor;
  let rows = WALK_ROWS;
  let walkedInAll = 0;
  let sample: Walked | null = null;
  for (let pass = 1; ; pass++) {
    const walked = await walk(from, rows, w.limit - ids.length);
    sample ??= walked;
    ids.push(...walked.hits);
    // Done: the page is full, or the walk reached the last file.
    if (ids.length >= w.limit || walked.walked < rows || walked.boundary === null) return fetchRows(db, ids, w, live);
    from = walked.boundary;
    walkedInAll += walked.walked;
    const density = ids.length / walkedInAll;
    // Walking on costs a row per row walked, the index about INDEX_HIT_COST rows per hit past the boundary (if older titles are like these).
    const toWalk = density > 0 ? (w.limit - ids.length) / density : Infinity;
    if (pass >= MAX_WALKS || toWalk > Math.min(MAX_WALK, INDEX_HIT_COST * density * walked.beyond)) break;
    rows = Math.ceil(Math.min(MAX_WALK, Math.max(WALK_ROWS, 2 * toWalk)));
  }

  // The trigram index for the rest, over the words few walked titles contain (or the whole text).
  const rare = sample && sample.wordRows.length === words.length ? words.filter((_, i) => sample!.wordRows[i] < COMMON_WORD_SHARE * sample!.walked) : [];
  const patterns = rare.length > 0 ? rare : [text];
  const indexed = sql.join(patterns.map((p) => sql`lower(title) like lower(${`%${escapeLike(p)}%`}) escape '\\'`), sql` and `);
  // The whole text when the index was given only some of its words (LIKE on the whole text checks itself).
  const whole = rare.length > 0 ? sql`and strpos(lower(title), ${needle}) > 0` : sql``;
  // Ordered by `id + 0`, which no index has: no plan can turn this back into a walk of images_pkey.
  const rest = await sql<{ id: number }>`
    select id from images where ${indexed} ${whole} and listed = 1 and ${live} ${typeFilter} and id + 0 ${op} ${from}
    order by id + 0 ${order} limit ${w.limit - ids.length}`.execute(db);
  ids.push(...rest.rows.map((r) => Number(r.id)));
  return fetchRows(db, ids, w, live);
}

/** The full rows of the ids found, in the window's order (listed and live checked again: a file may have changed meanwhile). */
async function fetchRows(db: Kysely<Database>, ids: number[], w: TitleWindow, live: RawBuilder<unknown>): Promise<ImageRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('images').selectAll().where('id', 'in', ids).where('listed', '=', 1).where(live as RawBuilder<boolean>).execute();
  return rows.sort((a, b) => (w.direction === 'desc' ? b.id - a.id : a.id - b.id));
}
