import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUserRole } from '../../src/db/repositories/admin.js';
import { dashboardRoutesOf } from '../../src/web/dashboard/dashboard-kit.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from './web-client.js';

type Who = 'admin' | 'manager' | 'user' | 'guest';
const ADMIN: Who[] = ['admin'];
const STAFF: Who[] = ['admin', 'manager'];

/**
 * Who may use each dashboard route. Written here on its own (not read from src/core/roles.ts),
 * so a change to either shows; and every route the dashboard registers must have a line: a new
 * route without one fails the first test. `path` fills in the route's parameters; POSTs aim at
 * things that do not exist (or send nothing to change), so an allowed request answers 4xx/303
 * without changing the site, and a refused one must answer 403 before looking.
 */
const ROUTES: Record<string, { allowed: Who[]; path?: string }> = {
  'GET /dashboard': { allowed: STAFF },
  'GET /dashboard/users': { allowed: STAFF },
  'GET /dashboard/users/:name': { allowed: STAFF, path: '/dashboard/users/target' },
  'POST /dashboard/users/:name/role': { allowed: ADMIN, path: '/dashboard/users/nobody-here/role' },
  'POST /dashboard/users/:name/disable': { allowed: STAFF, path: '/dashboard/users/nobody-here/disable' },
  'POST /dashboard/users/:name/enable': { allowed: STAFF, path: '/dashboard/users/nobody-here/enable' },
  'POST /dashboard/users/:name/delete': { allowed: ADMIN, path: '/dashboard/users/nobody-here/delete' },
  'POST /dashboard/users/:name/password': { allowed: ADMIN, path: '/dashboard/users/nobody-here/password' },
  'POST /dashboard/users/:name/api-key/revoke': { allowed: ADMIN, path: '/dashboard/users/nobody-here/api-key/revoke' },
  'POST /dashboard/users/:name/api-keys/:id/revoke': { allowed: ADMIN, path: '/dashboard/users/nobody-here/api-keys/1/revoke' },
  'POST /dashboard/users/:name/api-key/new': { allowed: ADMIN, path: '/dashboard/users/nobody-here/api-key/new' },
  'POST /dashboard/users/:name/reset-link': { allowed: ADMIN, path: '/dashboard/users/nobody-here/reset-link' },
  'POST /dashboard/users/:name/reset-email': { allowed: ADMIN, path: '/dashboard/users/nobody-here/reset-email' },
  'POST /dashboard/users/:name/sign-out': { allowed: STAFF, path: '/dashboard/users/nobody-here/sign-out' },
  'GET /dashboard/files': { allowed: STAFF },
  'POST /dashboard/files/delete': { allowed: STAFF },
  'POST /dashboard/files/edit': { allowed: STAFF },
  'GET /dashboard/albums': { allowed: STAFF },
  'POST /dashboard/albums/:id/delete': { allowed: STAFF, path: '/dashboard/albums/zzzzzz/delete' },
  'GET /dashboard/settings': { allowed: ADMIN },
  'POST /dashboard/settings': { allowed: ADMIN },
  'POST /dashboard/settings/asset/:name': { allowed: ADMIN, path: '/dashboard/settings/asset/nothing' },
  'POST /dashboard/settings/asset/:name/remove': { allowed: ADMIN, path: '/dashboard/settings/asset/nothing/remove' },
  'GET /dashboard/pages': { allowed: ADMIN },
  'GET /dashboard/pages/new': { allowed: ADMIN },
  'GET /dashboard/pages/:id': { allowed: ADMIN, path: '/dashboard/pages/999999' },
  'POST /dashboard/pages': { allowed: ADMIN },
  'POST /dashboard/pages/:id': { allowed: ADMIN, path: '/dashboard/pages/999999' },
  'POST /dashboard/pages/:id/delete': { allowed: ADMIN, path: '/dashboard/pages/999999/delete' },
  'GET /dashboard/moderation/bans': { allowed: STAFF },
  'POST /dashboard/moderation/bans': { allowed: STAFF },
  'POST /dashboard/moderation/bans/remove': { allowed: STAFF },
  'GET /dashboard/moderation/stop-words': { allowed: ADMIN },
  'POST /dashboard/moderation/stop-words': { allowed: ADMIN },
  'POST /dashboard/moderation/stop-words/remove': { allowed: ADMIN },
  'GET /dashboard/moderation/purge': { allowed: ADMIN },
  'POST /dashboard/moderation/purge': { allowed: ADMIN },
  'GET /dashboard/moderation/blocklist': { allowed: ADMIN },
  'GET /dashboard/moderation/blocklist.json': { allowed: ADMIN },
  'POST /dashboard/moderation/blocklist/import': { allowed: ADMIN },
  'GET /dashboard/categories': { allowed: ADMIN },
  'POST /dashboard/categories': { allowed: ADMIN },
  'GET /dashboard/categories/:id': { allowed: ADMIN, path: '/dashboard/categories/999999' },
  'POST /dashboard/categories/:id': { allowed: ADMIN, path: '/dashboard/categories/999999' },
  'POST /dashboard/categories/:id/delete': { allowed: ADMIN, path: '/dashboard/categories/999999/delete' },
};

