/**
 * Counts events per key in fixed time windows (flood limits, login throttling). One process
 * keeps the counts in memory; several instances share them through Redis (redis-hit-counter.ts).
 */
export interface HitCounter {
  /** Records one hit and returns the number of hits for `key` in the current window. */
  hit(key: string, windowSeconds: number): Promise<number>;
  /** Current count without recording a hit. */
  peek(key: string, windowSeconds: number): Promise<number>;
  /** Throws when the shared store cannot be reached (used by /healthz). */
  checkHealth(): Promise<void>;
  close(): Promise<void>;
}

export class MemoryHitCounter implements HitCounter {
  private readonly windows = new Map<string, { windowStart: number; count: number }>();

  private slot(key: string, windowSeconds: number) {
    const windowStart = Math.floor(Date.now() / (windowSeconds * 1000));
    const id = `${windowSeconds}:${key}`;
    let entry = this.windows.get(id);
    if (!entry || entry.windowStart !== windowStart) {
      entry = { windowStart, count: 0 };
      this.windows.set(id, entry);
      if (this.windows.size > 100_000) this.prune(windowSeconds);
    }
    return entry;
  }

  private prune(windowSeconds: number) {
    const current = Math.floor(Date.now() / (windowSeconds * 1000));
    for (const [id, entry] of this.windows) if (entry.windowStart < current) this.windows.delete(id);
  }

  async hit(key: string, windowSeconds: number): Promise<number> {
    const entry = this.slot(key, windowSeconds);
    entry.count += 1;
    return entry.count;
  }

  async peek(key: string, windowSeconds: number): Promise<number> {
    return this.slot(key, windowSeconds).count;
  }

  async checkHealth(): Promise<void> {}

  async close(): Promise<void> {
    this.windows.clear();
  }
}
