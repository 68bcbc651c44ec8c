import { randomBytes } from 'node:crypto';
import { readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { removeQuietly } from '../ingest/spool.js';

/** Work folders under `<data>/tmp`: the API's spool (`api-`), V4's (`api4-`), the ingest pipeline's (`ingest-`), the CLI's copies (`migrate-`) and `shoebox doctor`'s (`doctor-`). */
const WORK_FOLDER = /^(ingest|api|api4|migrate|doctor)-/;
/** A folder a cleaner has claimed; one left behind means that cleaner died mid-removal. */
const CLAIMED_FOLDER = /^trash-/;

export const DEFAULT_TEMP_MAX_AGE_MS = 3600 * 1000;

/**
 * Removes work folders under `<data>/tmp` left behind by a crash (a killed instance, a power
 * cut). A folder counts as abandoned when nothing in it has been written for `olderThanMs`:
 * a live upload keeps writing its spool file, so even a slow one is never taken.
 *
 * Several instances may share a data folder. Each folder is claimed by renaming it first
 * (a rename succeeds for exactly one of them), so it is removed, and counted, once.
 */
export async function removeAbandonedTempFiles(dataDir: string, olderThanMs = DEFAULT_TEMP_MAX_AGE_MS, now = Date.now()): Promise<number> {
  const tmpRoot = path.join(dataDir, 'tmp');
  let entries: string[];
  try {
    entries = await readdir(tmpRoot);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const entry of entries) {
    const full = path.join(tmpRoot, entry);
    if (CLAIMED_FOLDER.test(entry)) {
      await removeQuietly(full);
      continue;
    }
    if (!WORK_FOLDER.test(entry)) continue;
    const lastWrite = await lastWriteIn(full);
    if (lastWrite === null || now - lastWrite <= olderThanMs) continue;
    const claimed = path.join(tmpRoot, `trash-${randomBytes(6).toString('hex')}-${entry}`);
    try {
      await rename(full, claimed);
    } catch {
      continue; // Another cleaner took it, or it is gone.
    }
    await removeQuietly(claimed);
    removed++;
  }
  return removed;
}

/** The newest modification time of a folder and everything in it (null when it vanished). */
async function lastWriteIn(folder: string): Promise<number | null> {
  const info = await stat(folder).catch(() => null);
  if (!info) return null;
  let newest = info.mtimeMs;
  if (!info.isDirectory()) return newest;
  const children = await readdir(folder, { recursive: true }).catch(() => [] as string[]);
  for (const child of children) {
    const childInfo = await stat(path.join(folder, child)).catch(() => null);
    if (childInfo && childInfo.mtimeMs > newest) newest = childInfo.mtimeMs;
  }
  return newest;
}