describe('dashboard permissions: admin, manager, user and guest on every route', () => {
  let server: TestServer;
  const browsers = {} as Record<Who, WebClient>;

  beforeAll(async () => {
    server = await startTestServer();
    browsers.admin = new WebClient(server.url);
    await browsers.admin.signup('boss'); // the first account is the admin
    for (const name of ['manager', 'user'] as const) {
      const { userId } = await server.createUserWithKey(name);
      if (name === 'manager') await setUserRole(server.ctx.db, userId, 'manager');
      browsers[name] = new WebClient(server.url);
      expect((await browsers[name].login(name, 'password123')).status).toBe(303);
    }
    await server.createUserWithKey('target');
    browsers.guest = new WebClient(server.url);
    // A page with a form gives each signed-in browser its CSRF token.
    for (const who of ['admin', 'manager', 'user'] as const) await browsers[who].get('/settings');
  });
  afterAll(() => server.close());

  it('has an entry for every route the dashboard registers (and none for routes it lost)', () => {
    const registered = [...dashboardRoutesOf(server.ctx).keys()].sort();
    expect(registered).toEqual(Object.keys(ROUTES).sort());
  });

  for (const [route, rule] of Object.entries(ROUTES)) {
    const [method, pattern] = route.split(' ');
    const path = rule.path ?? pattern;
    it(`${route}: ${rule.allowed.join(', ')} only`, async () => {
      for (const who of ['admin', 'manager', 'user', 'guest'] as const) {
        const browser = browsers[who];
        const res = method === 'GET' ? await browser.get(path) : await browser.post(path, {});
        const label = `${who} ${method} ${path} → ${res.status} ${res.location ?? ''}`;
        if (who === 'guest') {
          // A visitor without an account is sent to sign in (a POST without a session's token is refused outright).
          if (method === 'GET') expect(res.location, label).toBe(`/login?next=${encodeURIComponent(path)}`);
          else expect([303, 403], label).toContain(res.status);
          if (res.status === 303) expect(res.location, label).toMatch(/^\/login\?next=/);
        } else if (rule.allowed.includes(who)) {
          expect(res.status, label).not.toBe(403);
          expect(res.status, label).toBeLessThan(500);
          expect(res.location ?? '', label).not.toMatch(/^\/login/);
        } else {
          expect(res.status, label).toBe(403);
        }
      }
    });
  }

  it('shows the dashboard link only to roles that may open it', async () => {
    expect((await browsers.admin.get('/settings')).text).toContain('href="/dashboard"');
    expect((await browsers.manager.get('/settings')).text).toContain('href="/dashboard"');
    expect((await browsers.user.get('/settings')).text).not.toContain('href="/dashboard"');
  });

  it('shows a manager only the areas a manager may use', async () => {
    const page = await browsers.manager.get('/dashboard');
    expect(page.text).toContain('href="/dashboard/users"');
    expect(page.text).toContain('href="/dashboard/files"');
    expect(page.text).not.toContain('href="/dashboard/settings"');
    expect(page.text).not.toContain('href="/dashboard/pages"');
  });

  it('lets a manager act on users but never on an admin', async () => {
    await browsers.manager.get('/dashboard/users/boss');
    const refused = await browsers.manager.post('/dashboard/users/boss/disable');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain("Only an admin may change an admin&#39;s account");
    const row = await server.ctx.db.selectFrom('users').select('disabled_at').where('username', '=', 'boss').executeTakeFirstOrThrow();
    expect(row.disabled_at).toBeNull();
    await browsers.manager.get('/dashboard/users/target');
    const done = await browsers.manager.post('/dashboard/users/target/disable');
    expect(done.status, done.text).toBe(303);
    expect(done.location).toBe('/dashboard/users/target?done=disabled');
  });
});
