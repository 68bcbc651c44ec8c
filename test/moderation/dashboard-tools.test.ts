import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUserRole } from '../../src/db/repositories/admin.js';
import { uploadFile } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { decodeEntities, memberWithKey, WebClient } from '../web/web-client.js';

let seed = 7100;
const picture = () => makeVariedImage(seed++, { width: 160, height: 120 });

async function audit(server: TestServer) {
  return server.ctx.db.selectFrom('audit_log').select(['actor', 'action', 'target', 'detail', 'ip']).orderBy('id').execute();
}

/** Posts a multipart form as `browser` does (its cookies, the page's Origin). */
async function postMultipart(browser: WebClient, pathname: string, fields: Record<string, string>, file: { name: string; data: string } | null) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  if (file) form.append('file', new Blob([file.data], { type: 'application/json' }), file.name);
  const res = await fetch(browser.url(pathname), {
    method: 'POST',
    body: form,
    redirect: 'manual',
    headers: { 'Accept-Language': 'en', cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), origin: new URL(browser.baseUrl).origin },
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

describe('SHOEBOX_MODERATION in the dashboard', () => {
  let server: TestServer;
  let locked: TestServer;

  beforeAll(async () => {
    [server, locked] = await Promise.all([
      startTestServer({ SHOEBOX_GUEST_API_UPLOADS: '1', SHOEBOX_FLOOD_LIMIT: '0' }),
      startTestServer({ SHOEBOX_MODERATION: 'everyone', SHOEBOX_FLOOD_LIMIT: '0' }),
    ]);
  });
  afterAll(async () => {
    await server.close();
    await locked.close();
  });

  it('an admin switches approval for guests on and off, live; set in the environment it shows locked', async () => {
    const { browser: admin } = await memberWithKey(server.url, 'boss');
    const page = await admin.get('/dashboard/settings');
    expect(page.text).toContain('Uploads that wait for approval');
    expect(page.text).toMatch(/<select name="SHOEBOX_MODERATION">[\s\S]*?<option value="off" selected>None<\/option>/);
    expect((await uploadFile(server.url, await picture(), 'a.jpg')).body.image.is_approved).toBe(1);

    expect((await admin.post('/dashboard/settings', { SHOEBOX_MODERATION: 'guests' })).status).toBe(303);
    expect(server.ctx.settings.moderation).toBe('guests');
    expect((await uploadFile(server.url, await picture(), 'b.jpg')).body.image.is_approved).toBe(0);
    expect((await admin.get('/dashboard/settings')).text).toMatch(/<option value="guests" selected>Guests&#39; uploads<\/option>/);
    const bad = await admin.post('/dashboard/settings', { SHOEBOX_MODERATION: 'sometimes' });
    expect(bad.status).toBe(400);
    expect(server.ctx.settings.moderation).toBe('guests');

    expect((await admin.post('/dashboard/settings', { SHOEBOX_MODERATION: 'off' })).status).toBe(303);
    expect((await uploadFile(server.url, await picture(), 'c.jpg')).body.image.is_approved).toBe(1);

    const { browser: lockedAdmin } = await memberWithKey(locked.url, 'boss');
    const lockedPage = await lockedAdmin.get('/dashboard/settings');
    expect(lockedPage.text).toMatch(/<select name="SHOEBOX_MODERATION" disabled>/);
    expect(decodeEntities(lockedPage.text)).toContain('SHOEBOX_MODERATION');
    await lockedAdmin.post('/dashboard/settings', { SHOEBOX_MODERATION: 'off' });
    expect(locked.ctx.settings.moderation).toBe('everyone');
  });
});

describe('moderation screens of the dashboard: bans, stop words, purge, blocklist', () => {
  let server: TestServer;
  let admin: WebClient;
  let manager: WebClient;
  let alice: { browser: WebClient; key: string };

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_TRUST_PROXY: '127.0.0.1', SHOEBOX_FLOOD_LIMIT: '0' });
    ({ browser: admin } = await memberWithKey(server.url, 'boss'));
    alice = await memberWithKey(server.url, 'alice');
    const { userId } = await server.createUserWithKey('mona');
    await setUserRole(server.ctx.db, userId, 'manager');
    manager = new WebClient(server.url);
    await manager.login('mona', 'password123');
  });
  afterAll(() => server.close());

  it('bans: add a CIDR range with an expiry and a message, refused input explained, lifted only when confirmed; a manager may ban too', async () => {
    const from = (ip: string) => ({ 'X-API-Key': alice.key, 'X-Forwarded-For': ip });
    await admin.get('/dashboard/moderation/bans');
    const wrong = await admin.post('/dashboard/moderation/bans', { range: '203.0.113.0/33', expires: '', message: '' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('role="alert"');
    expect(wrong.text).toContain('value="203.0.113.0/33"');
    expect((await admin.post('/dashboard/moderation/bans', { range: '203.0.113.0/24', expires: 'soon', message: '' })).status).toBe(400);

    const added = await admin.post('/dashboard/moderation/bans', { range: '203.0.113.7/24', expires: '2d', message: 'Spam from here' });
    expect(added.status).toBe(303);
    const list = await admin.get(added.location!);
    expect(list.text).toContain('Ban saved.');
    expect(list.text).toContain('<code>203.0.113.0/24</code>');
    expect(list.text).toContain('Spam from here');
    const refused = await uploadFile(server.url, await picture(), 'x.jpg', {}, from('203.0.113.99'));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('Spam from here');
    expect((await uploadFile(server.url, await picture(), 'y.jpg', {}, from('198.51.100.1'))).status).toBe(200);
    const [ban] = await server.ctx.moderation.bans.list();
    const hours = (Date.parse(`${ban.expires_at!.replace(' ', 'T')}Z`) - Date.now()) / 3_600_000;
    expect(hours).toBeGreaterThan(47);
    expect(hours).toBeLessThan(49);

    // Lifting needs the box ticked.
    expect((await admin.post('/dashboard/moderation/bans/remove', { range: '203.0.113.0/24' })).status).toBe(400);
    expect((await uploadFile(server.url, await picture(), 'x.jpg', {}, from('203.0.113.99'))).status).toBe(403);
    const lifted = await admin.post('/dashboard/moderation/bans/remove', { range: '203.0.113.0/24', confirm: 'yes' });
    expect(lifted.status).toBe(303);
    expect((await uploadFile(server.url, await picture(), 'x.jpg', {}, from('203.0.113.99'))).status).toBe(200);

    await manager.get('/dashboard/moderation/bans');
    expect((await manager.post('/dashboard/moderation/bans', { range: '2001:db8::/32', expires: '', message: '' })).status).toBe(303);
    expect((await uploadFile(server.url, await picture(), 'x.jpg', {}, from('2001:db8::5'))).status).toBe(403);
    expect((await manager.get('/dashboard/moderation/purge')).status).toBe(403);

    const log = (await audit(server)).filter((a) => a.action.startsWith('ban.'));
    expect(log).toEqual([
      { actor: 'boss', action: 'ban.add', target: '203.0.113.0/24', detail: expect.stringMatching(/^Spam from here; until \d{4}-/), ip: '127.0.0.1' },
      { actor: 'boss', action: 'ban.remove', target: '203.0.113.0/24', detail: null, ip: '127.0.0.1' },
      { actor: 'mona', action: 'ban.add', target: '2001:db8::/32', detail: null, ip: '127.0.0.1' },
    ]);
    await server.ctx.moderation.bans.remove('2001:db8::/32');
  });

  it('stop words: add several to a list, move one between refuse and hold, remove it; uploads follow at once', async () => {
    const send = async (title: string) => uploadFile(server.url, await picture(), 'w.jpg', { title }, { 'X-API-Key': alice.key });
    await admin.get('/dashboard/moderation/stop-words');
    expect((await admin.post('/dashboard/moderation/stop-words', { words: '', action: 'refuse' })).status).toBe(400);
    const saved = await admin.post('/dashboard/moderation/stop-words', { words: 'Casino\r\nslot  machine\r\n', action: 'refuse' });
    expect(saved.status).toBe(303);
    const page = await admin.get(saved.location!);
    expect(page.text).toContain('2 stop words saved.');
    expect(page.text).toContain('<strong lang="">casino</strong>');
    expect(page.text).toContain('<strong lang="">slot machine</strong>');
    expect((await send('Best casino')).status).toBe(400);
    expect((await send('A slot machine')).status).toBe(400);

    expect((await admin.post('/dashboard/moderation/stop-words', { words: 'casino', action: 'hold' })).status).toBe(303);
    const held = await send('Best casino');
    expect(held.status).toBe(200);
    expect(held.body.image.is_approved).toBe(0);

    expect((await admin.post('/dashboard/moderation/stop-words/remove', { word: 'casino' })).status).toBe(400);
    expect((await admin.post('/dashboard/moderation/stop-words/remove', { word: 'casino', confirm: 'yes' })).status).toBe(303);
    expect((await send('Best casino')).body.image.is_approved).toBe(1);
    expect((await send('A slot machine')).status).toBe(400);
    const log = (await audit(server)).filter((a) => a.action.startsWith('stopword.'));
    expect(log.map((a) => `${a.action} ${a.target} ${a.detail ?? ''}`.trim())).toEqual([
      'stopword.set casino refuse', 'stopword.set slot machine refuse', 'stopword.set casino hold', 'stopword.remove casino',
    ]);
    await server.ctx.moderation.stopWords.remove('slot machine');
  });

  it('purge: counts first, deletes only when confirmed, refuses to delete more than was shown, blocklists what it removes', async () => {
    const { key: trollKey } = await server.createUserWithKey('troll');
    const files = [];
    for (let i = 0; i < 3; i++) files.push((await uploadFile(server.url, await picture(), 't.jpg', {}, { 'X-API-Key': trollKey, 'X-Forwarded-For': '192.0.2.44' })).body.image);

    const none = await admin.get('/dashboard/moderation/purge?by=user&value=nobody');
    expect(none.status).toBe(400);
    expect(none.text).toContain('There is no user named nobody.');
    const counted = await admin.get('/dashboard/moderation/purge?by=user&value=troll');
    expect(counted.text).toContain('3 uploads found');
    expect(counted.text).toContain('name="count" value="3"');
    const byRange = await admin.get('/dashboard/moderation/purge?by=ip&value=192.0.2.0%2F24');
    expect(byRange.text).toContain('3 uploads found');

    const unconfirmed = await admin.post('/dashboard/moderation/purge', { by: 'user', value: 'troll', since: '', count: '3' });
    expect(unconfirmed.status).toBe(400);
    // One more upload since the count was shown: nothing goes, the new count is shown.
    files.push((await uploadFile(server.url, await picture(), 't.jpg', {}, { 'X-API-Key': trollKey, 'X-Forwarded-For': '192.0.2.44' })).body.image);
    const changed = await admin.post('/dashboard/moderation/purge', { by: 'user', value: 'troll', since: '', count: '3', confirm: 'yes' });
    expect(changed.status).toBe(409);
    expect(changed.text).toContain('now finds 4 uploads');
    for (const f of files) expect((await fetch(f.url)).status).toBe(200);

    const done = await admin.post('/dashboard/moderation/purge', { by: 'ip', value: '192.0.2.0/24', since: '2020-01-01', count: '4', confirm: 'yes', reason: 'spam run' });
    expect(done.status).toBe(303);
    expect((await admin.get(done.location!)).text).toContain('4 uploads removed and added to the blocklist.');
    for (const f of files) expect((await fetch(f.url)).status).toBe(404);
    expect((await server.ctx.db.selectFrom('blocklist').select('reason').where('reason', '=', 'spam run').execute()).length).toBeGreaterThanOrEqual(4);
    const entry = (await audit(server)).find((a) => a.action === 'purge');
    expect(entry).toMatchObject({ actor: 'boss', detail: 'spam run', target: '4 images' });
  });

  it('blocklist: exported as a JSON download, imported by upload into another site (token checked), bad files explained', async () => {
    const page = await admin.get('/dashboard/moderation/blocklist');
    expect(page.text).toMatch(/\d+ entries on the list\./);
    const exported = await admin.get('/dashboard/moderation/blocklist.json');
    expect(exported.status).toBe(200);
    expect(exported.headers.get('content-disposition')).toBe('attachment; filename="shoebox-blocklist.json"');
    const data = JSON.parse(exported.text);
    expect(data.format).toBe('shoebox-blocklist');
    expect(data.entries.length).toBeGreaterThanOrEqual(4);
    expect((await audit(server)).some((a) => a.action === 'blocklist.export')).toBe(true);

    const other = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0' });
    try {
      const { browser: otherAdmin } = await memberWithKey(other.url, 'root');
      await otherAdmin.get('/dashboard/moderation/blocklist');
      const token = otherAdmin.csrf!;
      const file = { name: 'list.json', data: exported.text };
      expect((await postMultipart(otherAdmin, '/dashboard/moderation/blocklist/import', { _csrf: 'forged' }, file)).status).toBe(403);
      expect((await postMultipart(otherAdmin, '/dashboard/moderation/blocklist/import', {}, file)).status).toBe(403);
      const notJson = await postMultipart(otherAdmin, '/dashboard/moderation/blocklist/import', { _csrf: token }, { name: 'x.json', data: '{nope' });
      expect(notJson.status).toBe(400);
      expect(notJson.text).toContain('That file is not JSON:');
      const wrongShape = await postMultipart(otherAdmin, '/dashboard/moderation/blocklist/import', { _csrf: token }, { name: 'x.json', data: '{"entries": []}' });
      expect(wrongShape.status).toBe(400);
      expect(wrongShape.text).toContain('Not a Shoebox blocklist');
      expect(await other.ctx.db.selectFrom('blocklist').select('id').execute()).toEqual([]);

      const imported = await postMultipart(otherAdmin, '/dashboard/moderation/blocklist/import', { _csrf: token }, file);
      expect(imported.status).toBe(303);
      expect((await otherAdmin.get(imported.location!)).text).toContain(`${data.entries.length} entries added to the blocklist (0 already on it).`);
      const again = await postMultipart(otherAdmin, '/dashboard/moderation/blocklist/import', { _csrf: token }, file);
      expect((await otherAdmin.get(again.location!)).text).toContain(`0 entries added to the blocklist (${data.entries.length} already on it).`);
      expect((await other.ctx.db.selectFrom('audit_log').select(['actor', 'action']).execute())).toEqual([
        { actor: 'root', action: 'blocklist.import' }, { actor: 'root', action: 'blocklist.import' },
      ]);
    } finally {
      await other.close();
    }
  });
});
