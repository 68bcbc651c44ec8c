import { sql, type Kysely, type RawBuilder } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database, ImageRow } from '../schema.js';
import type { KeysetWindow } from './listings.js';
import { textGrams } from '../title-fold.js';

/**
 * Search by title on PostgreSQL, newest first, one keyset window at a time.
 *
 * The pg_trgm GIN index (images_title_trgm, 0004_search_privacy) finds the titles that contain
 * a text, but hands them back in no order: every candidate has to be fetched and rechecked on
 * the heap before the newest can be picked, and its cost grows with the trigrams' own posting
 * lists (a word in every title costs a walk through a million postings per trigram). Walking
 * the table newest first answers a common text after a few rows, but walks the whole table for
 * a rare one. So a window is found in up to four steps:
 *
 * 1. a walk of the next WALK_ROWS listed files from the cursor (`images_listed_id` or
 *    `images_type_listed_id`), each title checked with strpos: a text found in recent titles
 *    fills the page here. It also counts how many of those titles contain each word of the text;
 * 2. when the walk found the text in some titles but not enough, and walking on looks cheaper
 *    than the index (the expected rows to walk against the expected hits left to recheck), longer
 *    walks from where the last stopped (at least WALK_ROWS each, so a dense text is not left to
 *    the index by a short unlucky walk; MAX_WALKS in all);
 * 3. when the text's rarest three-character gram is in many titles (title_grams' statistics,
 *    0020_title_grams), those titles newest first from the boundary (gramWalk): many old hits
 *    cost a page's worth of rows here instead of a recheck of every hit in step 4;
 * 4. else, or past that walk, the trigram index for the files past the walked boundary, ordered by `id + 0` (so no
 *    plan can turn it back into a walk of images_pkey; a MATERIALIZED CTE did the same but cost
 *    a third more for 11,000 hits), over the words of the text that the walk found in few titles
 *    (a word in most titles only makes the index slower; the whole text is still checked), the
 *    newest of them kept (a top-N sort).
 *
 * The rows are the same as `lower(title) LIKE '%text%' AND listed AND not expired ORDER BY id`
 * would give: every step checks the whole text with strpos, the walks cover every listed file
 * between the cursor and their boundary, the gram walk every title holding one of the text's
 * grams between that boundary and its own, and the index step everything past it.
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
/** When the text's rarest gram is in at least this many titles the GIN step may recheck as many: title_grams is tried first. */
const POSTINGS_WORTH_WALKING = 2000;
/** Titles of that gram checked first (each a heap fetch, under 0.2 ms in all): enough to see whether its hits are dense. */
const GRAM_PROBE = 200;
/** At most this many more, when the probe's density says they fill the page; else the GIN step takes the rest. */
const GRAM_WALK = 3000;
/** How long title_grams' statistics are kept before they are read again. */
const GRAM_STATS_MS = 10 * 60_000;
/** Words pg_trgm indexes: runs of letters and digits (it splits titles at anything else), of at least 3 characters. */
const WORD = /[\p{L}\p{N}]+/gu;

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
 * `text` is the visitor's text as typed: every statement lowercases it with the database's own
 * `lower()`, as the index does the titles (JavaScript's toLowerCase differs: İ becomes i and a
 * combining dot there, i in PostgreSQL). Returns the window's rows, in the window's order.
 */
