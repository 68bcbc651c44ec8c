/**
 * Counts events per key over a sliding window (flood limits, login throttling). One process
 * keeps the counts in memory; several instances share them through Redis (redis-hit-counter.ts).
 *
 * The window slides the way rate limiters commonly approximate it: the count is this clock
 * window's hits plus the previous window's, weighted by how much of the previous window is
 * still within `windowSeconds` of now (rounded up). So a burst cannot pass twice the limit by
 * straddling the turn of a minute, and a limit holds however the requests fall on the clock.
 */
export interface HitCounter {
  /** Records one hit and returns the number of hits for `key` in the last `windowSeconds`. */
  hit(key: string, windowSeconds: number): Promise<number>;
  /** The same count without recording a hit. */
  peek(key: string, windowSeconds: number): Promise<number>;
  /** Throws when the shared store cannot be reached (used by /healthz). */
  checkHealth(): Promise<void>;
  close(): Promise<void>;
}

/** Which clock window `now` is in, and how far into it (0 to 1). */
export function windowPosition(windowSeconds: number, now = Date.now()): { window: number; elapsed: number } {
  const length = windowSeconds * 1000;
  return { window: Math.floor(now / length), elapsed: (now % length) / length };
}

/** This window's hits plus the still-relevant share of the previous window's. */
export function slidingCount(current: number, previous: number, elapsed: number): number {
  return current + Math.ceil(previous * (1 - elapsed));
}

export class MemoryHitCounter implements HitCounter {
  private readonly windows = new Map<string, { window: number; count: number; previous: number }>();

  private slot(key: string, windowSeconds: number) {
    const { window, elapsed } = windowPosition(windowSeconds);
    const id = `${windowSeconds}:${key}`;
    let entry = this.windows.get(id);
    if (!entry || entry.window !== window) {
      entry = { window, count: 0, previous: entry && entry.window === window - 1 ? entry.count : 0 };
      this.windows.set(id, entry);
      if (this.windows.size > 100_000) this.prune(windowSeconds);
    }
    return { entry, elapsed };
  }

  private prune(windowSeconds: number) {
    const { window } = windowPosition(windowSeconds);
    for (const [id, entry] of this.windows) if (entry.window < window - 1) this.windows.delete(id);
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const { entry, elapsed } = this.slot(key, windowSeconds);
    entry.count += 1;
    return slidingCount(entry.count, entry.previous, elapsed);
  }

  async peek(key: string, windowSeconds: number): Promise<number> {
    const { entry, elapsed } = this.slot(key, windowSeconds);
    return slidingCount(entry.count, entry.previous, elapsed);
  }

  async checkHealth(): Promise<void> {}

  async close(): Promise<void> {
    this.windows.clear();
  }
}
