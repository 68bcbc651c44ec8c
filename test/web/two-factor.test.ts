import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRecoveryCode, totpCodeAt } from '../../src/accounts/two-factor.js';
import { createPasswordResetLink } from '../../src/accounts/password-reset.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';
import { decodeEntities, WebClient } from './web-client.js';

/** The secret shown under the QR code while enrolling. */
function secretOn(html: string): string {
  const match = /<code id="totp-secret" class="secret">([A-Z2-7]+)<\/code>/.exec(html);
  if (!match) throw new Error('no secret on the page');
  return match[1];
}

function recoveryCodesOn(html: string): string[] {
  const list = /<ol class="recovery-codes">([\s\S]*?)<\/ol>/.exec(html);
  return list ? [...list[1].matchAll(/<code>([a-z0-9-]+)<\/code>/g)].map((m) => m[1]) : [];
}

/** Enrols `browser` (signed in) and returns the secret and the recovery codes. */
async function enrol(browser: WebClient): Promise<{ secret: string; codes: string[] }> {
  await browser.get('/settings/security');
  const posted = await browser.post('/settings/2fa/start');
  // Post/Redirect/Get: a reload of the QR code page shows the same secret, never a new one.
  expect(posted.status).toBe(303);
  const start = await browser.get('/settings/security?enrol=1');
  expect(start.status).toBe(200);
  expect(secretOn((await browser.get('/settings/security?enrol=1')).text)).toBe(secretOn(start.text));
  expect(start.text).toMatch(/<img class="qr" src="data:image\/png;base64,[A-Za-z0-9+/=]+"/);
  const secret = secretOn(start.text);
  const on = await browser.post('/settings/2fa/enable', { code: totpCodeAt(secret, Date.now()) });
  expect(on.status).toBe(200);
  const codes = recoveryCodesOn(on.text);
  expect(codes).toHaveLength(10);
  return { secret, codes };
}

