import type { AppContext } from '../context.js';
import { deleteExpiredSessions } from '../db/repositories/sessions.js';
import { removeExpiredLocalResumableUploads, removeExpiredSharedResumableState } from '../ingest/resumable-store.js';
import { sweepExpiredImages } from './expiry-sweep.js';
import { releaseStaleNameClaims } from './stale-name-claims.js';
import { removeAbandonedTempFiles } from './temp-cleanup.js';
import { deliverDueWebhooks } from '../webhooks/deliver-webhooks.js';

/**
 * One kind of background work. `cluster` jobs work on shared state (the database, the
 * bucket): each due run is claimed by one instance (job-runs.ts) and their items are claimed
 * with row locks on PostgreSQL. `instance` jobs clean this instance's own data folder, so
 * every instance runs them; they claim each folder by renaming it, in case the folder is shared.
 */
export interface BackgroundJob {
  name: string;
  scope: 'cluster' | 'instance';
  /** Does the work once; returns how many items it handled. */
  run(ctx: AppContext): Promise<number>;
}

export const backgroundJobs: BackgroundJob[] = [
  { name: 'expiry-sweep', scope: 'cluster', run: (ctx) => sweepExpiredImages(ctx.db, ctx.storage) },
  { name: 'expired-sessions', scope: 'cluster', run: (ctx) => deleteExpiredSessions(ctx.db) },
  { name: 'stale-name-claims', scope: 'cluster', run: (ctx) => releaseStaleNameClaims(ctx.db, ctx.storage, new Date(), ctx.settings.uploadClaimTimeoutSeconds) },
  // Retries and anything the prompt delivery missed; each delivery is claimed on its own row.
  { name: 'webhook-deliveries', scope: 'cluster', run: (ctx) => deliverDueWebhooks(ctx) },
  { name: 'temp-cleanup', scope: 'instance', run: (ctx) => removeAbandonedTempFiles(ctx.settings.dataDir, ctx.settings.tempMaxAgeSeconds * 1000) },
  { name: 'resumable-cleanup', scope: 'instance', run: (ctx) => removeExpiredLocalResumableUploads(ctx.settings) },
  { name: 'resumable-shared-cleanup', scope: 'cluster', run: (ctx) => removeExpiredSharedResumableState(ctx.settings, ctx.db) },
];

/** Runs every job once, now, unclaimed (`shoebox sweep`); returns what each handled. */
export async function runEveryJobOnce(ctx: AppContext, jobs: BackgroundJob[] = backgroundJobs): Promise<Record<string, number>> {
  const handled: Record<string, number> = {};
  for (const job of jobs) handled[job.name] = await job.run(ctx);
  return handled;
}
