import type { FastifyRequest } from 'fastify';
import type { AccountMailServices } from '../../accounts/account-services.js';
import { isLanguage, matchLanguage } from '../i18n.js';
import type { WebKit } from '../web-kit.js';

/** Notices (?notice=...) the account pages may ask the next page to show; web-kit.ts adds these to its own. */
export const ACCOUNT_NOTICES = [
  'password-reset', 'two-factor-enabled', 'two-factor-disabled', 'two-factor-required', 'recovery-codes-new', 'email-changed',
  'email-change-sent', 'email-verified', 'profile-saved', 'avatar-saved', 'avatar-removed', 'account-deleted',
] as const;

/** Sign-in throttling of the account pages, counted in the shared hit counter (holds across instances). */
export const ACCOUNT_WINDOW_SECONDS = 900;

/**
 * The email pieces of the site for the account services: the mailer, links, and text in the
 * recipient's language (their account's, else the site's default). The moderation work can
 * build its own the same way.
 */
export function accountMailServices(kit: WebKit): AccountMailServices {
  const { ctx } = kit;
  const fallback = matchLanguage(ctx.settings.defaultLanguage) ?? 'en';
  return {
    db: ctx.db,
    urls: ctx.urls,
    mailer: ctx.mailer,
    // Read at each use: the dashboard may rename the site while it runs.
    get siteName() {
      return ctx.settings.siteName;
    },
    textFor: (language) => {
      const { t, lang } = kit.translate(isLanguage(language) ? language : fallback);
      return { lang, t: (key, options) => (options ? t(key, options) : t(key)) as string };
    },
  };
}

/** Sends in the background and logs a failure: the page's answer must not wait on (or reveal) the mail server. */
export function sendInBackground(request: FastifyRequest, what: string, send: () => Promise<unknown>): void {
  void send().catch((error: unknown) => request.log.error({ err: error }, `${what}: sending the email failed`));
}
