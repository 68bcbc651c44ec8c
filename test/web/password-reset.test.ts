import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPasswordResetLink } from '../../src/accounts/password-reset.js';
import { hashAccountToken } from '../../src/db/repositories/account-tokens.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { WebClient } from './web-client.js';

/** The reset link in an email's text. */
function resetLinkIn(text: string, baseUrl: string): string {
  const match = new RegExp(`${baseUrl.replace(/[.:/]/g, '\\$&')}/password/reset/[A-Za-z0-9_-]+`).exec(text);
  if (!match) throw new Error(`no reset link in:\n${text}`);
  return match[0];
}

describe('password reset by email, through a real SMTP server on loopback', () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({ SHOEBOX_SMTP_URL: smtp.url, SHOEBOX_MAIL_FROM: 'Shoebox <no-reply@shoebox.test>' });
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  it('emails a link that sets a new password once, signs out every session, and is refused the second time', async () => {
    const owner = new WebClient(server.url);
    await owner.signup('forgetful', 'the old password', 'Forgetful@Example.test');
    // Another device, signed in with the old password.
    const laptop = new WebClient(server.url);
    expect((await laptop.login('forgetful', 'the old password')).status).toBe(303);

    const login = await new WebClient(server.url).get('/login');
    expect(login.text).toContain('href="/password/forgot"');
    expect(login.text).toContain('Forgot password?');

    const visitor = new WebClient(server.url);
    const form = await visitor.get('/password/forgot');
    expect(form.status).toBe(200);
    expect(form.text).toContain('name="email"');
    const asked = await visitor.post('/password/forgot', { email: 'forgetful@example.test' });
    expect(asked.status).toBe(200);
    expect(asked.text).toContain('If an account has this address, a link to reset its password is on its way.');

    const mail = await smtp.nextMessageTo('forgetful@example.test');
    expect(mail.from).toBe('no-reply@shoebox.test');
    expect(mail.mail.subject).toBe('Reset your Shoebox password');
    expect(mail.mail.text).toContain('forgetful');
    const link = resetLinkIn(mail.mail.text, server.url);
    expect(mail.mail.html).toContain(`href="${link}"`);
    // Only the hash of the token is in the database.
    const token = link.split('/').pop()!;
    const rows = await server.ctx.db.selectFrom('account_tokens').selectAll().execute();
    expect(rows.map((r) => r.token_hash)).toContain(hashAccountToken(token));
    expect(JSON.stringify(rows)).not.toContain(token);

    const resetPage = await visitor.get(link);
    expect(resetPage.status).toBe(200);
    expect(resetPage.headers.get('cache-control')).toBe('no-store');
    expect(resetPage.headers.get('referrer-policy')).toBe('no-referrer');
    // A typo doesn't spend the link.
    const mismatch = await visitor.post(link, { password: 'a brand new secret', password2: 'a brand new secreT' });
    expect(mismatch.status).toBe(400);
    const done = await visitor.post(link, { password: 'a brand new secret', password2: 'a brand new secret' });
    expect(done.status).toBe(303);
    expect(done.location).toBe('/login?notice=password-reset');

    // Every session of the account is gone, the laptop's too.
    expect(await server.ctx.db.selectFrom('sessions').selectAll().execute()).toHaveLength(0);
    expect((await laptop.get('/settings')).status).toBe(303);
    expect((await owner.get('/settings')).status).toBe(303);
    // The old password is dead, the new one works.
    expect((await new WebClient(server.url).login('forgetful', 'the old password')).status).toBe(401);
    expect((await new WebClient(server.url).login('forgetful', 'a brand new secret')).status).toBe(303);

    // Used once: a second use is refused, showing it and posting to it alike.
    const again = await new WebClient(server.url).get(link);
    expect(again.status).toBe(410);
    expect(again.text).toContain('This link doesn&#39;t work any more');
    const replay = new WebClient(server.url);
    await replay.get('/password/forgot');
    const second = await replay.post(link, { password: 'someone elses pass', password2: 'someone elses pass' });
    expect(second.status).toBe(410);
    expect((await new WebClient(server.url).login('forgetful', 'someone elses pass')).status).toBe(401);
  });

  it('answers an unknown address exactly as a known one, and sends nothing for it', async () => {
    await new WebClient(server.url).signup('known', 'correct horse battery', 'known@example.test');
    const before = smtp.received.length;
    const answers: string[] = [];
    const timings: number[] = [];
    for (const email of ['known@example.test', 'nobody@example.test']) {
      const visitor = new WebClient(server.url);
      await visitor.get('/password/forgot');
      const started = performance.now();
      const res = await visitor.post('/password/forgot', { email });
      timings.push(performance.now() - started);
      expect(res.status).toBe(200);
      answers.push(res.text.replace(/name="_csrf" value="[^"]+"/g, ''));
    }
    expect(answers[0]).toBe(answers[1]);
    await smtp.nextMessageTo('known@example.test');
    // The answer never waits for the mail server: both come back quickly.
    expect(Math.max(...timings)).toBeLessThan(1000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.received.slice(before).flatMap((m) => m.to)).toEqual(['known@example.test']);
  });

  it('createPasswordResetLink: the link an admin hands over works like an emailed one', async () => {
    const member = await server.createUserWithKey('handed');
    const link = await createPasswordResetLink(server.ctx, member.userId);
    expect(link.startsWith(`${server.url}/password/reset/`)).toBe(true);
    const browser = new WebClient(server.url);
    expect((await browser.get(link)).status).toBe(200);
    expect((await browser.post(link, { password: 'handed over pass', password2: 'handed over pass' })).status).toBe(303);
    expect((await new WebClient(server.url).login('handed', 'handed over pass')).status).toBe(303);
  });

  it('an expired link is refused', async () => {
    const member = await server.createUserWithKey('late');
    const link = await createPasswordResetLink(server.ctx, member.userId);
    await server.ctx.db.updateTable('account_tokens').set({ expires_at: '2000-01-01 00:00:00' }).where('user_id', '=', member.userId).execute();
    const browser = new WebClient(server.url);
    expect((await browser.get(link)).status).toBe(410);
    await browser.get('/login');
    expect((await browser.post(link, { password: 'too late pass', password2: 'too late pass' })).status).toBe(410);
  });

  it('the email is in the account\'s language', async () => {
    const browser = new WebClient(server.url, { 'Accept-Language': 'ko' });
    await browser.signup('korean', 'correct horse battery', 'korean@example.test');
    await browser.get('/settings');
    await browser.post('/settings/preferences', { language: 'ko' });
    // Asked from an English browser: the email still follows the account.
    const visitor = new WebClient(server.url);
    await visitor.get('/password/forgot');
    await visitor.post('/password/forgot', { email: 'korean@example.test' });
    const mail = await smtp.nextMessageTo('korean@example.test');
    expect(mail.mail.subject).toMatch(/[\uac00-\ud7a3]/);
    expect(mail.mail.html).toContain('lang="ko"');
  });
  it('throttles: a few links an hour per address, then silently none; then 429 per address of the asker', async () => {
    await new WebClient(server.url).signup('flooded', 'correct horse battery', 'flooded@example.test');
    const before = smtp.received.length;
    const visitor = new WebClient(server.url, { 'Accept-Language': 'en' });
    await visitor.get('/password/forgot');
    for (let i = 0; i < 5; i++) expect((await visitor.post('/password/forgot', { email: 'flooded@example.test' })).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(smtp.received.slice(before).filter((m) => m.to.includes('flooded@example.test'))).toHaveLength(3);
    // Per client address: past 10 in the window the page says to wait (the counter above already used 5 + earlier tests).
    let status = 200;
    for (let i = 0; i < 12 && status === 200; i++) status = (await visitor.post('/password/forgot', { email: `x${i}@example.test` })).status;
    expect(status).toBe(429);
  });
});

describe('changing the password, and the site\'s name in mail, two-factor and footer', () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  let admin: WebClient;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    // No SHOEBOX_MAIL_FROM: the sender is named after the site.
    server = await startTestServer({ SHOEBOX_SMTP_URL: smtp.url });
    admin = new WebClient(server.url);
    await admin.signup('boss');
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.close();
  });

  async function askReset(email: string): Promise<ReturnType<TestSmtpServer['nextMessageTo']>> {
    const visitor = new WebClient(server.url);
    await visitor.get('/password/forgot');
    expect((await visitor.post('/password/forgot', { email })).status).toBe(200);
    return smtp.nextMessageTo(email);
  }

  it('a new password set on the settings page cancels outstanding reset links and signs out the other sessions', async () => {
    const owner = new WebClient(server.url);
    await owner.signup('changer', 'the old password', 'changer@example.test');
    const laptop = new WebClient(server.url);
    expect((await laptop.login('changer', 'the old password')).status).toBe(303);
    const link = resetLinkIn((await askReset('changer@example.test')).mail.text, server.url);
    expect((await new WebClient(server.url).get(link)).status).toBe(200);

    await owner.get('/settings');
    const changed = await owner.post('/settings/password', { current: 'the old password', password: 'a new password now', password2: 'a new password now' });
    expect(changed.location).toBe('/settings?notice=password-changed');
    // The link sent before the change is dead: whoever got hold of the mailbox cannot use it now.
    const stale = new WebClient(server.url);
    expect((await stale.get(link)).status).toBe(410);
    await stale.get('/password/forgot');
    expect((await stale.post(link, { password: 'hijacked password', password2: 'hijacked password' })).status).toBe(410);
    expect((await new WebClient(server.url).login('changer', 'hijacked password')).status).toBe(401);
    // The other device is signed out, this one stays.
    expect((await laptop.get('/settings')).status).toBe(303);
    expect((await owner.get('/settings')).status).toBe(200);
    // A link asked for after the change works.
    expect((await new WebClient(server.url).get(resetLinkIn((await askReset('changer@example.test')).mail.text, server.url))).status).toBe(200);
  });

  it('a password an admin sets in the dashboard cancels outstanding reset links too', async () => {
    await new WebClient(server.url).signup('helped', 'the old password', 'helped@example.test');
    const link = resetLinkIn((await askReset('helped@example.test')).mail.text, server.url);
    await admin.get('/dashboard/users/helped');
    const set = await admin.post('/dashboard/users/helped/password', { password: 'set by the admin', password2: 'set by the admin' });
    expect(set.status, set.text).toBe(303);
    expect((await new WebClient(server.url).get(link)).status).toBe(410);
  });

  it('mail, the authenticator app and the footer follow the site\'s name as the dashboard sets it', async () => {
    await new WebClient(server.url).signup('reader', 'correct horse battery', 'reader@example.test');
    const before = await askReset('reader@example.test');
    expect(before.mail.subject).toBe('Reset your Shoebox password');
    expect(before.mail.headers.get('from')).toMatch(/^"?Shoebox"? <no-reply@127\.0\.0\.1>$/);
    expect((await new WebClient(server.url).get('/explore')).text).toContain('<span class="footer-note">Shoebox · image and video hosting</span>');

    await admin.get('/dashboard/settings');
    expect((await admin.post('/dashboard/settings', { SHOEBOX_SITE_NAME: 'Picture Barn' })).status).toBe(303);

    const after = await askReset('reader@example.test');
    expect(after.mail.subject).toBe('Reset your Picture Barn password');
    expect(after.mail.text).toContain('Picture Barn');
    expect(after.mail.headers.get('from')).toMatch(/^"?Picture Barn"? <no-reply@127\.0\.0\.1>$/);
    expect(after.from).toBe('no-reply@127.0.0.1');
    // The authenticator app lists the account under the site's name.
    const reader = new WebClient(server.url);
    await reader.login('reader', 'correct horse battery');
    await reader.get('/settings/security');
    await reader.post('/settings/2fa/start');
    const enrol = await reader.get('/settings/security?enrol=1');
    const uri = /href="(otpauth:\/\/[^"]+)"/.exec(enrol.text)![1].replace(/&amp;/g, '&');
    const parsed = new URL(uri);
    expect(decodeURIComponent(parsed.pathname)).toBe('/Picture Barn:reader');
    expect(parsed.searchParams.get('issuer')).toBe('Picture Barn');
    // The footer names the site, and says what it is when it has a description.
    expect((await new WebClient(server.url).get('/explore')).text).toContain('<span class="footer-note">Picture Barn · image and video hosting</span>');
    await admin.get('/dashboard/settings');
    expect((await admin.post('/dashboard/settings', { SHOEBOX_SITE_DESCRIPTION: 'Photos of barns' })).status).toBe(303);
    const footer = (await new WebClient(server.url, { 'Accept-Language': 'ko' }).get('/explore')).text;
    expect(footer).toContain('<span class="footer-note">Picture Barn · Photos of barns</span>');
    expect(footer).not.toContain('Shoebox');
  });
});

