import { randomBytes } from 'node:crypto';
import { localChangeCount } from '../core/local-changes.js';

export { localChangeCount, noteLocalChange } from '../core/local-changes.js';

/** How long a cached page may be served: the views figure on it lags by at most this much. */
export const PAGE_CACHE_TTL_MS = 5000;

/** How every CSRF placeholder starts (see newCsrfPlaceholder). */
export const CSRF_PLACEHOLDER_PREFIX = 'shoebox-csrf-';

/**
 * Stands in for the visitor's CSRF token in a rendered page; each response gets its own token
 * (reply.generateCsrf, with the same cookie as an uncached page) in its place. A new random one
 * for every render: user text (a title, a description) is stored before the page is rendered, so
 * it can never hold the placeholder and have the viewer's token put into it.
 */
export function newCsrfPlaceholder(): string {
  return `${CSRF_PLACEHOLDER_PREFIX}${randomBytes(16).toString('hex')}`;
}

/** Wait this long before reading the rows again for a page served from the cache (see PageCache). */
export const PAGE_RECHECK_MS = 1000;

interface Entry {
  version: string;
  /** The HTML as UTF-8, split at its render's CSRF placeholder (sent as bytes: no encoding per request). */
  parts: Buffer[];
  expires: number;
  /** The canonical path the page was rendered for; other paths (short URLs, old slugs) redirect. */
  path: string;
  /** When the file itself expires (ms), or null. */
  fileExpires: number | null;
  /** Anyone may see the page (no private album above it, no password): only then may `fresh` serve it. */
  openToAll: boolean;
  /** Serving it counts a view of the file (not for its owner). */
  countsView: boolean;
  /** When the rows were last read and matched `version`, and the local change count then. */
  checkedAt: number;
  checkedChanges: number;
}

/** What is known about the page being cached, besides its HTML. */
export interface PageFacts {
  version: string;
  path: string;
  fileExpires: number | null;
  /**
   * `fresh` may serve it: anyone may see it, or nothing the visitor brings along (an album's unlock
   * cookie) decides whether they may (the owner's own page).
   */
  openToAll: boolean;
  /** Serving it counts a view of the file (default yes; see `countsView`). */
  countsView?: boolean;
  /** localChangeCount() before the rows were read. */
  changesBefore: number;
}

/**
 * Rendered pages (routes/viewer-page.ts, the home page, album pages), one copy per page, language,
 * NSFW choice and signed-in account (visitors without a session share one), least recently used
 * first out, at most `maxEntries` pages (0 turns the cache off), each at most `ttlMs` old.
 *
 * Two ways to a hit:
 * - `get`: the caller has read the rows the page shows (and decided access from them) and its
 *   `version` still matches;
 * - `fresh`: within `recheckMs` of the last such check, with nothing changed through this
 *   process since, and only for a page anyone may see, the page is served without reading the rows: a popular page costs no query
 *   at all. A change made through another instance (several share one database) shows after
 *   at most `recheckMs`; one made through this process shows at once.
 */
export class PageCache {
  private readonly entries = new Map<string, Entry>();
  private readonly size_: () => number;

  /** `maxEntries`: a number, or a function read at each use (SHOEBOX_PAGE_CACHE_SIZE may change while the site runs). */
  constructor(
    maxEntries: number | (() => number),
    private readonly ttlMs = PAGE_CACHE_TTL_MS,
    private readonly now: () => number = Date.now,
    private readonly recheckMs = PAGE_RECHECK_MS,
  ) {
    this.size_ = typeof maxEntries === 'number' ? () => maxEntries : maxEntries;
  }

  get maxEntries(): number {
    return this.size_();
  }

  /** Off (0) drops what is kept; a smaller size drops the least recently used pages past it. */
  get enabled(): boolean {
    const max = this.maxEntries;
    if (this.entries.size > max) this.trim(max);
    return max > 0;
  }

  private trim(max: number): void {
    while (this.entries.size > max) this.entries.delete(this.entries.keys().next().value!);
  }

  get size(): number {
    return this.entries.size;
  }

  /** The page for `key` when it was checked against the rows moments ago and nothing changed here since. */
  fresh(key: string, path: string, csrf: () => string): Buffer | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    const now = this.now();
    if (!entry.openToAll || entry.path !== path || entry.checkedChanges !== localChangeCount() || now - entry.checkedAt >= this.recheckMs) return null;
    if (entry.expires <= now || (entry.fileExpires !== null && entry.fileExpires <= now)) return null;
    return this.use(key, entry, csrf);
  }

  /** The cached page for `key` if its version matches and it has not expired, with the token from `csrf` filled in. */
  get(key: string, facts: PageFacts, csrf: () => string): Buffer | null {
    const entry = this.entries.get(key);
    if (!entry) return null;
    if (entry.version !== facts.version || entry.path !== facts.path || entry.expires <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    entry.checkedAt = this.now();
    entry.checkedChanges = facts.changesBefore;
    entry.fileExpires = facts.fileExpires;
    entry.openToAll = facts.openToAll;
    entry.countsView = facts.countsView ?? true;
    return this.use(key, entry, csrf);
  }

  /** Whether serving the page kept for `key` counts a view of its file. */
  countsView(key: string): boolean {
    return this.entries.get(key)?.countsView ?? true;
  }

  private use(key: string, entry: Entry, csrf: () => string): Buffer {
    // Most recently used last (Map keeps insertion order).
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (entry.parts.length === 1) return entry.parts[0];
    const token = Buffer.from(csrf());
    const pieces: Buffer[] = [entry.parts[0]];
    for (let i = 1; i < entry.parts.length; i++) pieces.push(token, entry.parts[i]);
    return Buffer.concat(pieces);
  }

  /** Keeps a page rendered with `placeholder` (newCsrfPlaceholder) for its token. */
  set(key: string, facts: PageFacts, html: string, placeholder: string): void {
    if (!this.enabled) return;
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, {
      version: facts.version,
      parts: html.split(placeholder).map((part) => Buffer.from(part)),
      expires: now + this.ttlMs,
      path: facts.path,
      fileExpires: facts.fileExpires,
      openToAll: facts.openToAll,
      countsView: facts.countsView ?? true,
      checkedAt: now,
      checkedChanges: facts.changesBefore,
    });
    this.trim(this.maxEntries);
  }
}
