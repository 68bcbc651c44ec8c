import type { Kysely } from 'kysely';
import { addImageViews } from '../db/repositories/images.js';
import type { Database } from '../db/schema.js';

/** How often counted views are written to the database. */
export const VIEW_FLUSH_INTERVAL_MS = 2000;

/**
 * Views of viewer pages, counted in memory and added to `images.views` in one batch every
 * VIEW_FLUSH_INTERVAL_MS (and when the server closes), instead of an UPDATE per page view.
 * Each instance adds its own counts (`views = views + n`), so several instances sharing a
 * database never lose each other's views; a crash loses at most the last interval's.
 */
export class ViewCounter {
  private pending = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly onError: (error: unknown) => void = () => {},
    private readonly intervalMs = VIEW_FLUSH_INTERVAL_MS,
  ) {}

  /** Counts one view of an image. */
  add(imageId: number): void {
    this.pending.set(imageId, (this.pending.get(imageId) ?? 0) + 1);
    this.schedule();
  }

  private closed = false;

  private schedule(): void {
    if (!this.timer && !this.closed) {
      this.timer = setTimeout(() => {
        this.timer = null;
        void this.flush();
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  /** Views counted here and not yet in the database. */
  pendingOf(imageId: number): number {
    return this.pending.get(imageId) ?? 0;
  }

  /** Writes the counted views now (one UPDATE per image, in one transaction). */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await addImageViews(this.db, batch);
    } catch (error) {
      // Keep the counts for the next try (the database may be briefly unavailable).
      for (const [id, count] of batch) this.pending.set(id, (this.pending.get(id) ?? 0) + count);
      this.onError(error);
      this.schedule();
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.flush();
  }
}
