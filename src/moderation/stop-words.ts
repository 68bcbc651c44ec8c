import type { Kysely } from 'kysely';
import { errors, type ShoeboxError } from '../core/errors.js';
import { deleteStopWord, listStopWords, upsertStopWord } from '../db/repositories/moderation.js';
import type { Database } from '../db/schema.js';

/**
 * Stop words, checked in titles, descriptions, tags, album names and usernames. Each word
 * either refuses the text (`refuse`) or, on uploads, sends the file to the approval queue
 * (`hold`); album names and usernames have no queue, so there both refuse. Matching ignores
 * case and width (NFKC); a word in a script that separates words (Latin, Greek, Cyrillic...)
 * matches whole words only, a word in Chinese, Japanese or Korean anywhere in the text.
 * Usernames have no spaces to find words by, so there (`anywhere`) a word matches anywhere:
 * "viagra" refuses "viagrakid".
 */

export type StopWordAction = 'refuse' | 'hold';
export const STOP_WORD_ACTIONS: readonly StopWordAction[] = ['refuse', 'hold'];

const REFRESH_MS = 2000;
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;

interface CompiledWord {
  word: string;
  action: StopWordAction;
  pattern: RegExp;
  /** The word anywhere in the text (usernames). */
  anywhere: RegExp;
}

export function normalizeStopWord(text: string): string {
  return text.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, ' ');
}

function compile(word: string, action: StopWordAction): CompiledWord {
  const escaped = word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = UNSPACED.test(word) ? new RegExp(escaped, 'u') : new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'u');
  return { word, action, pattern, anywhere: new RegExp(escaped, 'u') };
}

export interface StopWordVerdict {
  action: StopWordAction;
  word: string;
}

export function stopWordRefused(): ShoeboxError {
  return errors.stopWord();
}

export class StopWords {
  private words: CompiledWord[] = [];
  private loadedAt = 0;
  private loading: Promise<void> | null = null;

  constructor(private readonly db: Kysely<Database>) {}

  async refresh(): Promise<void> {
    const rows = await listStopWords(this.db);
    this.words = rows.map((r) => compile(r.word, r.action === 'hold' ? 'hold' : 'refuse'));
    this.loadedAt = Date.now();
  }

  /** `refuse` wins over `hold`; null when no word matches. */
  async verdict(texts: (string | null | undefined)[], options: { anywhere?: boolean } = {}): Promise<StopWordVerdict | null> {
    if (Date.now() - this.loadedAt > REFRESH_MS) {
      this.loading ??= this.refresh().finally(() => (this.loading = null));
      await this.loading;
    }
    if (this.words.length === 0) return null;
    const normalized = texts.filter((t): t is string => Boolean(t)).map(normalizeStopWord);
    let held: StopWordVerdict | null = null;
    for (const word of this.words) {
      const pattern = options.anywhere ? word.anywhere : word.pattern;
      if (!normalized.some((t) => pattern.test(t))) continue;
      if (word.action === 'refuse') return { action: 'refuse', word: word.word };
      held ??= { action: 'hold', word: word.word };
    }
    return held;
  }

  /** For album names and usernames: any listed word refuses. */
  async assertAllowed(texts: (string | null | undefined)[]): Promise<void> {
    if (await this.verdict(texts)) throw stopWordRefused();
  }

  async add(word: string, action: StopWordAction): Promise<string> {
    const normalized = normalizeStopWord(word);
    if (!normalized) throw errors.badParameter('word', 'a stop word cannot be empty');
    if (!STOP_WORD_ACTIONS.includes(action)) throw errors.badParameter('action', 'use refuse or hold');
    await upsertStopWord(this.db, normalized, action);
    await this.refresh();
    return normalized;
  }

  async remove(word: string): Promise<boolean> {
    const removed = await deleteStopWord(this.db, normalizeStopWord(word));
    await this.refresh();
    return removed;
  }

  async list() {
    return listStopWords(this.db);
  }
}
