import type SqliteDatabase from 'better-sqlite3';

/**
 * The case fold of SQLite's FTS5 `trigram` tokenizer (`images_title_fts`, 0004_search_privacy),
 * in JavaScript, so that a title can be checked for a text exactly as the FTS5 phrase would
 * match it (sqlite-title-search.ts) without FTS5 reading the doclists of the text's common
 * trigrams. FTS5 folds each code point on its own (`sqlite3Fts5UnicodeFold`, Unicode simple case
 * folding from its own tables, diacritics kept): ASCII A–Z to a–z, other letters through a table
 * whose Unicode version is older than Node's. SQLite's `lower()` folds ASCII only, so it cannot
 * do this.
 *
 * Here: a code point's JavaScript lowercase when that is one code point (so `İ`, whose full
 * lowercase is `i` + a combining dot, stays `İ`, as in FTS5), corrected by FOLD_DIFFERENCES, every
 * code point where that differs from FTS5's fold with the SQLite that better-sqlite3 bundles and
 * Node 20's ICU: FTS5 folds some letters that have no uppercase role (`ſ` → `s`, `ς` → `σ`, `µ`
 * → `μ`, `ϐ` → `β`, `ι` (U+0345, U+1FBE) → `ι`, `ẛ` → `ṡ`), and does not fold letters that Unicode
 * added after its tables (Cherokee, Georgian Mtavruli, some Latin extended-D letters, Osage,
 * Vithkuqi, Old Hungarian, Medefaidrin, Adlam, …). test/db/sqlite-title-search.test.ts compares the two
 * for every code point against FTS5 itself, so an upgrade of Node or SQLite that changes either
 * fails there instead of changing search results.
 */

/** [first, last, offset]: code points first..last fold to code point + offset (0: not folded) in FTS5. */
const FOLD_DIFFERENCES: [number, number, number][] = [
  [0xb5, 0xb5, 775], [0x17f, 0x17f, -268], [0x345, 0x345, 116], [0x37f, 0x37f, 0], [0x3c2, 0x3c2, 1], [0x3d0, 0x3d0, -30],
  [0x3d1, 0x3d1, -25], [0x3d5, 0x3d5, -15], [0x3d6, 0x3d6, -22], [0x3f0, 0x3f0, -54], [0x3f1, 0x3f1, -48], [0x3f5, 0x3f5, -64],
  [0x528, 0x528, 0], [0x52a, 0x52a, 0], [0x52c, 0x52c, 0], [0x52e, 0x52e, 0], [0x13a0, 0x13f5, 0], [0x1c89, 0x1c89, 0],
  [0x1c90, 0x1cba, 0], [0x1cbd, 0x1cbf, 0], [0x1e9b, 0x1e9b, -58], [0x1fbe, 0x1fbe, -7173], [0x2c2f, 0x2c2f, 0], [0xa698, 0xa698, 0],
  [0xa69a, 0xa69a, 0], [0xa796, 0xa796, 0], [0xa798, 0xa798, 0], [0xa79a, 0xa79a, 0], [0xa79c, 0xa79c, 0], [0xa79e, 0xa79e, 0],
  [0xa7ab, 0xa7ae, 0], [0xa7b0, 0xa7b4, 0], [0xa7b6, 0xa7b6, 0], [0xa7b8, 0xa7b8, 0], [0xa7ba, 0xa7ba, 0], [0xa7bc, 0xa7bc, 0],
  [0xa7be, 0xa7be, 0], [0xa7c0, 0xa7c0, 0], [0xa7c2, 0xa7c2, 0], [0xa7c4, 0xa7c7, 0], [0xa7c9, 0xa7c9, 0], [0xa7cb, 0xa7cc, 0],
  [0xa7ce, 0xa7ce, 0], [0xa7d0, 0xa7d0, 0], [0xa7d2, 0xa7d2, 0], [0xa7d4, 0xa7d4, 0], [0xa7d6, 0xa7d6, 0], [0xa7d8, 0xa7d8, 0],
  [0xa7da, 0xa7da, 0], [0xa7dc, 0xa7dc, 0], [0xa7f5, 0xa7f5, 0], [0xfffe, 0xfffe, -1], [0xffff, 0xffff, -2], [0x104b0, 0x104d3, 0],
  [0x10570, 0x1057a, 0], [0x1057c, 0x1058a, 0], [0x1058c, 0x10592, 0], [0x10594, 0x10595, 0], [0x10c80, 0x10cb2, 0], [0x10d50, 0x10d65, 0],
  [0x118a0, 0x118bf, 0], [0x16e40, 0x16e5f, 0], [0x16ea0, 0x16eb8, 0], [0x1e900, 0x1e921, 0],
];

const folded = new Map<number, string>();

/** FTS5's fold of one code point (above ASCII), as a string. */
function foldCodePoint(code: number): string {
  let out = folded.get(code);
  if (out !== undefined) return out;
  const difference = FOLD_DIFFERENCES.find(([first, last]) => code >= first && code <= last);
  if (difference) {
    out = String.fromCodePoint(code + difference[2]);
  } else {
    const lower = String.fromCodePoint(code).toLowerCase();
    out = lower.length === 1 || (lower.length === 2 && lower.codePointAt(0)! > 0xffff) ? lower : String.fromCodePoint(code);
  }
  folded.set(code, out);
  return out;
}

const ASCII = /^[\u0000-\u007f]*$/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * `text` folded as FTS5's trigram tokenizer folds it (case only, code point by code point).
 * Lone surrogates become U+FFFD first, as they do on their way into SQLite.
 */
export function foldTitle(text: string): string {
  if (ASCII.test(text)) return text.toLowerCase();
  let out = '';
  for (const char of text.replace(LONE_SURROGATE, '\ufffd')) {
    const code = char.codePointAt(0)!;
    out += code < 0x80 ? char.toLowerCase() : foldCodePoint(code);
  }
  return out;
}

/**
 * The distinct runs of three characters (code points) of an already folded title or text: what
 * PostgreSQL's title_grams holds of a lower-cased title (0020_title_grams), and what SQLite's
 * title search counts in its sample of titles (sqlite-title-search.ts).
 */
export function textGrams(foldedText: string): string[] {
  const chars = [...foldedText];
  const grams = new Set<string>();
  for (let i = 0; i + 3 <= chars.length; i++) grams.add(chars[i] + chars[i + 1] + chars[i + 2]);
  return [...grams];
}

/** The SQL function sqlite-title-search.ts filters with: whether `title` contains `foldedText` (already foldTitle'd), as an FTS5 phrase would match it. */
export const TITLE_CONTAINS = 'shoebox_title_contains';

/** Registers TITLE_CONTAINS on a connection (database.ts does, for every SQLite database it opens). */
export function registerTitleFunctions(sqlite: SqliteDatabase.Database): void {
  sqlite.function(TITLE_CONTAINS, { deterministic: true }, (title: unknown, foldedText: unknown) =>
    typeof title === 'string' && typeof foldedText === 'string' && foldTitle(title).includes(foldedText) ? 1 : 0);
}
