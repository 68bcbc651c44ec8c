/**
 * A counter of changes made through this process: bumped after every request that may have
 * changed something (any POST, PUT, PATCH or DELETE, server.ts) and by every write query sent
 * through this process's database handle (db/database.ts, `NoteWritesPlugin`: jobs, the view
 * counter, the CLI in-process, tests). What was read while the counter stood still is still what
 * the database holds, as far as this process knows: the page cache (web/page-cache.ts) and the
 * session cache (web/session.ts) use that to skip reading rows again for a moment. Changes
 * made by another instance on the same database are not seen here; those caches re-read at
 * least once a second.
 */
let localChanges = 0;

export function noteLocalChange(): void {
  localChanges++;
}

export function localChangeCount(): number {
  return localChanges;
}
