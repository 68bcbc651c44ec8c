import { sql, type Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database, ImageRow } from '../schema.js';
import type { KeysetWindow } from './listings.js';
import { foldTitle, textGrams, TITLE_CONTAINS } from '../title-fold.js';

/**
 * Search by title on SQLite, newest first, one keyset window at a time, over `images_title_fts`
 * (FTS5, trigram tokenizer, 0004_search_privacy) walked by rowid in the window's order.
 *
 * A quoted FTS5 phrase of the whole text makes FTS5 read the doclists (and positions) of every
 * trigram of the text; a trigram in most titles ("pho" in "photo 12") costs a read of most of
 * the index between the newest hit and the page's last, so many old hits under newer titles cost
 * tens of milliseconds at millions of rows. The text's rarest trigrams alone find the same titles
 * and more after reading far less, and TITLE_CONTAINS (title-fold.ts, registered on every SQLite
 * connection by database.ts) then checks the whole text in each candidate, folded exactly as FTS5
 * folds it. So a window is:
 *
 * - `MATCH '"t1" AND "t2"'` over at most two of the text's trigrams that are in fewer than
 *   RARE_SHARE of the titles in a sample (SAMPLE_TITLES at even steps of the whole id range,
 *   kept SAMPLE_MS per database), each candidate checked with TITLE_CONTAINS. The sample spans
 *   the whole table, not only recent titles: what a walk costs is the trigram's titles it passes,
 *   and with few or no hits that is all of them ("o 1" is in no recent title of the bench's 3
 *   million and in 37% of all; "999" in every recent one and 0.3% of all);
 * - else (every trigram of the text is in many titles) the quoted phrase, which is cheap then:
 *   such a text is in many recent titles and the walk fills the page early.
 *
 * Both return the rows the phrase returns: every title that contains the text contains each of
 * its trigrams, and the check is the phrase's own condition (the folded title contains the folded
 * text), so which trigrams are picked changes the cost, never the rows.
 */

/** Titles sampled at even steps of the id range (one primary-key lookup each: 6–8 ms of CPU at 3 million rows, once per SAMPLE_MS). */
const SAMPLE_TITLES = 2000;
/** How long a sample is used before it is taken again. */
const SAMPLE_MS = 10 * 60_000;
/** A trigram in at least this share of the sampled titles is not used to narrow the walk. */
const RARE_SHARE = 0.1;

/** How many titles of a sample hold each trigram (folded), and how many titles it has. */
export interface GramCounts {
  titles: number;
  grams: Map<string, number>;
}

interface Sample {
  takenAt: number;
  counts: GramCounts;
}

/** Counts once per sample, so a search looks its text's trigrams up instead of scanning 2,000 titles for each. */
export function gramCounts(titles: (string | null)[]): GramCounts {
  const grams = new Map<string, number>();
  for (const title of titles) {
    for (const gram of textGrams(foldTitle(title ?? ''))) grams.set(gram, (grams.get(gram) ?? 0) + 1);
  }
  return { titles: titles.length, grams };
}

const samples = new WeakMap<Kysely<Database>, Sample>();

/** Drops a database's sample, so the next search takes a new one (tests: a table just filled). */
export function forgetTitleSample(db: Kysely<Database>): void {
  samples.delete(db);
}

async function sampleOf(db: Kysely<Database>): Promise<Sample> {
  const cached = samples.get(db);
  if (cached && Date.now() - cached.takenAt < SAMPLE_MS) return cached;
  // Two subqueries: each is one step of images_pkey (min and max in one select scan the table).
  const range = await sql<{ low: number | null; high: number | null }>`select (select min(id) from images) as low, (select max(id) from images) as high`.execute(db);
  const { low, high } = range.rows[0] ?? { low: null, high: null };
  let spread: { title: string | null }[] = [];
  if (low !== null && high !== null) {
    const step = Math.max(1, (high - low) / (SAMPLE_TITLES - 1));
    const ids = [...new Set(Array.from({ length: SAMPLE_TITLES }, (_, k) => Math.round(low + k * step)).filter((id) => id <= high))];
    // CROSS JOIN: one lookup of images_pkey per id (an IN list made SQLite scan the table).
    spread = (await sql<{ title: string | null }>`select images.title from json_each(${JSON.stringify(ids)}) as step cross join images on images.id = step.value`.execute(db)).rows;
  }
  const sample = { takenAt: Date.now(), counts: gramCounts(spread.map((r) => r.title)) };
  samples.set(db, sample);
  return sample;
}

