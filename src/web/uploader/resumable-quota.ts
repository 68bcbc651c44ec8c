import type { Upload } from '@tus/server';
import type { Settings } from '../../config/settings.js';
import { errors } from '../../core/errors.js';
import type { Uploader } from '../../ingest/ingest-upload.js';
import { OWNER_KEY, ownerTag } from './resumable-files.js';

/**
 * Limits on unfinished resumable uploads: each one reserves its announced size on the
 * instance's disk (or in the bucket) for up to SHOEBOX_RESUMABLE_EXPIRY, so one account (or, for guests, one
 * address) may only hold SHOEBOX_RESUMABLE_MAX_UNFINISHED of them at once, announcing at most
 * SHOEBOX_RESUMABLE_MAX_RESERVED bytes in all; and everyone behind one client address together
 * (guests and every account, so many accounts can't add up) SHOEBOX_RESUMABLE_MAX_UNFINISHED_PER_IP
 * and SHOEBOX_RESUMABLE_MAX_RESERVED_PER_IP. (Creating one also counts against the flood
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

export type QuotaSettings = Pick<
  Settings,
  'resumableMaxUnfinished' | 'resumableMaxReservedBytes' | 'resumableMaxUnfinishedPerAddress' | 'resumableMaxReservedBytesPerAddress'
>;

interface Held {
  count: number;
  bytes: number;
}

/**
 * What this uploader's unfinished uploads hold now (an account's own; guests, who are all
 * "guest", those started from their address), and what every upload started from the
 * uploader's address holds, whoever started it (guests and every account behind that address).
 */
async function usageOf(store: UnfinishedStore, uploader: Uploader): Promise<{ owner: Held; address: Held }> {
  const owner = { count: 0, bytes: 0 };
  const address = { count: 0, bytes: 0 };
  const tag = ownerTag(uploader);
  for (const upload of await store.unfinished()) {
    if (upload.size !== undefined && upload.offset === upload.size) continue;
    const reserved = upload.size ?? 0;
    const sameAddress = upload.metadata?.[ADDRESS_KEY] === uploader.ip;
    if (upload.metadata?.[OWNER_KEY] === tag && (uploader.user || sameAddress)) {
      owner.count++;
      owner.bytes += reserved;
    }
    if (sameAddress) {
      address.count++;
      address.bytes += reserved;
    }
  }
  return { owner, address };
}

function checkHeld(held: Held, size: number, maxCount: number, maxBytes: number, whose: string): void {
  if (maxCount > 0 && held.count + 1 > maxCount) throw errors.tooManyUnfinished(`at most ${maxCount} unfinished uploads at a time${whose}; finish or cancel one first`);
  if (maxBytes > 0 && held.bytes + size > maxBytes) throw errors.tooManyUnfinished(`unfinished uploads${whose} would reserve too much space; finish or cancel some first`);
}

/** Throws the 429 when one more upload of `size` bytes would pass a limit of the uploader or of its address. */
export async function checkUnfinishedQuota(store: UnfinishedStore, settings: QuotaSettings, uploader: Uploader, size: number): Promise<void> {
  const perOwner = settings.resumableMaxUnfinished > 0 || settings.resumableMaxReservedBytes > 0;
  const perAddress = settings.resumableMaxUnfinishedPerAddress > 0 || settings.resumableMaxReservedBytesPerAddress > 0;
  if (!perOwner && !perAddress) return;
  const { owner, address } = await usageOf(store, uploader);
  checkHeld(owner, size, settings.resumableMaxUnfinished, settings.resumableMaxReservedBytes, '');
  checkHeld(address, size, settings.resumableMaxUnfinishedPerAddress, settings.resumableMaxReservedBytesPerAddress, ' from your address');
}

/** The keys creations are serialised on: the account (if any), then the address, always in that order. */
export function quotaKeysOf(uploader: Uploader): string[] {
  return uploader.user ? [`user:${uploader.user.id}`, `ip:${uploader.ip}`] : [`ip:${uploader.ip}`];
}

/** Runs `work` after every earlier one of the same key has ended (per process). */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `work` holding every key, taken in the order given (callers use one order, so no two wait on each other). */
  async runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
    if (keys.length === 0) return work();
    return this.run(keys[0], () => this.runAll(keys.slice(1), work));
  }

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