describe('password reset without SMTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('says to ask the admin, and sends nothing', async () => {
    const browser = new WebClient(server.url);
    const page = await browser.get('/password/forgot');
    expect(page.status).toBe(200);
    expect(page.text).toContain('ask the site&#39;s admin');
    expect(page.text).not.toContain('name="email"');
    await browser.get('/login');
    const posted = await browser.post('/password/forgot', { email: 'someone@example.test' });
    expect(posted.status).toBe(503);
    expect(await server.ctx.db.selectFrom('account_tokens').selectAll().execute()).toHaveLength(0);
  });
});

describe('password reset when the mail server is down', () => {
  let server: TestServer;
  beforeAll(async () => {
    const { freePort } = await import('../support/server.js');
    // Nothing listens there: every send fails.
    server = await startTestServer({ SHOEBOX_SMTP_URL: `smtp://127.0.0.1:${await freePort()}`, SHOEBOX_LOG_LEVEL: 'silent' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('still answers the same page at once, never an error', async () => {
    await new WebClient(server.url).signup('unlucky', 'correct horse battery', 'unlucky@example.test');
    const visitor = new WebClient(server.url);
    await visitor.get('/password/forgot');
    const res = await visitor.post('/password/forgot', { email: 'unlucky@example.test' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('If an account has this address, a link to reset its password is on its way.');
  });
});
