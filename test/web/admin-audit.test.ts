import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUserAdminCommand } from '../../src/cli/user-commands.js';
import { listAuditEntries } from '../../src/db/repositories/moderation.js';
import { findSitePageBySlug } from '../../src/db/repositories/site-settings.js';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, WebClient } from './web-client.js';

/**
 * Issue 17's audit log of admin actions: every dashboard action on accounts, settings, pages,
 * the logo, files and albums, the management API's user routes and the CLI's user commands
 * leave one entry (who, what, on what, details, from where), shown translated on the audit page
 * and in the CSV.
 */
describe('audit log of admin actions', () => {
  let server: TestServer;
  let admin: WebClient;
  const entries = () => listAuditEntries(server.ctx.db, 1000);
  const entry = async (action: string, target?: string) => {
    const found = (await entries()).find((e) => e.action === action && (target === undefined || e.target === target || (e.target ?? '').includes(target)));
    expect(found, `no audit entry ${action} ${target ?? ''}`).toBeDefined();
    return found!;
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = new WebClient(server.url);
    await admin.signup('boss');
  });
  afterAll(() => server.close());

  it('records every dashboard action on an account, with who and from where, never a secret', async () => {
    await server.createUserWithKey('dana');
    await admin.get('/dashboard/users/dana');
    await admin.post('/dashboard/users/dana/role', { role: 'manager' });
    await admin.post('/dashboard/users/dana/disable');
    await admin.post('/dashboard/users/dana/enable');
    await admin.post('/dashboard/users/dana/password', { password: 'brand new pass', password2: 'brand new pass' });
    await admin.post('/dashboard/users/dana/api-key/new', { confirm: 'yes' });
    await admin.get('/dashboard/users/dana');
    await admin.post('/dashboard/users/dana/api-key/revoke', { confirm: 'yes' });
    await admin.get('/dashboard/users/dana');
    await admin.post('/dashboard/users/dana/reset-link');
    await admin.post('/dashboard/users/dana/sign-out');
    for (const action of ['user.role', 'user.disable', 'user.enable', 'user.password', 'user.key-new', 'user.key-revoke', 'user.reset-link', 'user.sign-out']) {
      const e = await entry(action, 'dana');
      expect(e.actor).toBe('boss');
      expect(e.ip).toMatch(/127\.0\.0\.1/);
      expect(e.created_at).toMatch(/^\d{4}-\d{2}-\d{2}/);
    }
    expect((await entry('user.role', 'dana')).detail).toBe('user → manager');
    const all = JSON.stringify(await entries());
    expect(all).not.toContain('brand new pass');
    expect(all).not.toContain('chv_');
    expect(all).not.toContain('/password/reset/');
    await admin.get('/dashboard/users/dana');
    await admin.post('/dashboard/users/dana/delete', { confirm: 'yes' });
    expect((await entry('user.delete', 'dana')).detail).toBe('0 files deleted');
    // A refused action leaves nothing: the last admin stays.
    await admin.get('/dashboard/users/boss');
    expect((await admin.post('/dashboard/users/boss/role', { role: 'user' })).status).toBe(409);
    expect((await entries()).some((e) => e.action === 'user.role' && e.target === 'boss')).toBe(false);
  });

  it('records settings saves (the names, not the values), logo changes and site pages', async () => {
    await admin.get('/dashboard/settings');
    expect((await admin.post('/dashboard/settings', { SHOEBOX_SITE_NAME: 'Secret Barn' })).status).toBe(303);
    const saved = await entry('settings.save');
    expect(saved.detail).toContain('SHOEBOX_SITE_NAME');
    expect(saved.detail).not.toContain('Secret Barn');

    await admin.get('/dashboard/settings');
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await makePng(64, 32))]), 'logo.png');
    const cookie = [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    expect((await fetch(`${server.url}/dashboard/settings/asset/logo`, { method: 'POST', body: form, headers: { cookie, origin: server.url }, redirect: 'manual' })).status).toBe(303);
    expect((await entry('asset.save', 'logo')).detail).toContain('image/png');
    await admin.get('/dashboard/settings');
    await admin.post('/dashboard/settings/asset/logo/remove');
    await entry('asset.remove', 'logo');

    await admin.get('/dashboard/pages/new');
    await admin.post('/dashboard/pages', { title: 'Rules', slug: 'rules', body: 'Be nice', in_footer: '1', position: '1' });
    await entry('page.create', '/page/rules');
    const row = (await findSitePageBySlug(server.ctx.db, 'rules'))!;
    await admin.get(`/dashboard/pages/${row.id}`);
    await admin.post(`/dashboard/pages/${row.id}`, { title: 'House rules', slug: 'house-rules', body: 'Be nice', position: '1' });
    expect((await entry('page.edit', '/page/house-rules')).detail).toBe('was /page/rules; House rules');
    await admin.get(`/dashboard/pages/${row.id}`);
    await admin.post(`/dashboard/pages/${row.id}/delete`, { confirm: 'yes' });
    await entry('page.delete', '/page/house-rules');
  });

  it('records bulk file actions and album deletion, naming the files', async () => {
    const { key } = await server.createUserWithKey('filer');
    const filer = new WebClient(server.url);
    await filer.login('filer', 'password123');
    const albumId = await createAlbum(filer, { name: 'Holidays', privacy: 'public' });
    const up = async (name: string) => (await uploadFile(server.url, await makePng(40, 20), name, {}, { 'X-API-Key': key })).body.image.id_encoded as string;
    const ids = [await up('one.png'), await up('two.png')];
    await admin.get('/dashboard/files?user=filer');
    await admin.post('/dashboard/files/edit', { id: ids, op: 'nsfw' });
    await admin.post('/dashboard/files/edit', { id: ids, op: 'sfw' });
    await admin.post('/dashboard/files/edit', { id: ids, op: 'expiry', expiry: 'P1D' });
    await admin.post('/dashboard/files/edit', { id: ids, op: 'move', album: albumId });
    for (const action of ['files.nsfw', 'files.sfw', 'files.expiry', 'files.move']) {
      const e = await entry(action);
      expect(e.target).toContain(ids[0]);
      expect(e.target).toContain(ids[1]);
      expect(e.actor).toBe('boss');
    }
    expect((await entry('files.move')).detail).toContain('Holidays');
    expect((await entry('files.expiry')).detail).toContain('P1D');
    await admin.post('/dashboard/files/delete', { id: [ids[0]], confirm: 'yes' });
    expect((await entry('files.delete', ids[0])).detail).toBe('1 deleted');
    await admin.get('/dashboard/albums');
    await admin.post(`/dashboard/albums/${albumId}/delete`, { files: 'delete', confirm: 'yes' });
    expect((await entry('album.delete', albumId)).detail).toBe('1 files deleted');
  });

  it('records the management API user routes and the CLI user commands', async () => {
    const { key } = await server.createUserWithKey('apiboss', { admin: true });
    const api = (method: string, path: string, body?: unknown) =>
      fetch(`${server.url}/api/4/admin${path}`, { method, headers: { 'X-API-Key': key, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const created = await api('POST', '/users/', { username: 'viaapi', password: 'password123' });
    expect(created.status).toBe(200);
    const id = ((await created.json()) as { user: { id_encoded?: string; id?: string } }).user;
    const userId = id.id_encoded ?? id.id;
    expect((await api('PATCH', `/users/${userId}/`, { disabled: true })).status).toBe(200);
    expect((await api('DELETE', `/users/${userId}/`)).status).toBe(200);
    for (const action of ['user.create', 'user.disable', 'user.delete']) {
      const e = await entry(action, 'viaapi');
      expect(e.actor).toBe('apiboss');
      expect(e.ip).toMatch(/127\.0\.0\.1/);
    }

    await server.createUserWithKey('console');
    await runUserAdminCommand(server.ctx, 'set-role', ['console', 'manager']);
    await runUserAdminCommand(server.ctx, 'set-password', ['console', '--password', 'another pass']);
    await runUserAdminCommand(server.ctx, 'disable', ['console']);
    await runUserAdminCommand(server.ctx, 'enable', ['console']);
    await runUserAdminCommand(server.ctx, 'delete', ['console']);
    for (const action of ['user.role', 'user.password', 'user.disable', 'user.enable', 'user.delete']) {
      const e = await entry(action, 'console');
      expect(e.actor).toMatch(/^cli/);
      expect(e.ip).toBeNull();
    }
  });

  it('shows the actions with readable names on the audit page and in the CSV, in the reader\'s language', async () => {
    const page = await admin.get('/moderation/audit');
    expect(page.status).toBe(200);
    for (const name of ['Role changed', 'Account disabled', 'Settings saved', 'Page created', 'Files moved', 'Album deleted', 'Account created']) expect(page.text).toContain(name);
    const csv = await admin.get('/moderation/audit.csv');
    expect(csv.text.split('\n')[0]).toBe('when_utc,who,action,action_name,target,detail,from');
    expect(csv.text).toContain('user.sign-out,Signed out everywhere,dana');
    await admin.get('/moderation/audit');
    await admin.post('/language', { language: 'ko', return: '/moderation/audit' });
    const korean = await admin.get('/moderation/audit');
    expect(korean.text).toContain('역할 변경');
    expect((await admin.get('/moderation/audit.csv')).text).toContain('user.sign-out,모든 기기에서 로그아웃,dana');
  });
});
