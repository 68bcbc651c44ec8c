import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyBaseLogger } from 'fastify';
import { ShoeboxError } from '../core/errors.js';
import { claimDueDeliveries, recordDeliveryAttempt, trimDeliveries, type ClaimedDelivery } from '../db/repositories/webhooks.js';
import { postToUrl } from '../ingest/fetch-url-source.js';
import { isPostgres } from '../db/dialect.js';
import { signDelivery } from './signature.js';
import type { WebhookServices } from './webhook-queue.js';

const BATCH = 20;
/** A claim outlives the slowest attempt (the fetch timeout) with room to record it. */
const LEASE_SECONDS = 120;
const FIRST_RETRY_SECONDS = 30;
const LONGEST_WAIT_SECONDS = 6 * 3600;

/** Waits between attempts: 30 s, 1 min, 2 min, ... doubling up to 6 h, until the day is over. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(LONGEST_WAIT_SECONDS, FIRST_RETRY_SECONDS * 2 ** Math.max(0, attempts - 1));
}

/** This process in `claimed_by`: host, pid and a random tag (pids repeat in containers). */
export const PROCESS_HOLDER = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;

export interface DeliveryRun {
  /** Identifies this instance in `claimed_by` (default PROCESS_HOLDER). */
  holder?: string;
  now?: () => Date;
}

async function attempt(services: WebhookServices, delivery: ClaimedDelivery, now: Date): Promise<{ ok: boolean; status: number | null; response: string }> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const headers = {
    'Content-Type': 'application/json; charset=utf-8',
    'X-Shoebox-Event': delivery.event,
    'X-Shoebox-Delivery': String(delivery.id),
    'X-Shoebox-Timestamp': String(timestamp),
    'X-Shoebox-Signature': signDelivery(delivery.secret, timestamp, delivery.payload),
  };
  try {
    const answer = await postToUrl(delivery.url, Buffer.from(delivery.payload), headers, {
      timeoutMs: services.settings.urlFetchTimeoutMs,
      allowPrivateAddresses: services.settings.allowPrivateUrls,
      userAgent: 'Shoebox/0.1 (+webhook)',
      maxAnswerBytes: 2048,
    });
    return { ok: answer.status >= 200 && answer.status < 300, status: answer.status, response: answer.answer };
  } catch (error) {
    return { ok: false, status: null, response: error instanceof ShoeboxError ? error.message : 'delivery failed' };
  }
}

/**
 * Sends the deliveries that are due, batch by batch, each claimed first (so with several
 * instances each is sent by one of them), records the answer and schedules the retry.
 * Returns how many attempts were made.
 */
export async function deliverDueWebhooks(services: WebhookServices, run: DeliveryRun = {}): Promise<number> {
  const clock = run.now ?? (() => new Date());
  const holder = run.holder ?? PROCESS_HOLDER;
  const postgres = isPostgres(services.db);
  let attempts = 0;
  for (;;) {
    const claimed = await claimDueDeliveries(services.db, holder, BATCH, clock(), LEASE_SECONDS, postgres);
    if (claimed.length === 0) return attempts;
    for (const delivery of claimed) {
      const result = await attempt(services, delivery, clock());
      const at = clock();
      attempts++;
      const tries = delivery.attempts + 1;
      const giveUpAt = new Date(`${delivery.give_up_at.replace(' ', 'T')}Z`);
      let state: 'delivered' | 'pending' | 'failed' = 'delivered';
      let nextAttemptAt: Date | null = null;
      if (!result.ok) {
        const next = new Date(at.getTime() + retryDelaySeconds(tries) * 1000);
        if (at >= giveUpAt) state = 'failed';
        else {
          state = 'pending';
          nextAttemptAt = next < giveUpAt ? next : giveUpAt;
        }
      }
      await recordDeliveryAttempt(services.db, delivery.id, holder, { state, status: result.status, response: result.response, nextAttemptAt, at });
      if (state !== 'pending') await trimDeliveries(services.db, delivery.webhook_id);
    }
  }
}

/**
 * Delivers promptly from this process after a change queued something (the background job
 * catches whatever this misses: retries, other instances' queues, a restart). One run at a
 * time; a kick during a run makes it go round once more.
 */
export function promptDelivery(services: WebhookServices, holder: string | undefined, log: Pick<FastifyBaseLogger, 'error'>) {
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  const loop = async () => {
    do {
      again = false;
      try {
        await deliverDueWebhooks(services, { holder });
      } catch (error) {
        if (!stopped) log.error({ err: error }, 'webhook delivery failed');
      }
    } while (again && !stopped);
  };
  return {
    kick() {
      if (stopped) return;
      if (running) {
        again = true;
        return;
      }
      running = loop().finally(() => {
        running = null;
      });
    },
    /** Waits for the current run (tests, shutdown). */
    async idle() {
      while (running) await running;
    },
    async stop() {
      stopped = true;
      while (running) await running;
    },
  };
}
