import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { postForm, uploadFile } from '../support/api.js';
import { createPostgresDatabase, postgresSkipReason, type TestPostgresDatabase } from '../support/databases.js';
import { createServer, type Server } from 'node:http';
import { waitFor } from '../support/instance.js';
import { tusUpload } from '../support/tus.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from '../web/web-client.js';
import { saveSiteSettings } from '../../src/admin/site-settings.js';

/**
 * Settings changed in the dashboard of one instance take effect on another instance of the
 * same site (one PostgreSQL database) within seconds, through its API and its pages, with no
 * restart; a setting given in the environment stays locked.
 */
const skipReason = await postgresSkipReason();

describe.skipIf(skipReason !== undefined)('dashboard settings on two instances sharing PostgreSQL', () => {
  let database: TestPostgresDatabase;
  let a: TestServer;
  let b: TestServer;
  let admin: WebClient;
  let key: string;

  beforeAll(async () => {
    database = await createPostgresDatabase();
    a = await startTestServer({ SHOEBOX_DATABASE_URL: database.url });
    // Instance b was started with the flood limit in its environment: that setting is locked there.
    b = await startTestServer({ SHOEBOX_DATABASE_URL: database.url, SHOEBOX_FLOOD_LIMIT: '500', SHOEBOX_FLOOD_LIMIT_WEEK: '40', SHOEBOX_ALLOW_PRIVATE_URLS: '1' });
    admin = new WebClient(a.url);
    await admin.signup('boss');
    ({ key } = await a.createUserWithKey('uploader'));
  }, 120_000);
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await database?.drop();
  });

  async function save(fields: Record<string, string | string[]>) {
    await admin.get('/dashboard/settings');
    return admin.post('/dashboard/settings', fields);
  }

  it('applies each change on the other instance, through the web and the API, within seconds', async () => {
    // Before: the defaults, on b.
    expect((await fetch(`${b.url}/`)).status).toBe(200);
    expect(await (await fetch(`${b.url}/`)).text()).toMatch(/<title>[^<]*Shoebox<\/title>/);
    expect((await uploadFile(b.url, await makePng(), 'x.png')).status).toBe(401); // no guest API uploads

    const saved = await save({
      SHOEBOX_SITE_NAME: 'Picture Barn',
      SHOEBOX_SITE_DESCRIPTION: 'Photos of barns',
      SHOEBOX_HOME_INTRO: 'Read the **rules** first.',
      SHOEBOX_SIGNUP: 'closed',
      SHOEBOX_GUEST_API_UPLOADS: ['0', '1'],
      SHOEBOX_URL_UPLOADS: ['0'],
      SHOEBOX_ACCEPTED_TYPES: 'jpg,gif',
      SHOEBOX_MAX_EXPIRATION: '3600',
      SHOEBOX_LANGUAGES: ['en', 'ko'],
      SHOEBOX_DEFAULT_LANGUAGE: 'ko',
    });
    expect(saved.status, saved.text).toBe(303);
    expect(saved.location).toBe('/dashboard/settings?done=settings-saved');

    // b picks the change up by polling the settings version (every 2 s).
    const home = await waitFor('b to show the new site name', async () => {
      const text = await (await fetch(`${b.url}/`, { headers: { 'Accept-Language': 'en' } })).text();
      return /<title>[^<]*Picture Barn<\/title>/.test(text) ? text : null;
    }, 15_000);
    expect(home).toContain('<meta name="description" content="Photos of barns">');
    expect(home).toContain('Read the <strong>rules</strong> first.');
    // Languages: only English and Korean are offered; a browser asking for Dutch gets the default, Korean.
    expect(home).toMatch(/<option value="ko"/);
    expect(home).not.toMatch(/<option value="nl"/);
    expect((await fetch(`${b.url}/`, { headers: { 'Accept-Language': 'nl' } })).headers.get('content-language')).toBe('ko');
    // Sign-up closed.
    expect((await fetch(`${b.url}/signup`)).status).toBe(403);
    // The API: guests may upload now, but only JPEG and GIF, never by URL, and no expiry beyond an hour.
    const guest = await uploadFile(b.url, await makeJpeg(40, 30), 'guest.jpg');
    expect(guest.status, guest.text).toBe(200);
    expect((await uploadFile(b.url, await makePng(), 'no.png', {}, { 'X-API-Key': key })).status).toBe(415);
    const byUrl = await fetch(`${b.url}/api/1/upload`, { method: 'POST', headers: { 'X-API-Key': key }, body: new URLSearchParams({ source: `${a.url}/healthz` }) });
    expect(byUrl.status).toBe(403);
    expect((await uploadFile(b.url, await makeJpeg(41, 30), 'long.jpg', { expiration: 'P1D' }, { 'X-API-Key': key })).status).toBe(400);
    // oEmbed names the site.
    const viewer = guest.body.image.url_viewer as string;
    const oembed = await fetch(`${b.url}/oembed?url=${encodeURIComponent(viewer.replace(a.url, b.url))}&format=json`);
    expect((await oembed.json()).provider_name).toBe('Picture Barn');
  });

  it('applies the upload policy, URLs and NSFW default on the other instance too', async () => {
    const photo = await makeJpeg(300, 200, '#357');
    expect((await fetch(`${b.url}/upload`, { redirect: 'manual' })).status).toBe(303); // guests sent to sign in
    expect((await fetch(`${b.url}/explore`).then((r) => r.text()))).toContain('name="show" value="1"'); // NSFW blurred
    const saved = await save({
      SHOEBOX_GUEST_WEB_UPLOADS: ['0', '1'],
      SHOEBOX_SHOW_NSFW: ['0', '1'],
      SHOEBOX_SEO_URLS: ['0'],
      SHOEBOX_REFUSE_DUPLICATES: ['0', '1'],
      SHOEBOX_MAX_UPLOAD_SIZE: `${photo.length + 10}B`,
    });
    expect(saved.status, saved.text).toBe(303);
    await waitFor('b to take guests on the web uploader', async () => (await fetch(`${b.url}/upload`, { redirect: 'manual' })).status === 200, 15_000);
    expect((await fetch(`${b.url}/explore`).then((r) => r.text()))).toContain('name="show" value="0"'); // NSFW shown
    const first = await uploadFile(b.url, photo, 'barn.jpg', { title: 'Barn door' }, { 'X-API-Key': key });
    expect(first.status, first.text).toBe(200);
    expect(first.body.image.url_viewer).toMatch(new RegExp(`/image/${first.body.image.id_encoded}$`)); // no title slug
    expect((await uploadFile(b.url, photo, 'again.jpg', {}, { 'X-API-Key': key })).status).toBe(409); // duplicate
    const big = await makeJpeg(900, 700, '#a53');
    expect(big.length).toBeGreaterThan(photo.length + 10);
    expect((await uploadFile(b.url, big, 'big.jpg', {}, { 'X-API-Key': key })).status).toBe(413);
  });

  it('refuses a bad value with a message and applies nothing of that form', async () => {
    const res = await save({ SHOEBOX_SITE_NAME: 'Half Applied', SHOEBOX_MAX_UPLOAD_SIZE: 'lots' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('SHOEBOX_MAX_UPLOAD_SIZE');
    const rows = await a.ctx.db.selectFrom('site_settings').select('value').where('name', '=', 'SHOEBOX_SITE_NAME').executeTakeFirstOrThrow();
    expect(rows.value).toBe('Picture Barn');
    const unknownType = await save({ SHOEBOX_ACCEPTED_TYPES: 'jpg,exe' });
    expect(unknownType.status).toBe(400);
    expect(unknownType.text).toContain('exe');
    const badLanguages = await save({ SHOEBOX_LANGUAGES: ['en'], SHOEBOX_DEFAULT_LANGUAGE: 'ko' });
    expect(badLanguages.status).toBe(400);
    expect(badLanguages.text).toContain('SHOEBOX_DEFAULT_LANGUAGE');
  });

  it('shows a setting given in the environment as locked, and refuses to change it there', async () => {
    const onB = new WebClient(b.url);
    await onB.login('boss', 'correct horse battery');
    const page = await onB.get('/dashboard/settings');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/name="SHOEBOX_FLOOD_LIMIT" value="500"[^>]* disabled/);
    expect(page.text).toContain('Set by SHOEBOX_FLOOD_LIMIT in the environment');
    // A hand-made post is not applied on b: the environment wins.
    await onB.post('/dashboard/settings', { SHOEBOX_FLOOD_LIMIT: '1' });
    expect(b.ctx.settings.floodUploadsPerMinute).toBe(500);
    // On a, where the environment does not set it, the same setting is editable and applies.
    expect((await save({ SHOEBOX_FLOOD_LIMIT: '1' })).status).toBe(303);
    expect(a.ctx.settings.floodUploadsPerMinute).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(b.ctx.settings.floodUploadsPerMinute).toBe(500);
  });

  it('applies the email check, admins\' two-factor, the hour/day/week/month flood limits and the report limit on the other instance', async () => {
    const page = await admin.get('/dashboard/settings');
    for (const env of ['SHOEBOX_EMAIL_VERIFICATION', 'SHOEBOX_REQUIRE_2FA_FOR_ADMINS', 'SHOEBOX_FLOOD_LIMIT_HOUR', 'SHOEBOX_FLOOD_LIMIT_DAY', 'SHOEBOX_FLOOD_LIMIT_WEEK', 'SHOEBOX_FLOOD_LIMIT_MONTH', 'SHOEBOX_REPORT_LIMIT']) {
      expect(page.text).toContain(`name="${env}"`);
    }
    expect(page.text).toContain('Admins must use two-factor sign-in');
    expect(page.text).toContain('Reports per hour from one address');
    // Validated like the environment: a bad number, and the email check without a mail server, are refused.
    const badNumber = await save({ SHOEBOX_FLOOD_LIMIT_DAY: 'many' });
    expect(badNumber.status).toBe(400);
    expect(badNumber.text).toContain('SHOEBOX_FLOOD_LIMIT_DAY');
    const noMail = await save({ SHOEBOX_EMAIL_VERIFICATION: 'required' });
    expect(noMail.status).toBe(400);
    expect(noMail.text).toContain('needs SHOEBOX_SMTP_URL');
    expect(a.ctx.settings.emailVerification).toBe('off');

    // Something to report, uploaded by a member with no uploads yet (before the limits change).
    const { key: reported } = await a.createUserWithKey('reported');
    const target = (await uploadFile(a.url, await makeJpeg(70, 30), 'r.jpg', {}, { 'X-API-Key': reported })).body.image.id_encoded as string;

    // Set on a, in force on b within seconds.
    const saved = await save({ SHOEBOX_FLOOD_LIMIT_HOUR: '2', SHOEBOX_FLOOD_LIMIT_DAY: '50', SHOEBOX_FLOOD_LIMIT_MONTH: '900', SHOEBOX_REPORT_LIMIT: '1' });
    expect(saved.status, saved.text).toBe(303);
    await waitFor('b to take the hourly flood limit', async () => b.ctx.settings.floodUploadsPerHour === 2, 15_000);
    expect(b.ctx.settings.floodUploadsPerDay).toBe(50);
    expect(b.ctx.settings.floodUploadsPerMonth).toBe(900);
    // The week limit comes from b's environment: locked there, and shown so.
    expect(b.ctx.settings.floodUploadsPerWeek).toBe(40);
    // Two uploads an hour for a new member on b; the third is refused.
    const { key: fresh } = await a.createUserWithKey('hourly');
    for (let i = 0; i < 2; i++) expect((await uploadFile(b.url, await makeJpeg(50 + i, 30), `h${i}.jpg`, {}, { 'X-API-Key': fresh })).status).toBe(200);
    const third = await uploadFile(b.url, await makeJpeg(60, 30), 'h3.jpg', {}, { 'X-API-Key': fresh });
    expect(third.status, third.text).toBe(429);

    // One report an hour from an address on b.
    const report = () => fetch(`${b.url}/report`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', origin: b.url }, body: new URLSearchParams({ target: `image:${target}`, reason: 'spam' }), redirect: 'manual' });
    expect((await report()).status).toBe(303);
    expect((await report()).status).toBe(429);

    // Back to the defaults; the week limit stays locked on b.
    expect((await save({ SHOEBOX_FLOOD_LIMIT_HOUR: '', SHOEBOX_FLOOD_LIMIT_DAY: '', SHOEBOX_FLOOD_LIMIT_MONTH: '', SHOEBOX_REPORT_LIMIT: '' })).status).toBe(303);
    await waitFor('b to drop the hourly limit', async () => b.ctx.settings.floodUploadsPerHour === 0, 15_000);
    const onB = new WebClient(b.url);
    await onB.login('boss', 'correct horse battery');
    const lockedPage = await onB.get('/dashboard/settings');
    expect(lockedPage.status).toBe(200);
    expect(lockedPage.text).toMatch(/name="SHOEBOX_FLOOD_LIMIT_WEEK" value="40"[^>]* disabled/);
    expect(lockedPage.text).toContain('Set by SHOEBOX_FLOOD_LIMIT_WEEK in the environment');

    // Admins without two-factor sign-in are sent to set it up on b, once a turns the rule on.
    expect((await save({ SHOEBOX_REQUIRE_2FA_FOR_ADMINS: ['0', '1'] })).status).toBe(303);
    await waitFor('b to require two-factor sign-in of admins', async () => {
      const res = await onB.get('/dashboard/settings');
      return res.status === 303 && /^\/settings\/security/.test(res.location ?? '');
    }, 15_000);
    // (The admin has no second factor, so the dashboard is closed to them now: the rule is lifted as the site's own code would.)
    await saveSiteSettings({ db: a.ctx.db, settings: a.ctx.settings, live: a.ctx.live }, { SHOEBOX_REQUIRE_2FA_FOR_ADMINS: null }, { name: 'test' });
    await waitFor('b to drop the two-factor rule', async () => (await onB.get('/dashboard/settings')).status === 200, 15_000);
    expect(b.ctx.settings.reportsPerHour).toBe(10);
  });

  it('marks new uploads NSFW by default (guests, then everyone) on every door of the other instance', async () => {
    const picture = await makePng(64, 48);
    const origin: Server = createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'image/png' }).end(picture));
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}/p.png`;
    try {
      const nsfwOf = async (res: { status: number; text: string; body: any }) => {
        expect(res.status, res.text).toBe(200);
        return Number(res.body.image.nsfw);
      };
      const viaApi = async (fields: Record<string, string>, headers: Record<string, string>) => nsfwOf(await uploadFile(b.url, await makeJpeg(30 + Math.floor(Math.random() * 300), 20), 'n.jpg', fields, headers));
      const viaTus = async (headers: Record<string, string>, metadata: Record<string, string> = {}) => {
        const outcome = await tusUpload(await makeJpeg(30 + Math.floor(Math.random() * 300), 21), { endpoint: `${b.url}/upload/tus`, headers, metadata: { filename: 't.jpg', ...metadata } });
        expect(outcome.ok, outcome.text).toBe(true);
        return Number(outcome.body.image.nsfw);
      };
      const viaUrl = async (body: Record<string, string>) => {
        const res = await fetch(`${b.url}/upload/url`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-API-Key': key }, body: JSON.stringify({ url: originUrl, ...body }) });
        const text = await res.text();
        return nsfwOf({ status: res.status, text, body: JSON.parse(text) });
      };
      const guestConfig = async () => (await (await fetch(`${b.url}/upload/config.json`)).json()).nsfwDefault;

      // Before: nothing is marked unless asked.
      const reset = await save({ SHOEBOX_ACCEPTED_TYPES: 'jpg,png,gif', SHOEBOX_MAX_UPLOAD_SIZE: '10MB', SHOEBOX_URL_UPLOADS: ['0', '1'], SHOEBOX_REFUSE_DUPLICATES: ['0'] });
      expect(reset.status, reset.text).toBe(303);
      await waitFor('b to take PNG again', async () => b.ctx.settings.acceptedExtensions.includes('png') && b.ctx.settings.urlUploads);
      expect(await viaApi({}, {})).toBe(0);
      expect(await guestConfig()).toBe(false);

      // Guests' uploads: marked on b within seconds, through the API, tus and the uploader's box; members' are not.
      const page = await admin.get('/dashboard/settings');
      expect(page.text).toContain('name="SHOEBOX_NSFW_BY_DEFAULT"');
      expect(page.text).toContain('Guests&#39; uploads, unless they untick it');
      expect((await save({ SHOEBOX_NSFW_BY_DEFAULT: 'guests' })).status).toBe(303);
      await waitFor('b to mark guest uploads NSFW', async () => (await guestConfig()) === true, 15_000);
      expect(await viaApi({}, {})).toBe(1);
      expect(await viaTus({})).toBe(1);
      expect(await viaApi({}, { 'X-API-Key': key })).toBe(0);
      expect(await viaUrl({})).toBe(0);
      // The uploader's own choice wins.
      expect(await viaApi({ nsfw: '0' }, {})).toBe(0);

      // Everyone: members' uploads too, by every door, unless they say otherwise.
      expect((await save({ SHOEBOX_NSFW_BY_DEFAULT: 'everyone' })).status).toBe(303);
      await waitFor('b to mark every upload NSFW', async () => b.ctx.settings.nsfwByDefault === 'everyone', 15_000);
      expect(await viaApi({}, { 'X-API-Key': key })).toBe(1);
      expect(await viaTus({ 'X-API-Key': key })).toBe(1);
      expect(await viaUrl({})).toBe(1);
      expect(await viaUrl({ nsfw: '0' })).toBe(0);
      expect(await viaTus({ 'X-API-Key': key }, { nsfw: '0' })).toBe(0);
      const member = new WebClient(b.url);
      await member.login('boss', 'correct horse battery');
      expect(JSON.parse((await member.get('/upload/config.json')).text).nsfwDefault).toBe(true);
      expect((await save({ SHOEBOX_NSFW_BY_DEFAULT: 'off' })).status).toBe(303);
    } finally {
      origin.close();
    }
  });

  it('a logo and a favicon uploaded on one instance are served by the other within seconds, and removed there too', async () => {
    await admin.get('/dashboard/settings');
    const cookie = [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const send = async (name: 'logo' | 'favicon', bytes: Buffer) => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(bytes)]), `${name}.png`);
      return fetch(`${a.url}/dashboard/settings/asset/${name}`, { method: 'POST', body: form, headers: { cookie, origin: a.url }, redirect: 'manual' });
    };
    const logo = await makePng(120, 40);
    const favicon = await makePng(32, 32);
    expect((await send('logo', logo)).status).toBe(303);
    expect((await send('favicon', favicon)).status).toBe(303);

    // b was not told: it finds the change by polling, and serves the same bytes from the shared database.
    const page = await waitFor('b to show the new logo', async () => {
      const text = await (await fetch(`${b.url}/explore`)).text();
      return text.includes('class="brand-logo"') ? text : null;
    }, 15_000);
    const logoPath = /<img class="brand-logo" src="([^"]+)"/.exec(page)![1];
    const faviconPath = /<link rel="icon" href="(\/site\/favicon[^"]*)"/.exec(page)![1];
    const servedLogo = await fetch(`${b.url}${logoPath.replace(/&amp;/g, '&')}`);
    expect(servedLogo.status).toBe(200);
    expect(servedLogo.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await servedLogo.arrayBuffer()).equals(logo)).toBe(true);
    const servedFavicon = await fetch(`${b.url}${faviconPath.replace(/&amp;/g, '&')}`);
    expect(Buffer.from(await servedFavicon.arrayBuffer()).equals(favicon)).toBe(true);

    // A new logo replaces the old one on b (a new versioned URL), and removing it there too.
    const second = await makePng(90, 30);
    await admin.get('/dashboard/settings');
    expect((await send('logo', second)).status).toBe(303);
    const newPath = await waitFor('b to show the second logo', async () => {
      const found = /<img class="brand-logo" src="([^"]+)"/.exec(await (await fetch(`${b.url}/explore`)).text())?.[1];
      return found && found !== logoPath ? found : null;
    }, 15_000);
    expect(Buffer.from(await (await fetch(`${b.url}${newPath.replace(/&amp;/g, '&')}`)).arrayBuffer()).equals(second)).toBe(true);
    await admin.get('/dashboard/settings');
    expect((await admin.post('/dashboard/settings/asset/logo/remove')).status).toBe(303);
    await waitFor('b to drop the logo', async () => !(await (await fetch(`${b.url}/explore`)).text()).includes('brand-logo'), 15_000);
    expect((await fetch(`${b.url}/site/logo`)).status).toBe(404);
  });

  it('applies viewer routes, the page cache size and a raised upload size on an instance started before, with no restart', async () => {
    // c starts while the upload size is small: the size it read at start is not what it keeps to.
    expect((await save({ SHOEBOX_MAX_UPLOAD_SIZE: '200KB', SHOEBOX_ACCEPTED_TYPES: 'jpg,png,gif', SHOEBOX_SEO_URLS: ['0'], SHOEBOX_REFUSE_DUPLICATES: ['0'] })).status).toBe(303);
    const c = await startTestServer({ SHOEBOX_DATABASE_URL: database.url, SHOEBOX_FLOOD_LIMIT: '500' });
    try {
      expect(c.ctx.settings.maxUploadBytes).toBe(200_000);
      const noise = Buffer.alloc(820 * 820 * 3);
      for (let i = 0; i < noise.length; i++) noise[i] = (Math.imul(i + 1, 2654435761) >>> 24) & 0xff;
      const big = await sharp(noise, { raw: { width: 820, height: 820, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
      expect(big.length).toBeGreaterThan(2_000_000);
      const withKey = { 'X-API-Key': key };
      expect((await uploadFile(c.url, big, 'big.png', {}, withKey)).status).toBe(413);
      expect((await postForm(c.url, { source: big.toString('base64') }, withKey)).status).toBe(413);
      const asJson = (title: string) => fetch(`${c.url}/api/1/upload`, { method: 'POST', headers: { ...withKey, 'Content-Type': 'application/json' }, body: JSON.stringify({ source: big.toString('base64'), title }) });
      expect((await asJson('Too soon')).status).toBe(413);

      const saved = await save({ SHOEBOX_MAX_UPLOAD_SIZE: '5MB', SHOEBOX_IMAGE_ROUTE: 'photo', SHOEBOX_VIDEO_ROUTE: 'clip', SHOEBOX_PAGE_CACHE_SIZE: '0' });
      expect(saved.status, saved.text).toBe(303);
      await waitFor('c to take the new routes', async () => c.ctx.settings.imageRoute === 'photo', 15_000);
      const settingsPage = await admin.get('/dashboard/settings');
      expect(settingsPage.text).not.toContain('applies after a restart');

      // A bigger file than the size c started with: multipart and base64 alike.
      const multipart = await uploadFile(c.url, big, 'big.png', { title: 'Big barn' }, withKey);
      expect(multipart.status, multipart.text).toBe(200);
      const base64 = await postForm(c.url, { source: big.toString('base64'), title: 'Base barn' }, withKey);
      expect(base64.status, base64.text).toBe(200);
      const json = await asJson('Json barn');
      expect(json.status, await json.clone().text()).toBe(200);

      // The viewer lives at the new route; the old one redirects there; oEmbed and the delete link follow.
      const image = multipart.body.image;
      const viewer = new URL(image.url_viewer.replace(a.url, c.url));
      // (SEO URLs are off: no title slug.)
      expect(viewer.pathname).toBe(`/photo/${image.id_encoded}`);
      const page = await fetch(viewer);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Big barn');
      const old = await fetch(`${c.url}/image/${image.id_encoded}`, { redirect: 'manual' });
      expect(old.status).toBe(301);
      expect(old.headers.get('location')).toBe(viewer.pathname);
      expect((await fetch(`${c.url}/clip/${image.id_encoded}`, { redirect: 'manual' })).headers.get('location')).toBe(viewer.pathname);
      expect((await fetch(`${c.url}/oembed?url=${encodeURIComponent(viewer.href)}&format=json`)).status).toBe(200);
      const removed = await fetch(base64.body.image.delete_url.replace(a.url, c.url), { redirect: 'manual' });
      expect(removed.status).toBe(301);
      expect(removed.headers.get('location')).toMatch(/^\/photo\/[A-Za-z0-9]+\?deleted$/);
      expect((await fetch(base64.body.image.url_viewer.replace(a.url, c.url))).status).toBe(404);

      // Page cache off: a change made elsewhere shows at once; turned on from the dashboard, c takes the new size.
      const id = c.ctx.ids.decode(image.id_encoded)!;
      const titleNow = async () => /<title>([^<]*)/.exec(await (await fetch(viewer)).text())![1];
      await c.ctx.db.updateTable('images').set({ title: 'Renamed elsewhere' }).where('id', '=', id).execute();
      expect(await titleNow()).toContain('Renamed elsewhere');
      expect((await save({ SHOEBOX_PAGE_CACHE_SIZE: '1000' })).status).toBe(303);
      await waitFor('c to turn its page cache on', async () => c.ctx.settings.pageCacheSize === 1000, 15_000);
      const renamedPath = viewer;
      const first = await (await fetch(renamedPath)).text();
      expect(first).toContain('Renamed elsewhere');
      // Kept copies never outlive a change: the next write shows within the cache's recheck second.
      await a.ctx.db.updateTable('images').set({ title: 'Renamed again' }).where('id', '=', id).execute();
      await waitFor('c to show the change after its recheck second', async () => (await titleNow()).includes('Renamed again'), 15_000);

      // A route may not take over a path of the site or an account's profile.
      const taken = await save({ SHOEBOX_IMAGE_ROUTE: 'dashboard' });
      expect(taken.status).toBe(400);
      expect(taken.text).toContain('SHOEBOX_IMAGE_ROUTE: &quot;dashboard&quot; is a path the site already uses');
      const profile = await save({ SHOEBOX_VIDEO_ROUTE: 'uploader' });
      expect(profile.status).toBe(400);
      expect(profile.text).toContain('an account&#39;s name');
      expect((await save({ SHOEBOX_IMAGE_ROUTE: 'image', SHOEBOX_VIDEO_ROUTE: 'video', SHOEBOX_MAX_UPLOAD_SIZE: '10MB' })).status).toBe(303);
    } finally {
      await c.close();
    }
  }, 120_000);
});