describe('two-factor sign-in (TOTP and recovery codes)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('enrols with a QR code, then signs in with the password and a code; the same code is refused the second time', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('careful', 'correct horse battery');
    await browser.get('/settings/security');
    // A wrong code doesn't turn it on.
    await browser.post('/settings/2fa/start');
    const start = await browser.get('/settings/security?enrol=1');
    const secret = secretOn(start.text);
    const wrong = await browser.post('/settings/2fa/enable', { code: '000000' === totpCodeAt(secret, Date.now()) ? '111111' : '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain('That code is not right.');
    let row = await server.ctx.db.selectFrom('users').selectAll().where('username', '=', 'careful').executeTakeFirstOrThrow();
    expect(row.totp_enabled).toBe(0);

    const enrolCode = totpCodeAt(secret, Date.now());
    const on = await browser.post('/settings/2fa/enable', { code: enrolCode });
    expect(on.status).toBe(200);
    expect(on.headers.get('cache-control')).toBe('no-store');
    const codes = recoveryCodesOn(on.text);
    expect(codes).toHaveLength(10);
    row = await server.ctx.db.selectFrom('users').selectAll().where('username', '=', 'careful').executeTakeFirstOrThrow();
    expect(row.totp_enabled).toBe(1);
    // Recovery codes are stored hashed only.
    const stored = await server.ctx.db.selectFrom('recovery_codes').selectAll().where('user_id', '=', row.id).execute();
    expect(stored.map((r) => r.code_hash).sort()).toEqual(codes.map(hashRecoveryCode).sort());
    expect(JSON.stringify(stored)).not.toContain(codes[0]);
    // Shown once: the page later shows how many are left, not the codes.
    const later = await browser.get('/settings/security');
    expect(recoveryCodesOn(later.text)).toEqual([]);
    expect(later.text).toContain('10 of 10 recovery codes left.');

    // Sign in: the password alone gives no session.
    const phone = new WebClient(server.url);
    await phone.get('/login');
    const first = await phone.post('/login', { login: 'careful', password: 'correct horse battery', next: '/settings' });
    expect(first.status).toBe(303);
    expect(first.location).toBe('/login/2fa?next=%2Fsettings');
    expect(phone.cookies.has('shoebox_session')).toBe(false);
    expect(phone.cookies.has('shoebox_2fa')).toBe(true);
    expect((await phone.get('/settings')).status).toBe(303);
    const form = await phone.get('/login/2fa?next=%2Fsettings');
    expect(form.status).toBe(200);
    expect(form.text).toContain('autocomplete="one-time-code"');

    // The code used to enrol has been spent already: it can't sign in.
    const replayed = await phone.post('/login/2fa', { code: enrolCode, next: '/settings' });
    expect(replayed.status).toBe(401);
    // The next 30-second step's code (clocks drift, so one step either side is accepted) is fresh.
    const code = totpCodeAt(secret, Date.now() + 30_000);
    const second = await phone.post('/login/2fa', { code, next: '/settings' });
    expect(second.status).toBe(303);
    expect(second.location).toBe('/settings?notice=signed-in');
    expect(phone.cookies.has('shoebox_session')).toBe(true);
    expect(phone.cookies.has('shoebox_2fa')).toBe(false);
    expect((await phone.get('/settings')).status).toBe(200);

    // The same code again, from a fresh password step: refused.
    const other = new WebClient(server.url);
    await other.get('/login');
    await other.post('/login', { login: 'careful', password: 'correct horse battery' });
    await other.get('/login/2fa');
    const again = await other.post('/login/2fa', { code });
    expect(again.status).toBe(401);
    expect(other.cookies.has('shoebox_session')).toBe(false);
  });

  it('signs in with a recovery code, once; the second use of the same code is refused', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('recoverer', 'correct horse battery');
    const { codes } = await enrol(browser);

    const lost = new WebClient(server.url);
    await lost.get('/login');
    await lost.post('/login', { login: 'recoverer', password: 'correct horse battery' });
    await lost.get('/login/2fa');
    // Typed sloppily (capitals, spaces): still the code.
    const ok = await lost.post('/login/2fa', { code: ` ${codes[3].toUpperCase()} ` });
    expect(ok.status).toBe(303);
    expect(lost.cookies.has('shoebox_session')).toBe(true);
    expect(decodeEntities((await browser.get('/settings/security')).text)).toContain('9 of 10 recovery codes left.');

    const thief = new WebClient(server.url);
    await thief.get('/login');
    await thief.post('/login', { login: 'recoverer', password: 'correct horse battery' });
    await thief.get('/login/2fa');
    const refused = await thief.post('/login/2fa', { code: codes[3] });
    expect(refused.status).toBe(401);
    expect(thief.cookies.has('shoebox_session')).toBe(false);
  });

  it('throttles wrong codes: after 5 the half-done sign-in is over and the password must be given again', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('guessed', 'correct horse battery');
    const { secret } = await enrol(browser);
    const attacker = new WebClient(server.url);
    await attacker.get('/login');
    await attacker.post('/login', { login: 'guessed', password: 'correct horse battery' });
    await attacker.get('/login/2fa');
    const current = totpCodeAt(secret, Date.now());
    const wrongCode = current === '123456' ? '654321' : '123456';
    for (let i = 0; i < 5; i++) expect((await attacker.post('/login/2fa', { code: wrongCode })).status).toBe(401);
    const blocked = await attacker.post('/login/2fa', { code: totpCodeAt(secret, Date.now()) });
    expect(blocked.status).toBe(429);
    expect(attacker.cookies.has('shoebox_session')).toBe(false);
    expect(attacker.cookies.has('shoebox_2fa')).toBe(false);
  });

  it('turning it off needs the password; new recovery codes replace the old ones', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('switcher', 'correct horse battery');
    const { codes } = await enrol(browser);
    const fresh = await browser.post('/settings/2fa/recovery-codes', { password: 'correct horse battery' });
    const newCodes = recoveryCodesOn(fresh.text);
    expect(newCodes).toHaveLength(10);
    expect(newCodes).not.toContain(codes[0]);
    const user = await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'switcher').executeTakeFirstOrThrow();
    const hashes = (await server.ctx.db.selectFrom('recovery_codes').select('code_hash').where('user_id', '=', user.id).execute()).map((r) => r.code_hash);
    expect(hashes).not.toContain(hashRecoveryCode(codes[0]));

    const wrong = await browser.post('/settings/2fa/disable', { password: 'not my password' });
    expect(wrong.status).toBe(400);
    const off = await browser.post('/settings/2fa/disable', { password: 'correct horse battery' });
    expect(off.status).toBe(303);
    expect(off.location).toBe('/settings/security?notice=two-factor-disabled');
    const signIn = await new WebClient(server.url).login('switcher', 'correct horse battery');
    expect(signIn.location).toBe('/switcher?notice=signed-in');
  });
});

