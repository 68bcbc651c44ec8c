import type { UserRow } from '../db/schema.js';
import { createAccountToken, deleteAccountTokens, findLiveAccountToken, spendAccountToken, type AccountTokenRow } from '../db/repositories/account-tokens.js';
import { markEmailVerified, setUserEmail } from '../db/repositories/account-security.js';
import { findUserById } from '../db/repositories/users.js';
import { composeMail } from '../mail/compose.js';
import type { AccountMailServices } from './account-services.js';

/**
 * Emailed links that prove an address: the check after a web sign-up
 * (SHOEBOX_EMAIL_VERIFICATION=required) and a change of address (the link goes to the new
 * address; the address changes only when it is opened).
 */
export const EMAIL_LINK_LIFETIME_SECONDS = 2 * 86_400;

async function sendLink(services: AccountMailServices, user: UserRow, to: string, kind: 'verify' | 'change', token: string): Promise<void> {
  const { t, lang } = services.textFor(user.language);
  const hours = EMAIL_LINK_LIFETIME_SECONDS / 3600;
  await services.mailer.send(composeMail({
    to,
    subject: t(`email.${kind}.subject`, { site: services.siteName }),
    greeting: t('email.greeting', { name: user.display_name || user.username }),
    paragraphs: [t(`email.${kind}.body`, { site: services.siteName, username: user.username, email: to }), t('email.link-expires', { count: hours })],
    action: { label: t(`email.${kind}.action`), url: services.urls.absolute(`/email/confirm/${token}`) },
    footer: t('email.ignore'),
    lang,
  }));
}

/** Emails the sign-up check link to the account's address (earlier links of the account stop working). */
export async function sendVerificationEmail(services: AccountMailServices, user: UserRow): Promise<void> {
  if (!user.email) return;
  await deleteAccountTokens(services.db, user.id, ['email-verify']);
  const token = await createAccountToken(services.db, { userId: user.id, purpose: 'email-verify', email: user.email, lifetimeSeconds: EMAIL_LINK_LIFETIME_SECONDS });
  await sendLink(services, user, user.email, 'verify', token);
}

/** Emails a link to `newEmail`; the account's address changes when it is opened. */
export async function sendEmailChangeEmail(services: AccountMailServices, user: UserRow, newEmail: string): Promise<void> {
  await deleteAccountTokens(services.db, user.id, ['email-change']);
  const token = await createAccountToken(services.db, { userId: user.id, purpose: 'email-change', email: newEmail, lifetimeSeconds: EMAIL_LINK_LIFETIME_SECONDS });
  await sendLink(services, user, newEmail, 'change', token);
}

export interface PendingEmailLink {
  purpose: 'email-verify' | 'email-change';
  email: string;
  user: UserRow;
}

/** What an emailed link would do, while it is unused and unexpired (the page asks before it does it). */
export async function findEmailLink(services: Pick<AccountMailServices, 'db'>, token: string): Promise<PendingEmailLink | undefined> {
  const row = (await findLiveAccountToken(services.db, token, 'email-verify')) ?? (await findLiveAccountToken(services.db, token, 'email-change'));
  return row ? pendingOf(services, row) : undefined;
}

async function pendingOf(services: Pick<AccountMailServices, 'db'>, row: AccountTokenRow): Promise<PendingEmailLink | undefined> {
  const user = await findUserById(services.db, row.user_id);
  return user && row.email ? { purpose: row.purpose as PendingEmailLink['purpose'], email: row.email, user } : undefined;
}

/**
 * Uses an emailed link once. `verified`: the sign-up's address is confirmed; `changed`: the
 * account now has the new address; `taken`: another account took that address meanwhile;
 * undefined: unknown, expired or used.
 */
export async function confirmEmailLink(services: Pick<AccountMailServices, 'db'>, token: string): Promise<{ result: 'verified' | 'changed' | 'taken'; user: UserRow } | undefined> {
  const row = (await spendAccountToken(services.db, token, 'email-verify')) ?? (await spendAccountToken(services.db, token, 'email-change'));
  if (!row) return undefined;
  const pending = await pendingOf(services, row);
  if (!pending) return undefined;
  if (pending.purpose === 'email-verify') {
    // A link for an address the account no longer has proves nothing.
    if (pending.user.email !== pending.email) return undefined;
    await markEmailVerified(services.db, pending.user.id);
    return { result: 'verified', user: pending.user };
  }
  if (!(await setUserEmail(services.db, pending.user.id, pending.email))) return { result: 'taken', user: pending.user };
  // Reset links sent to the old address stop working with it.
  await deleteAccountTokens(services.db, pending.user.id, ['password-reset']);
  return { result: 'changed', user: pending.user };
}
