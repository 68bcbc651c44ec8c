import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Uploader } from '../../ingest/ingest-upload.js';
import { resumableResultsDirectory } from '../../ingest/resumable-parts.js';

// Who started a resumable upload, and the answer a finished one got (the folders: ingest/resumable-parts.ts).

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

export interface StoredOutcome {
  owner: string;
  status: number;
  body: unknown;
}

export async function writeOutcome(dataDir: string, id: string, outcome: StoredOutcome): Promise<void> {
  const dir = resumableResultsDirectory(dataDir);
  await mkdir(dir, { recursive: true });
  // Written aside then renamed, so a reader never sees half a file.
  const target = path.join(dir, `${id}.json`);
  await writeFile(`${target}.part`, JSON.stringify(outcome));
  await rename(`${target}.part`, target);
}

export async function readOutcome(dataDir: string, id: string): Promise<StoredOutcome | null> {
  if (!isResumableId(id)) return null;
  try {
    return JSON.parse(await readFile(path.join(resumableResultsDirectory(dataDir), `${id}.json`), 'utf8')) as StoredOutcome;
  } catch {
    return null;
  }
}
