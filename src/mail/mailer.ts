import { createRequire } from 'node:module';
import type { Transporter } from 'nodemailer';

const require = createRequire(import.meta.url);

/**
 * Email for the rest of Shoebox, behind one narrow interface: accounts (password resets,
 * address checks) and moderation (reports to admins) hand it a finished message and never see
 * SMTP. The text of a message is the caller's, already in the recipient's language
 * (`composeMail` in compose.ts builds the usual shape).
 */
export interface MailMessage {
  to: string;
  subject: string;
  /** Plain text: always sent. */
  text: string;
  /** HTML alternative (optional). */
  html?: string;
}

export interface Mailer {
  /** False when no SHOEBOX_SMTP_URL is set: pages then tell people to ask the admin. */
  readonly enabled: boolean;
  /** Sends one message; rejects when the mail server refuses it or cannot be reached. */
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export class MailNotConfiguredError extends Error {
  constructor() {
    super('This site sends no email (SHOEBOX_SMTP_URL is not set)');
  }
}

/** Header injection is refused here, whatever the caller passes. */
function assertHeaderSafe(value: string, name: string): void {
  if (/[\r\n]/.test(value)) throw new Error(`mail ${name} must be one line`);
}

class SmtpMailer implements Mailer {
  readonly enabled = true;
  private readonly transport: Transporter;

  constructor(smtpUrl: string, private readonly from: () => MailSender) {
    // nodemailer reads user, password, host, port and smtps: (TLS from the start) from the URL,
    // and upgrades smtp: with STARTTLS when the server offers it.
    // Loaded here, so a site without SHOEBOX_SMTP_URL never loads nodemailer (it costs start-up time).
    const nodemailer = require('nodemailer') as typeof import('nodemailer');
    this.transport = nodemailer.createTransport(smtpUrl);
  }

  async send(message: MailMessage): Promise<void> {
    assertHeaderSafe(message.to, 'recipient');
    assertHeaderSafe(message.subject, 'subject');
    const from = this.from();
    assertHeaderSafe(typeof from === 'string' ? from : `${from.name} ${from.address}`, 'sender');
    await this.transport.sendMail({ from, to: message.to, subject: message.subject, text: message.text, html: message.html });
  }

  close(): void {
    this.transport.close();
  }
}

const disabledMailer: Mailer = {
  enabled: false,
  async send() {
    throw new MailNotConfiguredError();
  },
  close() {},
};

/** The From of a message: `Name <address>` as text, or a name and an address (nodemailer quotes and encodes the name). */
export type MailSender = string | { name: string; address: string };

/**
 * The From of an email sent now: SHOEBOX_MAIL_FROM when set, else the site's current name
 * (it follows the dashboard) at no-reply@ the base URL's host. Read at each send.
 */
export function mailSenderOf(settings: { mailFrom: string | undefined; siteName: string; baseUrl: string }): MailSender {
  return settings.mailFrom ?? { name: settings.siteName, address: `no-reply@${new URL(settings.baseUrl).hostname}` };
}

/**
 * The site's mailer: SMTP when `smtpUrl` is set, else one that sends nothing. `from` is the
 * sender, or a function read at each send (the site's name may change while it runs).
 */
export function createMailer(settings: { smtpUrl: string | undefined; from: MailSender | (() => MailSender) }): Mailer {
  const from = settings.from;
  return settings.smtpUrl ? new SmtpMailer(settings.smtpUrl, typeof from === 'function' ? from : () => from) : disabledMailer;
}
