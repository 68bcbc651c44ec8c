import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { createAlbum, memberWithKey, WebClient } from '../web/web-client.js';

describe('reports', () => {
  let server: TestServer;
  let admin: WebClient;
  let files: any[] = [];
  let albumId: string;

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_TRUST_PROXY: '127.0.0.1', SHOEBOX_REPORT_LIMIT: '3', SHOEBOX_FLOOD_LIMIT: '0' });
    ({ browser: admin } = await memberWithKey(server.url, 'boss'));
    const alice = await memberWithKey(server.url, 'alice');
    albumId = await createAlbum(alice.browser, { name: 'Trip', privacy: 'public' });
    for (const seed of [801, 802]) {
      const res = await uploadFile(server.url, await makeVariedImage(seed, { width: 200, height: 150 }), 'r.jpg', { title: `Report me ${seed}` }, { 'X-API-Key': alice.key, 'X-Forwarded-For': '198.51.100.5' });
      files.push(res.body.image);
    }
  });
  afterAll(() => server.close());

  it('a visitor reports a file and an album from their pages, and is thanked; each address has an hourly limit', async () => {
    const visitor = new WebClient(server.url, { 'Accept-Language': 'en', 'X-Forwarded-For': '203.0.113.50' });
    const page = await visitor.get(files[0].path_viewer);
    expect(page.text).toContain('name="target" value="image:');
    const sent = await visitor.post('/report', { target: `image:${files[0].id_encoded}`, reason: 'copyright', note: 'My photo, taken in 2019' });
    expect(sent.status).toBe(303);
    expect((await visitor.get(sent.location!)).text).toContain('Thank you. A moderator will look at your report.');
    await visitor.post('/report', { target: `image:${files[0].id_encoded}`, reason: 'spam' });
    const album = await visitor.get(`/album/${albumId}`);
    expect(album.text).toContain(`value="album:${albumId}"`);
    expect((await visitor.post('/report', { target: `album:${albumId}`, reason: 'other' })).status).toBe(303);
    const tooMany = await visitor.post('/report', { target: `image:${files[1].id_encoded}`, reason: 'spam' });
    expect(tooMany.status).toBe(429);
    expect(tooMany.text).toContain('You have sent many reports in a short time.');
    // Another address may still report.
    const other = new WebClient(server.url, { 'Accept-Language': 'en', 'X-Forwarded-For': '203.0.113.51' });
    await other.get(files[1].path_viewer);
    expect((await other.post('/report', { target: `image:${files[1].id_encoded}`, reason: 'illegal' })).status).toBe(303);
    expect((await other.post('/report', { target: 'image:nope', reason: 'spam' })).status).toBe(404);
    expect((await other.post('/report', { target: `image:${files[1].id_encoded}`, reason: 'boring' })).status).toBe(400);
    expect(await server.ctx.db.selectFrom('reports').select('id').execute()).toHaveLength(4);
  });

  it('the queue shows reasons and counts; remove-and-ban removes, blocklists and bans the uploader; dismiss closes', async () => {
    const queue = await admin.get('/moderation/reports');
    expect(queue.status).toBe(200);
    expect(queue.text).toContain('2 reports: Copyright infringement ×1, Spam or advertising ×1');
    expect(queue.text).toContain('My photo, taken in 2019');
    const visitor = new WebClient(server.url);
    expect((await visitor.get('/moderation/reports')).status).toBe(303);

    const banned = await admin.post('/moderation/reports', { do: `ban:image:${files[0].id_encoded}` });
    expect(banned.status).toBe(303);
    expect((await admin.get(banned.location!)).text).toContain('the uploader');
    expect((await fetch(files[0].url)).status).toBe(404);
    expect((await server.ctx.db.selectFrom('blocklist').select('reason').execute())[0].reason).toBe('reported: copyright, spam');
    const fromBannedAddress = await uploadFile(server.url, await makeVariedImage(999, { width: 100, height: 80 }), 'x.jpg', {}, { 'X-Forwarded-For': '198.51.100.5' });
    expect(fromBannedAddress.status).toBe(403);

    await admin.post('/moderation/reports', { do: `dismiss:image:${files[1].id_encoded}` });
    await admin.post('/moderation/reports', { do: `dismiss:album:${albumId}` });
    expect((await admin.get('/moderation/reports')).text).toContain('No open reports.');
    expect((await fetch(files[1].url)).status).toBe(200);
    const audit = await server.ctx.db.selectFrom('audit_log').select('action').orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['ban.add', 'reports.remove-and-ban', 'reports.dismiss', 'reports.dismiss']);
  });

  it('the audit log shows every action (who, what, on what, from where) and exports as CSV, for moderators only', async () => {
    const page = await admin.get('/moderation/audit');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<code>reports.remove-and-ban</code>');
    const csv = await admin.get('/moderation/audit.csv');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const lines = csv.text.trim().split('\n');
    expect(lines[0]).toBe('when_utc,who,action,action_name,target,detail,from');
    expect(lines).toHaveLength(5);
    expect(lines[1]).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},boss,reports\.dismiss,Reports dismissed,album:\d+,,127\.0\.0\.1$/);
    expect(lines.some((l) => l.includes(',boss,ban.add,IP ban added,198.51.100.5,from reports on image:'))).toBe(true);
    const { browser: member } = await memberWithKey(server.url, 'carol');
    expect((await member.get('/moderation/audit.csv')).status).toBe(404);
  });
});
