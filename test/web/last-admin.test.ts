import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUserAdminCommand } from '../../src/cli/user-commands.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from './web-client.js';

/**
 * One "last admin" rule (accounts/last-admin.ts) for every way an account can go: its owner's
 * own deletion (/settings/security) and the administrators' paths (dashboard, CLI, management
 * API through admin/user-admin.ts). A disabled admin does not count: they cannot run the site.
 */
describe('the last active admin', () => {
  let server: TestServer;
  let boss: WebClient;
  const cli = (sub: string, args: string[]) => runUserAdminCommand(server.ctx, sub, args);
  const row = (username: string) => server.ctx.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();

  beforeAll(async () => {
    server = await startTestServer();
    boss = new WebClient(server.url);
    expect((await boss.signup('boss')).location).toBe('/dashboard?welcome=1'); // the first account: the admin
    // A second admin, disabled: still an admin by role, but nobody who can sign in and run the site.
    await server.createUserWithKey('former', { admin: true });
    expect(await cli('disable', ['former'])).toEqual(['former is disabled: cannot sign in, API key refused']);
  });
  afterAll(() => server?.close());

  it('cannot delete their own account while the only other admin is disabled', async () => {
    await boss.get('/settings/security');
    const refused = await boss.post('/settings/delete', { confirm: 'boss', password: 'correct horse battery' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('You are this site&#39;s only admin.');
    expect(await row('boss')).toMatchObject({ role: 'admin', disabled_at: null });
    expect((await boss.get('/settings')).status).toBe(200); // still signed in
  });

  it('cannot be demoted, disabled or deleted by the dashboard or the CLI', async () => {
    await boss.get('/dashboard/users/boss');
    const demote = await boss.post('/dashboard/users/boss/role', { role: 'user' });
    expect(demote.status).toBe(409);
    expect(demote.text).toContain('This is the only admin');
    await expect(cli('set-role', ['boss', 'manager'])).rejects.toThrow(/boss is the only admin; make another admin first/);
    await expect(cli('disable', ['boss'])).rejects.toThrow(/boss is the only admin; it cannot be disabled/);
    await expect(cli('delete', ['boss'])).rejects.toThrow(/boss is the only admin; it cannot be deleted/);
    expect(await row('boss')).toMatchObject({ role: 'admin', is_admin: 1, disabled_at: null });
  });

  it('once another admin is active again, either may go, and then the other is the last one', async () => {
    await cli('enable', ['former']);
    await boss.get('/settings/security');
    const gone = await boss.post('/settings/delete', { confirm: 'boss', password: 'correct horse battery' });
    expect(gone.status).toBe(303);
    expect(await row('boss')).toBeUndefined();
    await expect(cli('disable', ['former'])).rejects.toThrow(/former is the only admin/);
    const former = new WebClient(server.url);
    expect((await former.login('former', 'password123')).status).toBe(303);
    await former.get('/settings/security');
    const refused = await former.post('/settings/delete', { confirm: 'former', password: 'password123' });
    expect(refused.status).toBe(409);
  });
});
