import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { removeQuietly } from '../ingest/spool.js';

/** Removes work folders under `<data>/tmp` left behind by a crash (a live upload never takes this long). */
export async function removeAbandonedTempFiles(dataDir: string, olderThanMs = 6 * 3600 * 1000, now = Date.now()): Promise<number> {
  const tmpRoot = path.join(dataDir, 'tmp');
  let entries: string[];
  try {
    entries = await readdir(tmpRoot);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const entry of entries) {
    if (!/^(ingest|api)-/.test(entry)) continue;
    const full = path.join(tmpRoot, entry);
    const info = await stat(full).catch(() => null);
    if (info && now - info.mtimeMs > olderThanMs) {
      await removeQuietly(full);
      removed++;
    }
  }
  return removed;
}
