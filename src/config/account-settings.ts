/**
 * Settings of accounts and email (issue 16, "accounts for life"), kept beside the main table in
 * settings.ts, which spreads these in. Same rules: a default that works on a laptop, a clear
 * error for a bad value, every name in the README.
 */

import { SettingsError } from './settings.js';

type Get = (name: string) => string | undefined;

export interface AccountSettings {
  /** smtp://user:pass@host:587 or smtps://...; undefined: the site sends no email. */
  smtpUrl: string | undefined;
  /** The From of every email as set (an address, or `Name <address>`); undefined: the site's name at no-reply@ the base URL's host (mailSenderOf). */
  mailFrom: string | undefined;
  /** `required`: web sign-ups confirm their email address before they can sign in. */
  emailVerification: 'off' | 'required';
  /** Admins must turn on two-factor sign-in before they can use the site. */
  require2faForAdmins: boolean;
}

export const accountSettingDefinitions = [
  { env: 'SHOEBOX_SMTP_URL', defaultText: '(none: no email)', description: 'Mail server for password resets and address checks: `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://user:pass@host:465`' },
  { env: 'SHOEBOX_MAIL_FROM', defaultText: '<site name> <no-reply@HOST of the base URL>', description: 'Sender of every email (unset: named after SHOEBOX_SITE_NAME, as the dashboard sets it)' },
  { env: 'SHOEBOX_EMAIL_VERIFICATION', defaultText: 'off', description: '`required`: a web sign-up must open the link emailed to it before signing in (needs SHOEBOX_SMTP_URL); `off`: no check' },
  { env: 'SHOEBOX_REQUIRE_2FA_FOR_ADMINS', defaultText: '0', description: '1: an admin without two-factor sign-in is sent to set it up before anything else' },
];

export function parseAccountSettings(get: Get, baseUrl: string): AccountSettings {
  const smtpUrl = get('SHOEBOX_SMTP_URL');
  if (smtpUrl !== undefined) {
    let protocol = '';
    try {
      protocol = new URL(smtpUrl).protocol;
    } catch {
      // reported below
    }
    if (protocol !== 'smtp:' && protocol !== 'smtps:') {
      throw new SettingsError('SHOEBOX_SMTP_URL: expected smtp://user:pass@host:587 or smtps://user:pass@host:465');
    }
  }
  const verification = get('SHOEBOX_EMAIL_VERIFICATION') ?? 'off';
  if (verification !== 'off' && verification !== 'required') {
    throw new SettingsError(`SHOEBOX_EMAIL_VERIFICATION: "${verification}" must be one of off, required`);
  }
  if (verification === 'required' && !smtpUrl) {
    throw new SettingsError('SHOEBOX_EMAIL_VERIFICATION=required needs SHOEBOX_SMTP_URL: the site must be able to send the links');
  }
  const require2fa = (get('SHOEBOX_REQUIRE_2FA_FOR_ADMINS') ?? '0').trim().toLowerCase();
  if (!['0', '1', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(require2fa)) {
    throw new SettingsError(`SHOEBOX_REQUIRE_2FA_FOR_ADMINS: "${require2fa}" is not 0 or 1`);
  }
  const mailFrom = get('SHOEBOX_MAIL_FROM');
  if (mailFrom !== undefined && (/[\r\n]/.test(mailFrom) || !/@/.test(mailFrom))) throw new SettingsError('SHOEBOX_MAIL_FROM: expected an address such as Photos <photos@example.com>');
  return {
    smtpUrl,
    mailFrom,
    emailVerification: verification,
    require2faForAdmins: ['1', 'true', 'yes', 'on'].includes(require2fa),
  };
}