function share(counts: GramCounts, gram: string): number {
  return counts.titles === 0 ? 0 : (counts.grams.get(gram) ?? 0) / counts.titles;
}

/**
 * Where the trigrams to AND start in `foldedText` (code point offsets): two of those in fewer
 * than RARE_SHARE of the sample's titles (one when only one is), none when every trigram is
 * common. Two, not more: a third costs another doclist merge and left as many candidates at 3
 * million rows ("photo 123456": 1.4 ms with two or three, 16 ms with its rarest one alone).
 */
export function rareTrigrams(foldedText: string, sample: GramCounts): number[] {
  const chars = [...foldedText];
  const grams: { at: number; share: number }[] = [];
  const seen = new Set<string>();
  for (let at = 0; at + 3 <= chars.length; at++) {
    const gram = chars.slice(at, at + 3).join('');
    if (seen.has(gram)) continue;
    seen.add(gram);
    grams.push({ at, share: share(sample, gram) });
  }
  const rare = grams.filter((g) => g.share < RARE_SHARE).sort((a, b) => a.share - b.share || a.at - b.at);
  if (rare.length <= 1) return rare.map((g) => g.at);
  // The pair that leaves the fewest candidates if the two were independent, among pairs that do
  // not overlap (overlapping trigrams are nearly the same condition); a share of 0 counts as one
  // title of the sample, so that the other one's share still matters.
  const floor = 1 / Math.max(1, sample.titles);
  let best: [number, number] | null = null;
  let bestCost = Infinity;
  for (let i = 0; i < rare.length; i++) {
    for (let j = i + 1; j < rare.length; j++) {
      if (Math.abs(rare[i].at - rare[j].at) < 3) continue;
      const cost = Math.max(rare[i].share, floor) * Math.max(rare[j].share, floor);
      if (cost < bestCost) [best, bestCost] = [[rare[i].at, rare[j].at], cost];
    }
  }
  return best ?? [rare[0].at, rare[1].at];
}

function quoted(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

/** `text`: the visitor's text (control characters removed, trimmed, at least 3 characters). Returns the window's rows, in its order. */
export async function sqliteTitleWindow(db: Kysely<Database>, text: string, w: KeysetWindow, now: Date, type?: 'image' | 'video'): Promise<ImageRow[]> {
  const folded = foldTitle(text);
  const chars = [...text];
  // The text's own characters: FTS5 folds each quoted term as it folds titles.
  const terms = rareTrigrams(folded, (await sampleOf(db)).counts).map((at) => chars.slice(at, at + 3).join(''));
  // Quoted strings only: the visitor's text is never read as FTS5 query syntax (OR, *, NEAR, ...).
  const match = terms.length === 0 ? quoted(text) : terms.map(quoted).join(' AND ');
  const check = terms.length === 0 ? sql`` : sql`and ${sql.raw(TITLE_CONTAINS)}(images.title, ${folded})`;
  const ftsCursor = w.cursor === null ? sql`` : sql`and images_title_fts.rowid ${sql.raw(w.op)} ${w.cursor}`;
  const live = sql`(images.expires_at is null or images.expires_at > ${formatUtc(now)})`;
  // Raw SQL: walking the FTS table's rowid (not images.id) in order is what keeps this an index walk.
  const result = await sql<ImageRow>`select images.* from images_title_fts cross join images on images.id = images_title_fts.rowid
    where images_title_fts match ${match} and images.listed = 1 and ${live} ${ftsCursor} ${type ? sql`and images.type = ${type}` : sql``} ${check}
    order by images_title_fts.rowid ${sql.raw(w.direction)} limit ${w.limit}`.execute(db);
  return result.rows;
}
