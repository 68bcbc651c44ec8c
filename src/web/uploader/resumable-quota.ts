import type { Upload } from '@tus/server';
import type { Settings } from '../../config/settings.js';
import { errors } from '../../core/errors.js';
import type { Uploader } from '../../ingest/ingest-upload.js';
import { OWNER_KEY, ownerTag } from './resumable-files.js';

/**
 * Limits on unfinished resumable uploads: each one reserves its announced size on the
 * instance's disk (or in the bucket) for up to SHOEBOX_RESUMABLE_EXPIRY, so one account (or, for guests, one
 * address) may only hold SHOEBOX_RESUMABLE_MAX_UNFINISHED of them at once, announcing at most
 * SHOEBOX_RESUMABLE_MAX_RESERVED bytes in all. (Creating one also counts against the flood
 * limit, see resumable.ts.) Checks and creations of one owner run one at a time, so a burst of
 * parallel creations cannot all pass the same check.
 */

/** The metadata key that records the address an upload was started from (clients cannot set shoebox_ keys). */
export const ADDRESS_KEY = 'shoebox_address';

/** What the quota needs of where resumable uploads live (ingest/resumable-store.ts). */
export interface UnfinishedStore {
  /** Every upload that is not finished yet, on any instance. */
  unfinished(): Promise<Upload[]>;
}

export type QuotaSettings = Pick<Settings, 'resumableMaxUnfinished' | 'resumableMaxReservedBytes'>;

/** What this uploader's and this address's unfinished uploads hold now. */
async function usageOf(store: UnfinishedStore, uploader: Uploader): Promise<{ owner: { count: number; bytes: number }; address: { count: number; bytes: number } }> {
  const owner = { count: 0, bytes: 0 };
  const address = { count: 0, bytes: 0 };
  const tag = ownerTag(uploader);
  for (const upload of await store.unfinished()) {
    if (upload.size !== undefined && upload.offset === upload.size) continue;
    const reserved = upload.size ?? 0;
    // An account is capped on its own (people behind one address each have theirs); guests, who
    // are all "guest", by their address.
    if (uploader.user && upload.metadata?.[OWNER_KEY] === tag) {
      owner.count++;
      owner.bytes += reserved;
    }
    if (!uploader.user && upload.metadata?.[OWNER_KEY] === tag && upload.metadata?.[ADDRESS_KEY] === uploader.ip) {
      address.count++;
      address.bytes += reserved;
    }
  }
  return { owner, address };
}

/** Throws the 429 when one more upload of `size` bytes would pass a limit. */
export async function checkUnfinishedQuota(store: UnfinishedStore, settings: QuotaSettings, uploader: Uploader, size: number): Promise<void> {
  const maxCount = settings.resumableMaxUnfinished;
  const maxBytes = settings.resumableMaxReservedBytes;
  if (maxCount <= 0 && maxBytes <= 0) return;
  const { owner, address } = await usageOf(store, uploader);
  for (const held of [owner, address]) {
    if (maxCount > 0 && held.count + 1 > maxCount) throw errors.tooManyUnfinished(`at most ${maxCount} unfinished uploads at a time; finish or cancel one first`);
    if (maxBytes > 0 && held.bytes + size > maxBytes) throw errors.tooManyUnfinished('unfinished uploads would reserve too much space; finish or cancel some first');
  }
}

/** Runs `work` after every earlier one of the same key has ended (per process). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = before.then(() => mine);
    this.tails.set(key, tail);
    try {
      await before;
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
