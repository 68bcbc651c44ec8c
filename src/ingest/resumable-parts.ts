import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where resumable uploads live while they are unfinished, and what is kept of them after:
 * `<data>/tmp/tus/<id>` (the bytes so far) and `<id>.json` (tus' info: size, metadata,
 * creation date), then `<data>/tmp/tus-results/<id>.json` (the API response of the finished
 * upload, for a client whose last PATCH answer was lost). `temp-cleanup` only touches
 * `ingest-*`/`api-*` folders, so these are removed by `removeExpiredResumableUploads`.
 */
export function resumableDirectory(dataDir: string): string {
  return path.join(dataDir, 'tmp', 'tus');
}

export function resumableResultsDirectory(dataDir: string): string {
  return path.join(dataDir, 'tmp', 'tus-results');
}

/**
 * Removes resumable uploads older than `expirySeconds` (counted from their creation, as tus'
 * Upload-Expires header promises the client), parts without an info file, and the kept
 * results of finished uploads. Safe on several instances at once: removing a file twice is
 * not an error. Returns how many uploads and results it removed.
 */
export async function removeExpiredResumableUploads(dataDir: string, expirySeconds: number, now = Date.now()): Promise<number> {
  const cutoff = now - expirySeconds * 1000;
  let removed = 0;
  const uploads = resumableDirectory(dataDir);
  const names = await readdir(uploads).catch(() => [] as string[]);
  const infoFiles = new Set(names.filter((n) => n.endsWith('.json')));
  for (const name of names) {
    const full = path.join(uploads, name);
    if (name.endsWith('.json')) {
      const created = await creationTimeOf(full);
      if (created !== null && created < cutoff) {
        await rm(path.join(uploads, name.slice(0, -'.json'.length)), { force: true });
        await rm(full, { force: true });
        removed++;
      }
    } else if (!infoFiles.has(`${name}.json`)) {
      // Parts whose info file is gone (a crash between the two writes) age out by mtime.
      const info = await stat(full).catch(() => null);
      if (info && info.mtimeMs < cutoff) {
        await rm(full, { recursive: true, force: true });
        removed++;
      }
    }
  }
  const results = resumableResultsDirectory(dataDir);
  for (const name of await readdir(results).catch(() => [] as string[])) {
    const full = path.join(results, name);
    const info = await stat(full).catch(() => null);
    if (info && info.mtimeMs < cutoff) {
      await rm(full, { force: true });
      removed++;
    }
  }
  return removed;
}

/** creation_date from tus' info file; an unreadable info file falls back to its mtime. */
async function creationTimeOf(infoFile: string): Promise<number | null> {
  try {
    const parsed = JSON.parse(await readFile(infoFile, 'utf8')) as { creation_date?: string };
    const time = parsed.creation_date ? Date.parse(parsed.creation_date) : NaN;
    if (Number.isFinite(time)) return time;
  } catch {
    // fall through to mtime
  }
  const info = await stat(infoFile).catch(() => null);
  return info ? info.mtimeMs : null;
}
