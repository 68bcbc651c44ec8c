import { access } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storeAvatar } from '../../src/accounts/avatar.js';
import { createWebhook } from '../../src/db/repositories/webhooks.js';
import { createNamedApiKey } from '../../src/db/repositories/named-api-keys.js';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, inputValue, WebClient } from './web-client.js';

const exists = (file: string) => access(file).then(() => true, () => false);

/** What the dashboard's actions do, seen from the site: files, rows and access, nothing left half-done. */
describe('dashboard actions', () => {
  let server: TestServer;
  let admin: WebClient;
  const fileOf = (url: string) => path.join(server.dataDir, new URL(url).pathname);
  const upload = async (key: string, name: string, fields: Record<string, string> = {}) => {
    const res = await uploadFile(server.url, await makePng(30 + Math.floor(Math.random() * 200), 20), name, fields, { 'X-API-Key': key });
    expect(res.status, res.text).toBe(200);
    return res.body.image as { id_encoded: string; url: string; url_viewer: string };
  };

  beforeAll(async () => {
    server = await startTestServer();
    admin = new WebClient(server.url);
    const first = await admin.signup('boss');
    expect(first.location).toBe('/dashboard?welcome=1');
  });
  afterAll(() => server.close());

  it('welcomes the first account as the admin, with links into the dashboard', async () => {
    const page = await admin.get('/dashboard?welcome=1');
    expect(page.status).toBe(200);
    expect(page.text).toContain('you are its admin');
    expect(page.text).toContain('href="/dashboard/settings"');
    expect(page.text).toMatch(/<svg class="chart"[^>]*role="img"/);
  });

  it('lists, searches and sorts users with their counts and sign-up address', async () => {
    const { key } = await server.createUserWithKey('zelda');
    await upload(key, 'a.png');
    await upload(key, 'b.png');
    const page = await admin.get('/dashboard/users?q=zel&sort=files');
    expect(page.text).toContain('>zelda</a>');
    expect(page.text).not.toContain('>boss</a>');
    expect(page.text).toMatch(/>zelda<\/a><\/td>\s*<td>User<\/td>\s*<td>2<\/td>/);
    for (const sort of ['created', 'username', 'files', 'bytes', 'last_seen']) {
      for (const dir of ['asc', 'desc']) expect((await admin.get(`/dashboard/users?sort=${sort}&dir=${dir}`)).status, `${sort} ${dir}`).toBe(200);
    }
    // Last seen, newest first: boss (signed in now) before zelda (key used, no session) — both shown.
    const bySeen = (await admin.get('/dashboard/users?sort=last_seen&dir=desc')).text;
    expect(bySeen.indexOf('>boss</a>')).toBeGreaterThan(-1);
    expect(bySeen.indexOf('>zelda</a>')).toBeGreaterThan(-1);
    const boss = await admin.get('/dashboard/users/boss');
    expect(boss.text).toContain('127.0.0.1');
  });

  it('deletes an account with its files (rows and storage), or keeps them as guest files', async () => {
    const gone = await server.createUserWithKey('gone');
    const kept = await server.createUserWithKey('kept');
    const a = await upload(gone.key, 'gone.png');
    const b = await upload(kept.key, 'kept.png');
    await admin.get('/dashboard/users/gone');
    expect((await admin.post('/dashboard/users/gone/delete', { files: 'delete' })).status).toBe(400); // not confirmed
    expect(await exists(fileOf(a.url))).toBe(true);
    const res = await admin.post('/dashboard/users/gone/delete', { files: 'delete', confirm: 'yes' });
    expect(res.location).toBe('/dashboard/users?done=deleted');
    expect(await exists(fileOf(a.url))).toBe(false);
    expect((await fetch(a.url)).status).toBe(404);
    expect(await server.ctx.db.selectFrom('file_names').selectAll().where('name', '=', path.basename(a.url).split('.')[0]).execute()).toEqual([]);

    await admin.post('/dashboard/users/kept/delete', { files: 'keep', confirm: 'yes' });
    expect((await fetch(b.url)).status).toBe(200);
    expect((await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'kept').execute()).length).toBe(0);
  });

  it('deleting an account as the admin is the one account deletion: key and sessions stop, the avatar goes too', async () => {
    const { key, userId } = await server.createUserWithKey('pictured');
    const pictured = new WebClient(server.url);
    await pictured.login('pictured', 'password123');
    const avatar = await storeAvatar({ db: server.ctx.db, storage: server.ctx.storage, tempDir: path.join(server.dataDir, 'tmp') }, userId, await makePng(300, 300));
    expect(await server.ctx.storage.stat(avatar)).not.toBeNull();
    await upload(key, 'theirs.png');
    await admin.get('/dashboard/users/pictured');
    expect((await admin.post('/dashboard/users/pictured/delete', { files: 'delete', confirm: 'yes' })).location).toBe('/dashboard/users?done=deleted');
    expect(await server.ctx.storage.stat(avatar)).toBeNull();
    expect((await pictured.get('/settings/security')).status).not.toBe(200);
    const refused = await uploadFile(server.url, await makePng(20, 20), 'late.png', {}, { 'X-API-Key': key });
    expect(refused.status).toBe(401);
  });

  it('disables (sign-in and key stop), sets a password, revokes and regenerates the key, signs out everywhere', async () => {
    const { key } = await server.createUserWithKey('dana');
    const dana = new WebClient(server.url);
    await dana.login('dana', 'password123');
    await admin.get('/dashboard/users/dana');
    await admin.post('/dashboard/users/dana/disable');
    expect((await uploadFile(server.url, await makePng(), 'x.png', {}, { 'X-API-Key': key })).status).toBe(401);
    expect((await dana.get('/settings')).status).toBe(303);
    expect((await new WebClient(server.url).login('dana', 'password123')).status).toBe(403);
    await admin.post('/dashboard/users/dana/enable');
    expect((await uploadFile(server.url, await makePng(), 'y.png', {}, { 'X-API-Key': key })).status).toBe(200);

    expect((await admin.post('/dashboard/users/dana/password', { password: 'brand new pass', password2: 'brand new pass' })).location).toBe('/dashboard/users/dana?done=password');
    expect((await new WebClient(server.url).login('dana', 'brand new pass')).status).toBe(303);

    const fresh = await admin.post('/dashboard/users/dana/api-key/new', { confirm: 'yes' });
    const newKey = inputValue(fresh.text, 'api-key')!;
    expect(newKey).toMatch(/^chv_/);
    expect((await uploadFile(server.url, await makePng(), 'z.png', {}, { 'X-API-Key': key })).status).toBe(401);
    expect((await uploadFile(server.url, await makePng(), 'w.png', {}, { 'X-API-Key': newKey })).status).toBe(200);
    await admin.get('/dashboard/users/dana');
    await admin.post('/dashboard/users/dana/api-key/revoke', { confirm: 'yes' });
    expect((await uploadFile(server.url, await makePng(), 'v.png', {}, { 'X-API-Key': newKey })).status).toBe(401);

    // A reset link to hand over (this site sends no email): it works once.
    await admin.get('/dashboard/users/dana');
    const reset = await admin.post('/dashboard/users/dana/reset-link');
    const link = inputValue(reset.text, 'reset-link')!;
    expect(link).toMatch(/\/password\/reset\//);
    expect((await admin.post('/dashboard/users/dana/reset-email')).status).toBe(409); // no SMTP here
    expect((await fetch(link)).status).toBe(200);

    const again = new WebClient(server.url);
    await again.login('dana', 'brand new pass');
    await admin.post('/dashboard/users/dana/sign-out');
    expect((await again.get('/settings')).status).toBe(303);
  });

  it("shows an account's keys, the single one and the named ones, with their use, in the third person, and revokes each", async () => {
    const { key, userId } = await server.createUserWithKey('keymaker');
    const named = await createNamedApiKey(server.ctx.db, { userId, label: 'Backup script', scopes: ['upload', 'read'], expiresAt: '2031-05-06 00:00:00' });
    expect((await uploadFile(server.url, await makePng(33, 21), 'k.png', {}, { 'X-API-Key': named.plain })).status).toBe(200);
    expect((await uploadFile(server.url, await makePng(34, 21), 'd.png', {}, { 'X-API-Key': key })).status).toBe(200);

    const page = await admin.get('/dashboard/users/keymaker');
    expect(page.status).toBe(200);
    expect(page.text).not.toContain('You have no API key');
    const row = /<tr data-key="(\d+)">([\s\S]*?)<\/tr>/.exec(page.text)!;
    expect(Number(row[1])).toBe(named.row.id);
    expect(row[2]).toContain('Backup script');
    expect(row[2]).toContain('upload, read');
    expect(row[2]).toContain('127.0.0.1');
    expect(row[2]).toMatch(/2031/);
    expect(row[2]).toContain(`/dashboard/users/keymaker/api-keys/${named.row.id}/revoke`);
    const single = /<tr data-key="default">([\s\S]*?)<\/tr>/.exec(page.text)![1];
    expect(single).toContain('127.0.0.1');
    expect(single).toContain('Main key');
    expect(page.text).not.toContain('Your main key');
    expect(single).toContain('/dashboard/users/keymaker/api-key/revoke');

    // Revoking the named key stops it, and only it.
    const revoked = await admin.post(`/dashboard/users/keymaker/api-keys/${named.row.id}/revoke`);
    expect(revoked.location).toBe('/dashboard/users/keymaker?done=key-revoked');
    expect((await uploadFile(server.url, await makePng(35, 21), 'k2.png', {}, { 'X-API-Key': named.plain })).status).toBe(401);
    expect((await uploadFile(server.url, await makePng(36, 21), 'd2.png', {}, { 'X-API-Key': key })).status).toBe(200);
    // Another account's key is not reachable through this account's page.
    const other = await server.createUserWithKey('bystander');
    const theirs = await createNamedApiKey(server.ctx.db, { userId: other.userId, label: 'Theirs', scopes: ['upload'], expiresAt: null });
    await admin.get('/dashboard/users/keymaker');
    expect((await admin.post(`/dashboard/users/keymaker/api-keys/${theirs.row.id}/revoke`)).status).toBe(404);
    expect((await uploadFile(server.url, await makePng(37, 21), 't.png', {}, { 'X-API-Key': theirs.plain })).status).toBe(200);
    // An account with nothing stored says so with the plural: "0 bytes", never "0 byte".
    const nobody = await server.createUserWithKey('emptyhanded');
    expect(nobody.userId).toBeGreaterThan(0);
    const emptyPage = (await admin.get('/dashboard/users/emptyhanded')).text;
    expect(/<dt>Size<\/dt><dd>([^<]*)<\/dd>/.exec(emptyPage)?.[1]).toBe('0 bytes');
    expect(emptyPage).not.toContain('0 byte<');

    // Then the single key; the page says the account has none, not "you".
    await admin.get('/dashboard/users/keymaker');
    await admin.post('/dashboard/users/keymaker/api-key/revoke', { confirm: 'yes' });
    const empty = await admin.get('/dashboard/users/keymaker');
    expect(empty.text).toContain('This account has no API keys.');
    expect(empty.text).not.toContain('You have no API key');
  });

  it('keeps the last admin: no demoting or disabling it, not even by itself', async () => {
    await admin.get('/dashboard/users/boss');
    const demote = await admin.post('/dashboard/users/boss/role', { role: 'user' });
    expect(demote.status).toBe(409);
    expect(demote.text).toContain('This is the only admin');
  });

  it('filters files and acts on a selection: NSFW, expiry, move, delete', async () => {
    const { key } = await server.createUserWithKey('filer');
    const filer = new WebClient(server.url);
    await filer.login('filer', 'password123');
    const albumId = await createAlbum(filer, { name: 'Holidays', privacy: 'public' });
    const one = await upload(key, 'one.png');
    const two = await upload(key, 'two.png');
    const list = await admin.get('/dashboard/files?user=filer');
    expect(list.text).toContain(`value="${one.id_encoded}"`);
    expect(list.text).toContain('Holidays'); // the album choice for this user's files
    const ids = [one.id_encoded, two.id_encoded];
    expect((await admin.post('/dashboard/files/edit', { id: ids, op: 'nsfw', return: '/dashboard/files?user=filer' })).location).toBe('/dashboard/files?user=filer&done=files-nsfw');
    expect((await admin.get('/dashboard/files?user=filer&nsfw=yes')).text).toContain(`value="${two.id_encoded}"`);
    await admin.post('/dashboard/files/edit', { id: [one.id_encoded], op: 'expiry', expiry: 'P1D' });
    const expiring = await admin.get('/dashboard/files?user=filer&expiring=yes');
    expect(expiring.text).toContain(`value="${one.id_encoded}"`);
    expect(expiring.text).not.toContain(`value="${two.id_encoded}"`);
    await admin.post('/dashboard/files/edit', { id: ids, op: 'move', album: albumId });
    expect((await admin.get(`/dashboard/files?album=${albumId}`)).text).toContain(`value="${two.id_encoded}"`);
    // Someone else's album is refused for these files.
    const { key: otherKey } = await server.createUserWithKey('other');
    const foreign = await upload(otherKey, 'foreign.png');
    expect((await admin.post('/dashboard/files/edit', { id: [foreign.id_encoded], op: 'move', album: albumId })).status).toBe(400);

    expect((await admin.post('/dashboard/files/delete', { id: ids })).status).toBe(400); // not confirmed
    await admin.post('/dashboard/files/delete', { id: ids, confirm: 'yes' });
    expect((await fetch(one.url)).status).toBe(404);
    expect(await exists(fileOf(two.url))).toBe(false);
  });

  it('lists albums and deletes one with its files', async () => {
    const { key } = await server.createUserWithKey('albumist');
    const owner = new WebClient(server.url);
    await owner.login('albumist', 'password123');
    const albumId = await createAlbum(owner, { name: 'Doomed', privacy: 'private' });
    const file = await upload(key, 'in-album.png', { album_id: albumId });
    const list = await admin.get('/dashboard/albums?q=doom');
    expect(list.text).toContain('Doomed');
    expect((await admin.post(`/dashboard/albums/${albumId}/delete`, { files: 'delete', confirm: 'yes' })).location).toBe('/dashboard/albums?done=album-deleted');
    expect((await fetch(file.url)).status).toBe(404);
    expect(await exists(fileOf(file.url))).toBe(false);
  });

  it('deletes an album keeping its files, which never become more visible than they were', async () => {
    const { key } = await server.createUserWithKey('keeper');
    const owner = new WebClient(server.url);
    await owner.login('keeper', 'password123');
    const anyone = new WebClient(server.url);
    const seen = async (browser: WebClient, url: string) => (await browser.get(new URL(url).pathname)).status;

    // A private album with a file and a public sub-album (private too, by inheritance) with another.
    const secretId = await createAlbum(owner, { name: 'Secret', privacy: 'private' });
    const innerId = await createAlbum(owner, { name: 'Inner', privacy: 'public', parent: secretId });
    const secretFile = await upload(key, 'secret.png', { album_id: secretId });
    const innerFile = await upload(key, 'inner.png', { album_id: innerId });
    expect(await seen(anyone, secretFile.url_viewer)).toBe(404);
    expect(await seen(anyone, innerFile.url_viewer)).toBe(404);

    const done = await admin.post(`/dashboard/albums/${secretId}/delete`, { files: 'keep', confirm: 'yes' });
    expect(done.location).toBe('/dashboard/albums?done=album-kept-private');
    expect((await admin.get(done.location!)).text).toContain('kept in a new private album of the same name');
    expect((await admin.get(`/album/${secretId}`)).status).toBe(404);
    // Still hidden from everyone else, the sub-album too; still there for the owner, files and bytes intact.
    expect(await seen(anyone, secretFile.url_viewer)).toBe(404);
    expect(await seen(anyone, innerFile.url_viewer)).toBe(404);
    expect((await anyone.get(`/album/${innerId}`)).status).toBe(404);
    expect(await seen(owner, secretFile.url_viewer)).toBe(200);
    expect(await seen(owner, innerFile.url_viewer)).toBe(200);
    expect(await exists(fileOf(secretFile.url))).toBe(true);
    expect((await anyone.get('/explore')).text).not.toContain(secretFile.id_encoded);
    expect((await anyone.get('/keeper')).text).not.toContain(innerFile.id_encoded);
    const holder = await server.ctx.db.selectFrom('albums').selectAll().where('user_id', '=', (await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'keeper').executeTakeFirstOrThrow()).id).where('name', '=', 'Secret').executeTakeFirstOrThrow();
    expect(holder.privacy).toBe('private');

    // A public sub-album of a private album: its files move up into the private parent, not out to everyone.
    const vaultId = await createAlbum(owner, { name: 'Vault', privacy: 'private' });
    const shelfId = await createAlbum(owner, { name: 'Shelf', privacy: 'public', parent: vaultId });
    const shelfFile = await upload(key, 'shelf.png', { album_id: shelfId });
    expect((await admin.post(`/dashboard/albums/${shelfId}/delete`, { files: 'keep', confirm: 'yes' })).location).toBe('/dashboard/albums?done=album-deleted');
    expect(await seen(anyone, shelfFile.url_viewer)).toBe(404);
    expect((await owner.get(`/album/${vaultId}`)).text).toContain(shelfFile.id_encoded);

    // A public album's files stay public (out of any album), as before.
    const openId = await createAlbum(owner, { name: 'Open', privacy: 'public' });
    const openFile = await upload(key, 'open.png', { album_id: openId });
    expect((await admin.post(`/dashboard/albums/${openId}/delete`, { files: 'keep', confirm: 'yes' })).location).toBe('/dashboard/albums?done=album-deleted');
    expect(await seen(anyone, openFile.url_viewer)).toBe(200);
  });

  it("deletes an album through the one album deletion: its owner's webhooks hear album.deleted, kept files stay", async () => {
    const { key, userId } = await server.createUserWithKey('hooked');
    const owner = new WebClient(server.url);
    await owner.login('hooked', 'password123');
    const hook = await createWebhook(server.ctx.db, { userId, createdBy: userId, url: 'http://127.0.0.1:9/hook', events: ['album.deleted'], secret: 'shh' });
    const albumId = await createAlbum(owner, { name: 'Heard', privacy: 'public' });
    const file = await upload(key, 'kept-in-album.png', { album_id: albumId });
    expect((await admin.post(`/dashboard/albums/${albumId}/delete`, { files: 'keep', confirm: 'yes' })).location).toBe('/dashboard/albums?done=album-deleted');
    expect((await fetch(file.url)).status).toBe(200);
    const events = await server.ctx.db.selectFrom('webhook_deliveries').select('event').where('webhook_id', '=', hook.id).execute();
    expect(events.map((e) => e.event)).toEqual(['album.deleted']);
  });
});
