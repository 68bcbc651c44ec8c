/**
 * A counter of changes made through this process: bumped after every request that may have
 * changed something (any POST, PUT, PATCH or DELETE, server.ts) and by every write query sent
 * through this process's database handle (db/database.ts, `NoteWritesPlugin`: jobs, the view
 * counter, the CLI in-process, tests). What was read while the counter stood still is still what
 * the database holds, as far as this process knows: the page cache (web/page-cache.ts) and the
 * session cache (web/session.ts) use that to skip reading rows again for a moment. Changes
 * made by another instance on the same database are not seen here; those caches re-read at
 * least once a second.
 */
let localChanges = 0;

export function noteLocalChange(): void {
  localChanges++;
}

export function localChangeCount(): number {
  return localChanges;
}

interface Remembered<V> {
  value: V;
  checkedAt: number;
  /** The change count before the value was read. */
  checkedChanges: number;
}

/**
 * Rows read from the database moments ago, by key: a value is given back only within
 * `recheckMs` of reading it and only while nothing was written through this process since
 * (the counter above); otherwise it is forgotten and the caller reads again. At most `capacity`
 * values are kept (the oldest go first). Used by the session cache (web/session.ts) and the
 * file lookups of web/media-files.ts.
 */
export class RecentlyRead<V> {
  private readonly entries = new Map<string, Remembered<V>>();

  constructor(
    private readonly recheckMs: number,
    private readonly capacity: number,
  ) {}

  /** The value read moments ago, or undefined when there is none or it must be read again. */
  get(key: string, now: number): V | undefined {
    const known = this.entries.get(key);
    if (!known) return undefined;
    if (known.checkedChanges === localChanges && now - known.checkedAt < this.recheckMs) return known.value;
    this.entries.delete(key);
    return undefined;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }

  /**
   * Keeps `value`, read at `readAt` by a read that started when the change count was
   * `changesBefore` (take localChangeCount() before the query, so a write during it is noticed).
   */
  remember(key: string, value: V, readAt: number, changesBefore: number): void {
    this.entries.set(key, { value, checkedAt: readAt, checkedChanges: changesBefore });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
  }
}

/** One RecentlyRead per site (AppContext), made on first use and dropped with the site. */
export function recentlyReadPerSite<V>(recheckMs: number, capacity: number): (site: object) => RecentlyRead<V> {
  const perSite = new WeakMap<object, RecentlyRead<V>>();
  return (site) => {
    let reads = perSite.get(site);
    if (!reads) {
      reads = new RecentlyRead<V>(recheckMs, capacity);
      perSite.set(site, reads);
    }
    return reads;
  };
}
