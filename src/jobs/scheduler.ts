import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { sweepExpiredImages } from './expiry-sweep.js';
import { removeAbandonedTempFiles } from './temp-cleanup.js';

export interface RunningJobs {
  stop(): Promise<void>;
  /** Runs every job once now (tests and the CLI use it). */
  runOnce(): Promise<void>;
}

/** Background work on an interval. Each job is safe to run on several instances at once. */
export function startBackgroundJobs(ctx: AppContext, log: Pick<FastifyBaseLogger, 'info' | 'error'>): RunningJobs {
  let running: Promise<void> | null = null;
  const runOnce = async () => {
    const expired = await sweepExpiredImages(ctx.db, ctx.storage);
    const temp = await removeAbandonedTempFiles(ctx.settings.dataDir);
    if (expired || temp) log.info({ expired, temp }, 'background sweep');
  };
  const tick = () => {
    if (running) return;
    running = runOnce()
      .catch((error) => log.error({ err: error }, 'background sweep failed'))
      .finally(() => {
        running = null;
      });
  };
  const timer = setInterval(tick, ctx.settings.sweepIntervalSeconds * 1000);
  timer.unref();
  setImmediate(tick);
  return {
    runOnce,
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
