import type { Kysely } from 'kysely';
import { countOpenReports, listMailableAdmins, openReportsAfter, swapVariable } from '../db/repositories/moderation.js';
import { getVariable } from '../db/repositories/variables.js';
import type { Database } from '../db/schema.js';

/**
 * Email to the admins about new reports (when SMTP is set), batched so a flood of reports is
 * not a flood of mail: at most one mail per admin every SHOEBOX_REPORT_MAIL_INTERVAL seconds.
 *
 * The first report after a quiet spell is mailed at once. Reports during the interval after a
 * mail are held; when it ends, one mail tells about all of them (this instance sets a timer
 * when it holds one; a report arriving after the interval sends everything held as well). What
 * was told is kept in the database (`variables.report_mail`: when, and the last report id), and
 * the instance that sends is the one whose compare-and-set of it wins, so several instances
 * never send the same news twice.
 */

export const REPORT_MAIL_STATE = 'report_mail';

export interface ReportDigest {
  /** Reports since the last mail. */
  newReports: number;
  /** By reason, of those. */
  reasons: Record<string, number>;
  /** Open reports in all (the queue's length). */
  openReports: number;
}

export interface AdminRecipient {
  username: string;
  email: string;
  language: string | null;
}

export interface ReportMailServices {
  db: Kysely<Database>;
  intervalSeconds: () => number;
  /** Whether mail can be sent at all (SHOEBOX_SMTP_URL set). */
  enabled: boolean;
  /** Sends one message to one admin, in their language. */
  send(admin: AdminRecipient, digest: ReportDigest): Promise<void>;
  onError(error: unknown): void;
}

interface MailState {
  at: number;
  lastId: number;
}

function parseState(text: string | undefined): MailState {
  try {
    const value = JSON.parse(text ?? '') as Partial<MailState>;
    if (typeof value.at === 'number' && typeof value.lastId === 'number') return { at: value.at, lastId: value.lastId };
  } catch {
    // Not set yet.
  }
  return { at: 0, lastId: 0 };
}

export type ReportMailOutcome = 'sent' | 'held' | 'nothing' | 'off';

export class ReportNotifier {
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(private readonly services: ReportMailServices) {}

  /** After a report is saved: mails the admins now, or holds it for the next mail. */
  async reportAdded(now = Date.now()): Promise<ReportMailOutcome> {
    return this.flush(now);
  }

  async flush(now = Date.now()): Promise<ReportMailOutcome> {
    const { db } = this.services;
    if (!this.services.enabled || this.closed) return 'off';
    const stored = await getVariable(db, REPORT_MAIL_STATE);
    const state = parseState(stored);
    const intervalMs = this.services.intervalSeconds() * 1000;
    const fresh = await openReportsAfter(db, state.lastId);
    if (fresh.length === 0) return 'nothing';
    if (now - state.at < intervalMs) {
      this.schedule(state.at + intervalMs - now);
      return 'held';
    }
    const next: MailState = { at: now, lastId: fresh[fresh.length - 1].id };
    if (!(await swapVariable(db, REPORT_MAIL_STATE, stored, JSON.stringify(next)))) return 'held';
    const reasons: Record<string, number> = {};
    for (const report of fresh) reasons[report.reason] = (reasons[report.reason] ?? 0) + 1;
    const digest: ReportDigest = { newReports: fresh.length, reasons, openReports: await countOpenReports(db) };
    const admins = await listMailableAdmins(db);
    const results = await Promise.allSettled(admins.map((admin) => this.services.send(admin, digest)));
    for (const result of results) if (result.status === 'rejected') this.services.onError(result.reason);
    return 'sent';
  }

  /** One timer per instance, for the end of the current interval. */
  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush().catch((error: unknown) => this.services.onError(error));
    }, Math.max(delayMs, 0) + 50);
    this.timer.unref();
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
