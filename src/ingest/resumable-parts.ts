import { readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where resumable uploads live while they are unfinished on local storage:
 * `<data>/tmp/tus/<id>` (the bytes so far) and `<id>.json` (tus' info: size, metadata,
 * creation date). `temp-cleanup` only touches `ingest-*`/`api-*` folders, so these are removed
 * by `removeExpiredResumableUploads`. (With S3 storage they are in the bucket: resumable-store.ts.)
 */
export function resumableDirectory(dataDir: string): string {
  return path.join(dataDir, 'tmp', 'tus');
}

/**
 * Removes resumable uploads older than `expirySeconds` (counted from their creation, as tus'
 * Upload-Expires header promises the client) and parts without an info file. Safe on several
 * instances at once: removing a file twice is not an error. Returns how many it removed.
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
