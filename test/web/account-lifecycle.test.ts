import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { createAlbum, memberWithKey, WebClient } from './web-client.js';

function confirmLinkIn(text: string, baseUrl: string): string {
  const match = new RegExp(`${baseUrl.replace(/[.:/]/g, '\\$&')}/email/confirm/[A-Za-z0-9_-]+`).exec(text);
  if (!match) throw new Error(`no confirm link in:\n${text}`);
  return match[0];
}

/** Every file under a folder, as paths relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
  } catch {
    return [];
  }
}

/** Posts a multipart form as the browser would (its cookies, the site's Origin). */
async function postAvatar(browser: WebClient, file: Buffer, type = 'image/png') {
  const form = new FormData();
  form.append('avatar', new Blob([new Uint8Array(file)], { type }), 'me.png');
  const res = await fetch(browser.url('/settings/avatar'), {
    method: 'POST',
    body: form,
    headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), origin: new URL(browser.baseUrl).origin, 'Accept-Language': 'en' },
    redirect: 'manual',
  });
  return { status: res.status, location: res.headers.get('location'), text: await res.text() };
}

describe('email verification at sign-up (SHOEBOX_EMAIL_VERIFICATION=required) and change of address', () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({ SHOEBOX_SMTP_URL: smtp.url, SHOEBOX_EMAIL_VERIFICATION: 'required' });
    // The site's first account (its admin) is never held back by the check: an owner whose mail
    // server isn't working yet must not be locked out. The sign-ups below are ordinary members.
    await server.createUserWithKey('owner');
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('a sign-up without an address is refused; with one, it waits for the emailed link before it can sign in', async () => {
    const noEmail = new WebClient(server.url);
    expect((await noEmail.get('/signup')).text).toMatch(/<input name="email" type="email" value="" autocomplete="email" required>/);
    const refused = await noEmail.signup('nomail', 'correct horse battery', '');
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('This site needs an email address to create an account.');

    const browser = new WebClient(server.url);
    const res = await browser.signup('checked', 'correct horse battery', 'checked@example.test');
    expect(res.status).toBe(200);
    expect(res.text).toContain('We sent a link to checked@example.test.');
    expect(browser.cookies.has('shoebox_session')).toBe(false);
    const mail = await smtp.nextMessageTo('checked@example.test');
    expect(mail.mail.subject).toBe('Confirm your email address for Shoebox');
    const link = confirmLinkIn(mail.mail.text, server.url);

    // Signing in before the link is opened: refused, and a fresh link goes out.
    const early = await new WebClient(server.url).login('checked', 'correct horse battery');
    expect(early.status).toBe(403);
    expect(early.text).toContain('waiting for you to confirm your email address');
    const resent = await smtp.nextMessageTo('checked@example.test');
    const freshLink = confirmLinkIn(resent.mail.text, server.url);
    expect(freshLink).not.toBe(link);

    // Opening the link only shows a button (mail scanners spend nothing); the button confirms.
    const visitor = new WebClient(server.url);
    const page = await visitor.get(freshLink);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Confirm that checked@example.test is the address of your account.');
    expect((await visitor.get(freshLink)).status).toBe(200);
    // The first link was replaced by the second.
    expect((await new WebClient(server.url).get(link)).status).toBe(410);
    const confirmed = await visitor.post(freshLink);
    expect(confirmed.status).toBe(303);
    expect(confirmed.location).toBe('/login?notice=email-verified');
    expect((await visitor.get(freshLink)).status).toBe(410);

    const signedIn = await new WebClient(server.url).login('checked', 'correct horse battery');
    expect(signedIn.status).toBe(303);
  });

  it('changes the address only when the link sent to the new one is opened; the password is asked first', async () => {
    const browser = new WebClient(server.url);
    await server.createUserWithKey('mover');
    await browser.login('mover', 'password123');
    await browser.get('/settings/security');
    const wrong = await browser.post('/settings/email', { email: 'new@example.test', password: 'not it' });
    expect(wrong.status).toBe(400);
    const taken = await browser.post('/settings/email', { email: 'checked@example.test', password: 'password123' });
    expect(taken.status).toBe(409);
    const asked = await browser.post('/settings/email', { email: 'New@Example.test', password: 'password123' });
    expect(asked.status).toBe(303);
    expect(asked.location).toBe('/settings/security?notice=email-change-sent');
    let row = await server.ctx.db.selectFrom('users').selectAll().where('username', '=', 'mover').executeTakeFirstOrThrow();
    expect(row.email).toBe('mover@example.test');

    const mail = await smtp.nextMessageTo('new@example.test');
    expect(mail.mail.text).toContain('new@example.test');
    const link = confirmLinkIn(mail.mail.text, server.url);
    const page = await browser.get(link);
    expect(page.text).toContain('Change the address of your account to new@example.test.');
    const done = await browser.post(link);
    expect(done.location).toBe('/settings/security?notice=email-changed');
    row = await server.ctx.db.selectFrom('users').selectAll().where('username', '=', 'mover').executeTakeFirstOrThrow();
    expect(row.email).toBe('new@example.test');
    expect((await browser.get('/settings/security')).text).toContain('<strong>new@example.test</strong>');
    // The new address signs in; the link is spent.
    expect((await new WebClient(server.url).login('new@example.test', 'password123')).status).toBe(303);
    await browser.get('/settings/security');
    expect((await browser.post(link)).status).toBe(410);
  });
});

