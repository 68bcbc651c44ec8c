import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSessionToken } from '../../src/db/repositories/sessions.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from './web-client.js';

describe('accounts: sign up, sessions, CSRF, sign in, password change', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('signs up, is signed in at once with a hashed, HttpOnly, SameSite=Lax session cookie, and signs out', async () => {
    const browser = new WebClient(server.url);
    const res = await browser.signup('first', 'correct horse battery', 'First@Example.com');
    expect(res.status).toBe(303);
    // The first account runs the site: it lands on the dashboard's welcome.
    expect(res.location).toBe('/dashboard?welcome=1');
    const cookie = browser.lastSetCookies.find((c) => c.startsWith('shoebox_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Secure/i);
    const token = browser.cookies.get('shoebox_session')!;
    const rows = await server.ctx.db.selectFrom('sessions').selectAll().execute();
    expect(rows).toHaveLength(1);
    // Only the hash is stored: a copy of the database cannot sign anyone in.
    expect(rows[0].token_hash).toBe(hashSessionToken(token));
    expect(JSON.stringify(rows)).not.toContain(token);

    const settings = await browser.get('/settings');
    expect(settings.status).toBe(200);
    expect(settings.text).toContain('first');
    expect(settings.text).toContain('first@example.com');
    // The first account of a new site is its admin.
    const user = await server.ctx.db.selectFrom('users').selectAll().where('username', '=', 'first').executeTakeFirstOrThrow();
    expect(user.is_admin).toBe(1);

    const out = await browser.post('/logout');
    expect(out.status).toBe(303);
    expect(browser.cookies.has('shoebox_session')).toBe(false);
    expect(await server.ctx.db.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
    // The old token is dead even if someone kept it.
    const replay = new WebClient(server.url);
    replay.cookies.set('shoebox_session', token);
    const page = await replay.get('/settings');
    expect(page.status).toBe(303);
    expect(page.location).toBe('/login?next=%2Fsettings');
    // A dead session cookie is cleared on any page, so the browser stops sending it.
    expect(replay.lastSetCookies.some((c) => /^shoebox_session=;/.test(c) && /Expires=Thu, 01 Jan 1970|Max-Age=0/i.test(c))).toBe(true);
    expect(replay.cookies.has('shoebox_session')).toBe(false);
  });

  it('refuses a form without a CSRF token, with a token of another browser, and a guest token after signing in', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('csrfuser');
    const noToken = await browser.post('/settings/api-key', {}, { csrf: false });
    expect(noToken.status).toBe(403);
    expect(noToken.headers.get('content-type')).toContain('text/html');
    expect(noToken.text).toContain('This form has expired');

    const other = new WebClient(server.url);
    await other.get('/login');
    const foreign = await browser.post('/settings/api-key', { _csrf: other.csrf! });
    expect(foreign.status).toBe(403);
    expect(await server.ctx.db.selectFrom('api_keys').selectAll().execute()).toHaveLength(0);

    // A token issued to the signed-out visitor is bound to "guest", not to the new session.
    const fresh = new WebClient(server.url);
    await fresh.get('/login');
    const guestToken = fresh.csrf!;
    await fresh.post('/login', { login: 'csrfuser', password: 'correct horse battery' });
    const stale = await fresh.post('/settings/api-key', { _csrf: guestToken });
    expect(stale.status).toBe(403);

    await browser.get('/settings');
    const ok = await browser.post('/settings/api-key');
    expect(ok.status).toBe(303);
  });

  it('signs in by username or email, says no to a wrong password, and goes back to the page it came from', async () => {
    const setup = new WebClient(server.url);
    await setup.signup('bob', 'bobs long password', 'bob@example.com');
    const browser = new WebClient(server.url);
    const wrong = await browser.login('bob', 'not it');
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Wrong username or password');
    expect(browser.cookies.has('shoebox_session')).toBe(false);

    const byEmail = await browser.login('bob@example.com', 'bobs long password');
    expect(byEmail.status).toBe(303);
    expect(byEmail.location).toBe('/bob?notice=signed-in');

    const again = new WebClient(server.url);
    await again.get('/login?next=/settings');
    const back = await again.post('/login', { login: 'bob', password: 'bobs long password', next: '/settings' });
    expect(back.location).toBe('/settings?notice=signed-in');
    // Never a redirect to another site.
    const evil = new WebClient(server.url);
    await evil.get('/login');
    const offsite = await evil.post('/login', { login: 'bob', password: 'bobs long password', next: '//evil.example/' });
    expect(offsite.location).toBe('/bob?notice=signed-in');
  });

  it('limits failed sign-ins per name: after ten, even the right password waits', async () => {
    const setup = new WebClient(server.url);
    await setup.signup('target', 'the right password');
    const attacker = new WebClient(server.url);
    await attacker.get('/login');
    for (let i = 0; i < 10; i++) expect((await attacker.post('/login', { login: 'target', password: `guess ${i}` })).status).toBe(401);
    const blocked = await attacker.post('/login', { login: 'target', password: 'the right password' });
    expect(blocked.status).toBe(429);
    expect(blocked.text).toContain('Too many attempts');
    expect(attacker.cookies.has('shoebox_session')).toBe(false);
  });

  it('refuses bad sign-ups with the reason, keeping what was typed', async () => {
    const browser = new WebClient(server.url);
    await browser.get('/signup');
    const short = await browser.post('/signup', { username: 'shorty', email: '', password: 'short', password2: 'short' });
    expect(short.status).toBe(400);
    expect(short.text).toContain('at least 8 characters');
    expect(short.text).toContain('value="shorty"');
    expect((await browser.post('/signup', { username: 'x', password: 'long enough pw', password2: 'long enough pw' })).status).toBe(400);
    expect((await browser.post('/signup', { username: 'mismatch', password: 'long enough pw', password2: 'other one here' })).text).toContain('not the same');
    // Profiles live at /<username>: names of the site's own pages are taken.
    expect((await browser.post('/signup', { username: 'settings', password: 'long enough pw', password2: 'long enough pw' })).status).toBe(409);
    expect((await browser.post('/signup', { username: 'Explore', password: 'long enough pw', password2: 'long enough pw' })).status).toBe(409);
    // A reserved name is said to be reserved, not taken by someone.
    const reserved = await browser.post('/signup', { username: 'admin', password: 'long enough pw', password2: 'long enough pw' });
    expect(reserved.status).toBe(409);
    expect(reserved.text).toContain('That username is reserved for the site and not available.');
    expect(reserved.text).not.toContain('That username is taken.');
    await new WebClient(server.url).signup('taken');
    const taken = await browser.post('/signup', { username: 'taken', password: 'long enough pw', password2: 'long enough pw' });
    expect(taken.status).toBe(409);
    expect(taken.text).toContain('That username is taken.');
    expect(browser.cookies.has('shoebox_session')).toBe(false);
  });

  it('changes the password: the old one stops working and other sessions are signed out', async () => {
    const laptop = new WebClient(server.url);
    await laptop.signup('changer', 'first password!');
    const phone = new WebClient(server.url);
    await phone.login('changer', 'first password!');
    expect((await phone.get('/settings')).status).toBe(200);

    await laptop.get('/settings');
    const wrongCurrent = await laptop.post('/settings/password', { current: 'nope', password: 'second password!', password2: 'second password!' });
    expect(wrongCurrent.status).toBe(400);
    expect(wrongCurrent.text).toContain('current password is not right');
    const changed = await laptop.post('/settings/password', { current: 'first password!', password: 'second password!', password2: 'second password!' });
    expect(changed.status).toBe(303);
    expect(changed.location).toBe('/settings?notice=password-changed');
    expect((await laptop.get('/settings')).status).toBe(200);
    expect((await phone.get('/settings')).status).toBe(303);

    expect((await new WebClient(server.url).login('changer', 'first password!')).status).toBe(401);
    expect((await new WebClient(server.url).login('changer', 'second password!')).status).toBe(303);
  });
});

describe('sign-up modes', () => {
  it('closed: no sign-up page, no sign-up form post, no sign-up link', async () => {
    const server = await startTestServer({ SHOEBOX_SIGNUP: 'closed' });
    try {
      const browser = new WebClient(server.url);
      const page = await browser.get('/signup');
      expect(page.status).toBe(403);
      expect(page.text).toContain('Sign-up is closed');
      expect((await browser.get('/')).text).not.toContain('href="/signup"');
      await browser.get('/login');
      const post = await browser.post('/signup', { username: 'sneaky', password: 'long enough pw', password2: 'long enough pw' });
      expect(post.status).toBe(403);
      expect(await server.ctx.db.selectFrom('users').selectAll().execute()).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  it('invite: an admin makes a link, it signs up one person, and only once', async () => {
    const server = await startTestServer({ SHOEBOX_SIGNUP: 'invite' });
    try {
      await server.createUserWithKey('boss', { admin: true });
      const boss = new WebClient(server.url);
      await boss.login('boss', 'password123');
      await boss.get('/settings');
      const made = await boss.post('/settings/invites');
      expect(made.status).toBe(200);
      const link = /id="invite-url"[^>]*value="([^"]+)"/.exec(made.text)![1];
      expect(link).toMatch(new RegExp(`^${server.url}/signup\\?invite=[A-Za-z0-9_-]+$`));

      const stranger = new WebClient(server.url);
      await stranger.get('/signup');
      expect((await stranger.post('/signup', { username: 'nobody', password: 'long enough pw', password2: 'long enough pw' })).status).toBe(403);

      const invited = new WebClient(server.url);
      const form = await invited.get(link);
      expect(form.status).toBe(200);
      const code = new URL(link).searchParams.get('invite')!;
      const joined = await invited.post('/signup', { invite: code, username: 'invited', password: 'long enough pw', password2: 'long enough pw' });
      expect(joined.status).toBe(303);

      const second = new WebClient(server.url);
      await second.get(link);
      const reused = await second.post('/signup', { invite: code, username: 'second', password: 'long enough pw', password2: 'long enough pw' });
      expect(reused.status).toBe(403);
      expect(reused.text).toContain('not valid or was already used');
    } finally {
      await server.close();
    }
  });

  it('sets Secure on cookies when SHOEBOX_COOKIE_SECURE=1', async () => {
    const server = await startTestServer({ SHOEBOX_COOKIE_SECURE: '1' });
    try {
      const browser = new WebClient(server.url);
      await browser.get('/login');
      expect(browser.lastSetCookies.find((c) => c.startsWith('shoebox_csrf='))).toMatch(/Secure/);
    } finally {
      await server.close();
    }
  });
});
