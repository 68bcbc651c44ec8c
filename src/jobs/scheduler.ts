import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { AppContext } from '../context.js';
import { metricsFor } from '../metrics/metrics.js';
import { backgroundJobs, type BackgroundJob } from './background-jobs.js';
import { claimJobRun, finishJobRun } from '../db/repositories/job-runs.js';

export interface RunningJobs {
  stop(): Promise<void>;
  /** Runs every job once now, claimed or not (tests and the CLI use it). */
  runOnce(): Promise<void>;
}

/** Who holds a job run, for operators reading `job_runs`: host, process and a random tag (pids repeat in containers). */
export function instanceName(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * Background work on an interval, in every instance. Each tick, instance jobs run here;
 * cluster jobs run only when this instance claims their due run, so with N instances the
 * expiry sweep still runs once per interval (and its items are locked one by one on
 * PostgreSQL, should two runs ever overlap). One SQLite process simply always wins the claim.
 */
export function startBackgroundJobs(ctx: AppContext, log: Pick<FastifyBaseLogger, 'info' | 'error'>, jobs: BackgroundJob[] = backgroundJobs): RunningJobs {
  const holder = instanceName();
  const interval = ctx.settings.sweepIntervalSeconds;
  const metrics = metricsFor(ctx);
  let running: Promise<void> | null = null;

  const runJob = async (job: BackgroundJob, claim: boolean) => {
    try {
      if (claim && job.scope === 'cluster' && !(await claimJobRun(ctx.db, job.name, interval, holder))) return;
      const handled = await job.run(ctx);
      metrics.jobRuns.inc({ job: job.name, outcome: 'ok' });
      metrics.jobItems.inc({ job: job.name }, handled);
      if (handled > 0) log.info({ job: job.name, handled }, 'background job done');
      if (claim && job.scope === 'cluster') await finishJobRun(ctx.db, job.name, holder);
    } catch (error) {
      metrics.jobRuns.inc({ job: job.name, outcome: 'failed' });
      log.error({ err: error, job: job.name }, 'background job failed');
    }
  };
  const runAll = async (claim: boolean) => {
    for (const job of jobs) await runJob(job, claim);
  };

  const tick = () => {
    if (running) return;
    running = runAll(true).finally(() => {
      running = null;
    });
  };
  const timer = setInterval(tick, interval * 1000);
  timer.unref();
  setImmediate(tick);
  return {
    async runOnce() {
      while (running) await running;
      running = runAll(false).finally(() => {
        running = null;
      });
      await running;
    },
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
