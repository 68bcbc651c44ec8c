import { sql, type Kysely } from 'kysely';
import { formatUtc } from '../../core/dates.js';
import type { Database, WebhookDeliveryRow, WebhookRow } from '../schema.js';

/** Deliveries kept per hook (the newest; pending ones are never trimmed). */
export const DELIVERIES_KEPT = 50;

export interface NewWebhook {
  /** null: site-wide (every user's changes); only admins create those. */
  userId: number | null;
  createdBy: number;
  url: string;
  events: string[];
  secret: string;
}

export async function createWebhook(db: Kysely<Database>, hook: NewWebhook): Promise<WebhookRow> {
  return db
    .insertInto('webhooks')
    .values({ user_id: hook.userId, created_by: hook.createdBy, url: hook.url, events: hook.events.join(','), secret: hook.secret, created_at: formatUtc(new Date()) })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The user's own hooks, and with `siteWide` the site's too. */
export async function listWebhooks(db: Kysely<Database>, userId: number, siteWide: boolean): Promise<WebhookRow[]> {
  return db
    .selectFrom('webhooks')
    .selectAll()
    .where((eb) => (siteWide ? eb.or([eb('user_id', '=', userId), eb('user_id', 'is', null)]) : eb('user_id', '=', userId)))
    .orderBy('id')
    .limit(100)
    .execute();
}

export async function findWebhook(db: Kysely<Database>, id: number): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function deleteWebhook(db: Kysely<Database>, id: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.deleteFrom('webhook_deliveries').where('webhook_id', '=', id).execute();
    await trx.deleteFrom('webhooks').where('id', '=', id).execute();
  });
}

/** Hooks told about a change of `ownerId`'s library: theirs and the site-wide ones, that listen to `event`. */
export async function hooksFor(db: Kysely<Database>, event: string, ownerId: number | null): Promise<WebhookRow[]> {
  const rows = await db
    .selectFrom('webhooks')
    .selectAll()
    .where((eb) => (ownerId === null ? eb('user_id', 'is', null) : eb.or([eb('user_id', '=', ownerId), eb('user_id', 'is', null)])))
    .execute();
  return rows.filter((hook) => hook.events.split(',').includes(event));
}

export interface NewDelivery {
  webhookId: number;
  event: string;
  payload: string;
  /** When the first attempt is due and when retrying stops. */
  now: Date;
  giveUpAt: Date;
}

export async function queueDeliveries(db: Kysely<Database>, deliveries: NewDelivery[]): Promise<void> {
  if (deliveries.length === 0) return;
  await db
    .insertInto('webhook_deliveries')
    .values(deliveries.map((d) => ({
      webhook_id: d.webhookId,
      event: d.event,
      payload: d.payload,
      state: 'pending',
      attempts: 0,
      next_attempt_at: formatUtc(d.now),
      give_up_at: formatUtc(d.giveUpAt),
      claimed_by: null,
      claimed_until: null,
      last_status: null,
      last_response: null,
      created_at: formatUtc(d.now),
      delivered_at: null,
    })))
    .execute();
}

export type ClaimedDelivery = WebhookDeliveryRow & { url: string; secret: string };

/**
 * Claims up to `limit` due deliveries for `holder` until `leaseSeconds` from now: one
 * conditional UPDATE, so two instances never claim the same row (on PostgreSQL the candidate
 * rows are also taken `FOR UPDATE SKIP LOCKED`, so a second instance moves on to other rows
 * instead of waiting). A holder that dies loses its claim when the lease ends.
 */
export async function claimDueDeliveries(db: Kysely<Database>, holder: string, limit: number, now: Date, leaseSeconds: number, postgres: boolean): Promise<ClaimedDelivery[]> {
  const at = formatUtc(now);
  const until = formatUtc(new Date(now.getTime() + leaseSeconds * 1000));
  let candidates = db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('state', '=', 'pending')
    .where('next_attempt_at', '<=', at)
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
    .orderBy('id')
    .limit(limit);
  if (postgres) candidates = candidates.forUpdate().skipLocked();
  const claimed = await db
    .updateTable('webhook_deliveries')
    .set({ claimed_by: holder, claimed_until: until })
    .where('id', 'in', candidates)
    .where('state', '=', 'pending')
    .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', at)]))
    .returning('id')
    .execute();
  if (claimed.length === 0) return [];
  return db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhooks', 'webhooks.id', 'webhook_deliveries.webhook_id')
    .selectAll('webhook_deliveries')
    .select(['webhooks.url', 'webhooks.secret'])
    .where('webhook_deliveries.id', 'in', claimed.map((c) => c.id))
    .where('webhook_deliveries.claimed_by', '=', holder)
    .orderBy('webhook_deliveries.id')
    .execute();
}

export interface DeliveryOutcome {
  state: 'delivered' | 'pending' | 'failed';
  status: number | null;
  response: string;
  nextAttemptAt: Date | null;
  at: Date;
}

/** Records one attempt (only while `holder` still holds the claim) and releases the claim. */
export async function recordDeliveryAttempt(db: Kysely<Database>, id: number, holder: string, outcome: DeliveryOutcome): Promise<void> {
  await db
    .updateTable('webhook_deliveries')
    .set((eb) => ({
      state: outcome.state,
      attempts: eb('attempts', '+', 1),
      last_status: outcome.status,
      last_response: outcome.response,
      claimed_by: null,
      claimed_until: null,
      ...(outcome.nextAttemptAt ? { next_attempt_at: formatUtc(outcome.nextAttemptAt) } : {}),
      ...(outcome.state === 'delivered' ? { delivered_at: formatUtc(outcome.at) } : {}),
    }))
    .where('id', '=', id)
    .where('claimed_by', '=', holder)
    .execute();
}

/** Keeps the newest DELIVERIES_KEPT finished deliveries of a hook. */
export async function trimDeliveries(db: Kysely<Database>, webhookId: number): Promise<void> {
  const cutoff = await db
    .selectFrom('webhook_deliveries')
    .select('id')
    .where('webhook_id', '=', webhookId)
    .orderBy('id', 'desc')
    .offset(DELIVERIES_KEPT - 1)
    .limit(1)
    .executeTakeFirst();
  if (!cutoff) return;
  await db.deleteFrom('webhook_deliveries').where('webhook_id', '=', webhookId).where('id', '<', cutoff.id).where('state', '<>', 'pending').execute();
}

export async function listDeliveries(db: Kysely<Database>, webhookId: number, limit = DELIVERIES_KEPT): Promise<WebhookDeliveryRow[]> {
  return db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId).orderBy('id', 'desc').limit(limit).execute();
}

/** Pending deliveries (tests and operators). */
export async function countPendingDeliveries(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('webhook_deliveries').select(sql<number>`count(*)`.as('n')).where('state', '=', 'pending').executeTakeFirstOrThrow();
  return Number(row.n);
}