describe('delete my account: files, albums, avatar and rows, nothing left behind', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('asks for the username and the password, then removes every file through the removal path', async () => {
    // The first account is the site's only admin: it can't delete itself and leave the site with none.
    const keeper = await memberWithKey(server.url, 'keeper');
    await keeper.browser.get('/settings/security');
    const lastAdmin = await keeper.browser.post('/settings/delete', { confirm: 'keeper', password: 'correct horse battery' });
    expect(lastAdmin.status).toBe(409);
    expect(lastAdmin.text).toContain('You are this site&#39;s only admin.');
    const kept = await uploadFile(server.url, await makeJpeg(300, 200, '#246'), 'kept.jpg', {}, { 'X-API-Key': keeper.key });
    expect(kept.status).toBe(200);

    const { browser, key } = await memberWithKey(server.url, 'leaver');
    const albumId = await createAlbum(browser, { name: 'Trips', privacy: 'private' });
    const uploads = [];
    for (const [i, color] of ['#a33', '#3a3', '#33a'].entries()) {
      const res = await uploadFile(server.url, await makeJpeg(900, 600, color), `p${i}.jpg`, i === 0 ? { album_id: albumId } : {}, { 'X-API-Key': key });
      expect(res.status).toBe(200);
      uploads.push((res.body as { image: { url: string } }).image.url);
    }
    await browser.get('/settings/profile');
    expect((await postAvatar(browser, await makePng(300, 300))).status).toBe(303);
    const leaver = await server.ctx.db.selectFrom('users').selectAll().where('username', '=', 'leaver').executeTakeFirstOrThrow();
    expect(leaver.avatar_key).toMatch(/^avatars\//);
    const before = await filesUnder(server.dataDir);
    expect(before.filter((f) => f.startsWith('avatars/'))).toHaveLength(1);
    const leaverImages = await server.ctx.db.selectFrom('images').selectAll().where('user_id', '=', leaver.id).execute();
    expect(leaverImages).toHaveLength(3);

    await browser.get('/settings/security');
    const wrongName = await browser.post('/settings/delete', { confirm: 'someone', password: 'correct horse battery' });
    expect(wrongName.status).toBe(400);
    const wrongPassword = await browser.post('/settings/delete', { confirm: 'leaver', password: 'not my password' });
    expect(wrongPassword.status).toBe(400);
    expect(await server.ctx.db.selectFrom('images').select('id').where('user_id', '=', leaver.id).execute()).toHaveLength(3);

    const gone = await browser.post('/settings/delete', { confirm: 'leaver', password: 'correct horse battery' });
    expect(gone.status).toBe(303);
    expect(gone.location).toBe('/?notice=account-deleted');
    expect(browser.cookies.has('shoebox_session')).toBe(false);

    // Rows: user, albums, images, names, sessions, keys all gone; no image became a guest file.
    const db = server.ctx.db;
    expect(await db.selectFrom('users').select('id').where('id', '=', leaver.id).execute()).toHaveLength(0);
    expect(await db.selectFrom('albums').select('id').where('user_id', '=', leaver.id).execute()).toHaveLength(0);
    expect(await db.selectFrom('sessions').select('id').where('user_id', '=', leaver.id).execute()).toHaveLength(0);
    expect(await db.selectFrom('api_keys').select('id').where('user_id', '=', leaver.id).execute()).toHaveLength(0);
    expect(await db.selectFrom('images').select('id').where('user_id', 'is', null).execute()).toHaveLength(0);
    const images = await db.selectFrom('images').selectAll().execute();
    expect(images).toHaveLength(1);
    const names = await db.selectFrom('file_names').selectAll().execute();
    expect(names.map((n) => n.name)).toEqual([images[0].name]);
    // Files: only the other member's remain; the avatar is gone.
    const after = await filesUnder(server.dataDir);
    for (const image of leaverImages) expect(after.some((f) => f.includes(`/${image.name}.`))).toBe(false);
    expect(after.some((f) => f.includes(`/${images[0].name}.`))).toBe(true);
    expect(after.filter((f) => f.startsWith('avatars/'))).toHaveLength(0);
    // The URLs are dead, the API key too.
    for (const url of uploads) expect((await fetch(url)).status).toBe(404);
    const refused = await uploadFile(server.url, await makeJpeg(100, 100), 'x.jpg', {}, { 'X-API-Key': key });
    expect(refused.status).toBe(401);
    expect((await new WebClient(server.url).login('leaver', 'correct horse battery')).status).toBe(401);
    expect((await fetch(`${server.url}/leaver`)).status).toBe(404);
  });
});
