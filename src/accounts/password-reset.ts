import type { UserRow } from '../db/schema.js';
import { createAccountToken, deleteAccountTokens, findLiveAccountToken, spendAccountToken } from '../db/repositories/account-tokens.js';
import { findUserByEmail } from '../db/repositories/account-security.js';
import { deleteOtherSessions } from '../db/repositories/sessions.js';
import { setUserPassword } from '../db/repositories/user-preferences.js';
import { findUserById } from '../db/repositories/users.js';
import { composeMail } from '../mail/compose.js';
import type { AccountLinkServices, AccountMailServices } from './account-services.js';

/** How long a reset link works. */
export const PASSWORD_RESET_LIFETIME_SECONDS = 3600;

/**
 * A single-use link that lets the holder set a new password for `userId`, valid for an hour.
 * The admin dashboard calls this to hand a link over when the site sends no email; the
 * "Forgot password?" page emails the same kind of link.
 */
export async function createPasswordResetLink(services: AccountLinkServices, userId: number): Promise<string> {
  const token = await createAccountToken(services.db, { userId, purpose: 'password-reset', lifetimeSeconds: PASSWORD_RESET_LIFETIME_SECONDS });
  return services.urls.absolute(`/password/reset/${token}`);
}

/**
 * Emails a reset link to the account with this address, if there is one. The caller answers
 * the same whatever happens here (it never says whether the address has an account), so this
 * resolves quietly when there is none.
 */
export async function sendPasswordResetEmail(services: AccountMailServices, email: string): Promise<'sent' | 'no-account'> {
  const user = await findUserByEmail(services.db, email);
  if (!user || !user.email) return 'no-account';
  const link = await createPasswordResetLink(services, user.id);
  const { t, lang } = services.textFor(user.language);
  await services.mailer.send(composeMail({
    to: user.email,
    subject: t('email.reset.subject', { site: services.siteName }),
    greeting: t('email.greeting', { name: user.display_name || user.username }),
    paragraphs: [t('email.reset.body', { site: services.siteName, username: user.username }), t('email.reset.expires', { count: PASSWORD_RESET_LIFETIME_SECONDS / 60 })],
    action: { label: t('email.reset.action'), url: link },
    footer: t('email.reset.ignore'),
    lang,
  }));
  return 'sent';
}

/** The account a reset link is for, while the link is unused and unexpired. */
export async function findPasswordResetUser(services: Pick<AccountLinkServices, 'db'>, token: string): Promise<UserRow | undefined> {
  const row = await findLiveAccountToken(services.db, token, 'password-reset');
  return row ? findUserById(services.db, row.user_id) : undefined;
}

/**
 * Uses a reset link: sets the new password and signs the account out everywhere (whoever had
 * the old password or a session is out), and makes any other reset link of the account useless.
 * Undefined when the link is unknown, expired or already used.
 */
export async function resetPasswordWithToken(services: Pick<AccountLinkServices, 'db'>, token: string, password: string): Promise<UserRow | undefined> {
  const row = await spendAccountToken(services.db, token, 'password-reset');
  if (!row) return undefined;
  await setUserPassword(services.db, row.user_id, password);
  await deleteOtherSessions(services.db, row.user_id, null);
  await deleteAccountTokens(services.db, row.user_id, ['password-reset', 'two-factor']);
  return findUserById(services.db, row.user_id);
}