describe('SHOEBOX_REQUIRE_2FA_FOR_ADMINS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_REQUIRE_2FA_FOR_ADMINS: '1' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('sends an admin without two-factor sign-in to set it up, and lets them through once it is on; users are not asked', async () => {
    const admin = new WebClient(server.url);
    await admin.signup('boss');
    const blocked = await admin.get('/settings');
    expect(blocked.status).toBe(303);
    expect(blocked.location).toBe('/settings/security?notice=two-factor-required');
    expect((await admin.get('/explore')).location).toBe('/settings/security?notice=two-factor-required');
    const security = await admin.get('/settings/security?notice=two-factor-required');
    expect(security.status).toBe(200);
    expect(security.text).toContain('This site requires admins to use two-factor sign-in.');
    const { secret } = await enrol(admin);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect((await admin.get('/settings')).status).toBe(200);
    // Required: the page offers no way to turn it off.
    expect((await admin.get('/settings/security')).text).not.toContain('/settings/2fa/disable');

    const member = new WebClient(server.url);
    await member.signup('member');
    expect((await member.get('/settings')).status).toBe(200);
  });
});

describe('two-factor sign-in and reset links under a sub-path (SHOEBOX_BASE_URL=http://host/pics)', () => {
  let server: TestServer;
  let origin: string;
  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = await startTestServer({ PORT: String(port), SHOEBOX_BASE_URL: `${origin}/pics`, SHOEBOX_REQUIRE_2FA_FOR_ADMINS: '1' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('keeps the base path in every redirect, form, cookie and link', async () => {
    const browser = new WebClient(server.url);
    await browser.signup('subadmin');
    expect((await browser.get('/settings')).location).toBe('/pics/settings/security?notice=two-factor-required');
    const start = (await browser.get('/settings/security')).text;
    expect(start).toContain('action="/pics/settings/2fa/start"');
    expect((await browser.post('/settings/2fa/start')).location).toBe('/pics/settings/security?enrol=1');
    const enrolPage = await browser.get('/settings/security?enrol=1');
    expect(enrolPage.text).toContain('action="/pics/settings/2fa/enable"');
    const secret = secretOn(enrolPage.text);
    expect((await browser.post('/settings/2fa/enable', { code: totpCodeAt(secret, Date.now()) })).status).toBe(200);

    const phone = new WebClient(server.url);
    await phone.get('/login');
    const first = await phone.post('/login', { login: 'subadmin', password: 'correct horse battery' });
    expect(first.location).toBe('/pics/login/2fa');
    expect(phone.lastSetCookies.find((c) => c.startsWith('shoebox_2fa='))).toMatch(/Path=\/pics/);
    const form = await phone.get('/login/2fa');
    expect(form.text).toContain('action="/pics/login/2fa"');
    const done = await phone.post('/login/2fa', { code: totpCodeAt(secret, Date.now() + 30_000) });
    expect(done.location).toBe('/pics/subadmin?notice=signed-in');

    const user = await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'subadmin').executeTakeFirstOrThrow();
    const link = await createPasswordResetLink(server.ctx, user.id);
    expect(link.startsWith(`${origin}/pics/password/reset/`)).toBe(true);
    const reset = await new WebClient(origin).get(link);
    expect(reset.status).toBe(200);
    expect(reset.text).toContain('action="/pics/password/reset/');
  });
});
