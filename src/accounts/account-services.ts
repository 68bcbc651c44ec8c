import type { Kysely } from 'kysely';
import type { SiteUrls } from '../core/site-urls.js';
import type { Database } from '../db/schema.js';
import type { Mailer } from '../mail/mailer.js';
import type { Storage } from '../storage/storage.js';

/** What the account services need, and no more (the web layer passes pieces of its AppContext). */
export interface AccountLinkServices {
  db: Kysely<Database>;
  urls: Pick<SiteUrls, 'absolute'>;
}

export interface AccountMailServices extends AccountLinkServices {
  mailer: Mailer;
  /** The mail text in a language: the recipient's own (their account's), else the site default. */
  textFor: (language: string | null) => MailText;
  siteName: string;
}

export interface AccountStorageServices {
  db: Kysely<Database>;
  storage: Storage;
}

/** A translator for email text, as the web layer's i18next gives one. */
export interface MailText {
  lang: string;
  t: (key: string, options?: Record<string, unknown>) => string;
}
