import type { Uploader } from '../../ingest/ingest-upload.js';

// Who started a resumable upload (the answer a finished one got is kept in the database: resumable_results).

/** tus ids are `randomBytes(16).toString('hex')`: anything else never names one of our files. */
export function isResumableId(id: string): boolean {
  return /^[0-9a-f]{32}$/.test(id);
}

/** The metadata key that records who started an upload; clients cannot set it (it is overwritten at creation). */
export const OWNER_KEY = 'shoebox_owner';

export type UploadOwner = { kind: 'user'; userId: number } | { kind: 'guest' };

export function ownerTag(uploader: Uploader): string {
  return uploader.user ? `user:${uploader.user.id}` : 'guest';
}

export function parseOwnerTag(tag: string | null | undefined): UploadOwner | null {
  if (tag === 'guest') return { kind: 'guest' };
  const match = /^user:(\d+)$/.exec(tag ?? '');
  return match ? { kind: 'user', userId: Number(match[1]) } : null;
}

/**
 * A user's upload continues only for that user. A guest upload has no account to check, so
 * its unguessable 128-bit id is the capability (as for any tus server without accounts).
 */
export function mayContinue(owner: UploadOwner | null, requester: Uploader): boolean {
  if (!owner) return false;
  return owner.kind === 'guest' || requester.user?.id === owner.userId;
}