export async function postgresTitleWindow(db: Kysely<Database>, text: string, w: KeysetWindow, now: Date, type?: 'image' | 'video'): Promise<ImageRow[]> {
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

  // Many old hits: the text's rarest gram walked newest first from the boundary (title_grams).
  const grams = await gramWalk(db, text, from, w, w.limit - ids.length, live, typeFilter);
  if (grams) {
    ids.push(...grams.hits);
    if (ids.length >= w.limit || grams.boundary === null) return fetchRows(db, ids, w, live);
    from = grams.boundary;
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

interface GramStats {
  at: number;
  /** Estimated titles of each of the most common grams. */
  counts: Map<string, number>;
  /** About this many titles for a gram not among them (0 when the table has no statistics yet). */
  rest: number;
}
const gramStats = new WeakMap<Kysely<Database>, Promise<GramStats>>();

/** Drops the cached statistics of title_grams (they are read again by the next search). */
export function forgetTitleGramStats(db: Kysely<Database>): void {
  gramStats.delete(db);
}

/** title_grams' most common grams and how many titles each is in, from pg_stats (what ANALYZE, or autovacuum, found), kept GRAM_STATS_MS. */
function titleGramStats(db: Kysely<Database>): Promise<GramStats> {
  const cached = gramStats.get(db);
  if (cached) {
    // A failed read is not kept; a stale one is read again (and used meanwhile: it only steers the plan).
    void cached.then((s) => {
      if (Date.now() - s.at > GRAM_STATS_MS && gramStats.get(db) === cached) gramStats.set(db, readGramStats(db));
    });
    return cached;
  }
  const reading = readGramStats(db);
  gramStats.set(db, reading);
  reading.catch(() => gramStats.get(db) === reading && gramStats.delete(db));
  return reading;
}

async function readGramStats(db: Kysely<Database>): Promise<GramStats> {
  const { rows } = await sql<{ vals: string[] | null; freqs: number[] | null; distinct: number | null; tuples: number | null }>`
    select s.most_common_vals::text::text[] as vals, s.most_common_freqs as freqs, s.n_distinct::float8 as distinct, c.reltuples::float8 as tuples
    from pg_class c left join pg_stats s on s.schemaname = current_schema() and s.tablename = 'title_grams' and s.attname = 'gram'
    where c.oid = to_regclass('title_grams')`.execute(db);
  const row = rows[0];
  const tuples = Math.max(0, Number(row?.tuples ?? 0));
  const counts = new Map<string, number>();
  let listed = 0;
  (row?.vals ?? []).forEach((gram, i) => {
    const freq = Number(row!.freqs![i]);
    counts.set(gram, freq * tuples);
    listed += freq;
  });
  // The rows not among the most common spread over the other distinct grams (the planner's own estimate; n_distinct < 0 is a share of the rows).
  const distinct = Number(row?.distinct ?? 0);
  const others = (distinct < 0 ? -distinct * tuples : distinct) - counts.size;
  const rest = counts.size > 0 && others >= 1 ? ((1 - listed) * tuples) / others : 0;
  return { at: Date.now(), counts, rest };
}

/**
 * The hits past `from` among the titles holding the text's rarest gram, newest first, when that
 * gram is in enough titles that the GIN step would recheck many: first GRAM_PROBE of them, then
 * (when hits were found, but not enough) as many more as that density says are needed, up to
 * GRAM_WALK. Null when the gram is rare (the GIN step is cheap) or not a piece of the text as
 * PostgreSQL lower-cases it. `boundary`: the last title walked, null when the gram's list ended
 * (no hit left past `from`).
 */
async function gramWalk(db: Kysely<Database>, text: string, from: number, w: KeysetWindow, want: number, live: RawBuilder<unknown>, typeFilter: RawBuilder<unknown>): Promise<{ hits: number[]; boundary: number | null } | null> {
  const stats = await titleGramStats(db);
  let rarest: { gram: string; count: number } | null = null;
  // Grams of the text as JavaScript lowercases it; one PostgreSQL would lowercase otherwise is refused below (`valid`).
  for (const gram of textGrams(text.toLowerCase())) {
    const count = stats.counts.get(gram) ?? stats.rest;
    if (!rarest || count < rarest.count) rarest = { gram, count };
  }
  if (!rarest || rarest.count < POSTINGS_WORTH_WALKING) return null;
  const op = sql.raw(w.op);
  const order = sql.raw(w.direction);
  const gram = rarest.gram;
  const hits: number[] = [];
  let boundary = from;
  let walkedInAll = 0;
  let rows = GRAM_PROBE;
  for (let pass = 1; pass <= 2; pass++) {
    const { rows: [r] } = await sql<{ hits: string[] | null; walked: number; boundary: string | null; valid: boolean }>`
      select (array_agg(id order by id ${order}) filter (where hit))[1:${want - hits.length}] as hits, count(*)::int as walked,
        ${w.direction === 'desc' ? sql`min(id)` : sql`max(id)`} as boundary, strpos(lower(${text}), ${gram}) > 0 as valid
      from (
        select p.image_id as id, strpos(lower(i.title), lower(${text})) > 0 and i.listed = 1 and ${live} ${typeFilter} as hit
        from (select image_id from title_grams where gram = ${gram} and image_id ${op} ${boundary} order by image_id ${order} limit ${rows}) p
        join images i on i.id = p.image_id
      ) checked`.execute(db);
    // The gram must be a piece of the text as the database lower-cases it, or titles without it could hold the text.
    if (!r.valid) return null;
    hits.push(...(r.hits ?? []).map(Number));
    if (hits.length >= want) return { hits, boundary: null };
    if (r.walked < rows || r.boundary === null) return { hits, boundary: null };
    boundary = Number(r.boundary);
    walkedInAll += r.walked;
    const toWalk = hits.length > 0 ? ((want - hits.length) * walkedInAll) / hits.length : Infinity;
    if (toWalk > GRAM_WALK) break;
    rows = Math.ceil(Math.min(GRAM_WALK, 2 * toWalk));
  }
  return { hits, boundary };
}

/** The full rows of the ids found, in the window's order (listed and live checked again: a file may have changed meanwhile). */
async function fetchRows(db: Kysely<Database>, ids: number[], w: KeysetWindow, live: RawBuilder<unknown>): Promise<ImageRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('images').selectAll().where('id', 'in', ids).where('listed', '=', 1).where(live as RawBuilder<boolean>).execute();
  return rows.sort((a, b) => (w.direction === 'desc' ? b.id - a.id : a.id - b.id));
}
