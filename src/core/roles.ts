/**
 * Who may do what on the dashboard: the one permission table of the site. Every dashboard
 * route names one action below, and a route's handler runs only when `can(role, action)`.
 * To add an area (moderation, the management API...): add its actions here and give each
 * role its share in `PERMISSIONS`; nothing else decides.
 */

export const ROLES = ['admin', 'manager', 'user'] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = [
  /** See the dashboard and its overview. */
  'dashboard.view',
  /** List users and open one. */
  'users.view',
  /** Change a user's role. */
  'users.role',
  /** Disable or enable an account. */
  'users.disable',
  /** Delete an account (with its files, or keeping them as guest files). */
  'users.delete',
  /** Set a user's password, or make a password reset for them. */
  'users.password',
  /** Revoke or regenerate a user's API key. */
  'users.api-key',
  /** Sign a user out of every browser. */
  'users.sessions',
  /** List every file on the site. */
  'files.view',
  /** Mark/unmark NSFW, move to an album, change the expiry. */
  'files.edit',
  /** Delete any file. */
  'files.delete',
  /** List albums. */
  'albums.view',
  /** Delete any album. */
  'albums.delete',
  /** Change the site's settings, logo and favicon. */
  'settings.edit',
  /** Write the site's pages (Terms, Privacy...). */
  'pages.edit',
  /** Moderation: the approval queue and reports (approve, remove, remove and ban, dismiss). */
  'moderation.queue',
  /** Moderation: read the audit log and export it. */
  'moderation.audit',
  /** Moderation: list, add and remove IP bans. */
  'moderation.bans',
  /** Moderation: the stop-word lists (refuse or hold). */
  'moderation.stop-words',
  /** Moderation: purge everything by a user or from an address or range. */
  'moderation.purge',
  /** Moderation: export and import the takedown blocklist. */
  'moderation.blocklist',
  /** Create, edit and delete categories. */
  'categories.edit',
] as const;
export type Action = (typeof ACTIONS)[number];

const ALL: readonly Action[] = ACTIONS;

/** The table. Managers look after content and people, but not the site, roles or accounts' secrets. */
export const PERMISSIONS: Record<Role, readonly Action[]> = {
  admin: ALL,
  manager: [
    'dashboard.view',
    'users.view', 'users.disable', 'users.sessions',
    'files.view', 'files.edit', 'files.delete',
    'albums.view', 'albums.delete',
    'moderation.queue', 'moderation.bans',
  ],
  user: [],
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Whether someone with `role` (null: a visitor without an account) may do `action`. */
export function can(role: Role | null | undefined, action: Action): boolean {
  return role != null && PERMISSIONS[role].includes(action);
}

/**
 * Whether `actor` may act on an account with role `target`: nobody but an admin touches an
 * admin's account, so a manager can never lock the admins out.
 */
export function canActOn(actor: Role | null | undefined, target: Role): boolean {
  if (actor == null || actor === 'user') return false;
  return actor === 'admin' || target !== 'admin';
}

/** A user row's role (rows from before migration 0006 only had the admin flag). */
export function roleOf(user: { role?: string | null; is_admin?: number } | null | undefined): Role | null {
  if (!user) return null;
  if (isRole(user.role)) return user.role;
  return user.is_admin === 1 ? 'admin' : 'user';
}
