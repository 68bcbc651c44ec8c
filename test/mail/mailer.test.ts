import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.js';
import { composeMail } from '../../src/mail/compose.js';
import { createMailer, mailSenderOf, MailNotConfiguredError } from '../../src/mail/mailer.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';

describe('mail: nodemailer over SMTP from SHOEBOX_SMTP_URL', () => {
  let smtp: TestSmtpServer;
  beforeAll(async () => {
    smtp = await startTestSmtpServer();
  });
  afterAll(async () => {
    await smtp.close();
  });

  it('sends a composed message, signing in with the URL\'s user and password, non-ASCII text intact', async () => {
    const settings = loadSettings({ SHOEBOX_SMTP_URL: smtp.url, SHOEBOX_MAIL_FROM: 'Photos <photos@example.test>', SHOEBOX_DATA_DIR: '/tmp/unused' });
    const mailer = createMailer({ smtpUrl: settings.smtpUrl, from: () => mailSenderOf(settings) });
    expect(mailer.enabled).toBe(true);
    try {
      await mailer.send(composeMail({
        to: 'Reader@Example.test',
        subject: '비밀번호 재설정 <test>',
        greeting: 'Γεια σου',
        paragraphs: ['Line with <b>markup</b> & an ampersand.'],
        action: { label: 'Open', url: 'https://example.test/reset/abc?x=1&y=2' },
        lang: 'ko',
      }));
      const received = await smtp.nextMessageTo('reader@example.test');
      expect(received.authUser).toBe('mailuser');
      expect(received.from).toBe('photos@example.test');
      expect(received.mail.subject).toBe('비밀번호 재설정 <test>');
      expect(received.mail.text).toContain('Γεια σου');
      expect(received.mail.text).toContain('https://example.test/reset/abc?x=1&y=2');
      // The HTML part escapes what it shows: no markup from the text gets through.
      expect(received.mail.html).toContain('&lt;b&gt;markup&lt;/b&gt;');
      expect(received.mail.html).toContain('href="https://example.test/reset/abc?x=1&amp;y=2"');
      expect(received.mail.html).toContain('lang="ko"');
    } finally {
      mailer.close();
    }
  });

  it('refuses a header with a line break (no header injection)', async () => {
    const mailer = createMailer({ smtpUrl: smtp.url, from: 'a@example.test' });
    try {
      await expect(mailer.send({ to: 'x@example.test', subject: 'hi\r\nBcc: victim@example.test', text: 'x' })).rejects.toThrow(/one line/);
      expect(smtp.received.some((m) => m.to.includes('victim@example.test'))).toBe(false);
    } finally {
      mailer.close();
    }
  });

  it('rejects when the server refuses the credentials', async () => {
    const wrong = smtp.url.replace('mailuser', 'someone');
    const mailer = createMailer({ smtpUrl: wrong, from: 'a@example.test' });
    try {
      await expect(mailer.send({ to: 'x@example.test', subject: 'hi', text: 'x' })).rejects.toThrow(/Invalid username or password|auth/i);
    } finally {
      mailer.close();
    }
  });

  it('without SHOEBOX_SMTP_URL sends nothing and says so', async () => {
    const settings = loadSettings({ SHOEBOX_DATA_DIR: '/tmp/unused' });
    const mailer = createMailer({ smtpUrl: settings.smtpUrl, from: () => mailSenderOf(settings) });
    expect(mailer.enabled).toBe(false);
    await expect(mailer.send({ to: 'x@example.test', subject: 'hi', text: 'x' })).rejects.toBeInstanceOf(MailNotConfiguredError);
  });

  it('settings: a bad SMTP URL, a bad verification mode, verification without SMTP are refused with a clear message', () => {
    expect(() => loadSettings({ SHOEBOX_SMTP_URL: 'http://mail.example.test' })).toThrow(/SHOEBOX_SMTP_URL/);
    expect(() => loadSettings({ SHOEBOX_EMAIL_VERIFICATION: 'maybe' })).toThrow(/SHOEBOX_EMAIL_VERIFICATION/);
    expect(() => loadSettings({ SHOEBOX_EMAIL_VERIFICATION: 'required' })).toThrow(/needs SHOEBOX_SMTP_URL/);
    expect(() => loadSettings({ SHOEBOX_REQUIRE_2FA_FOR_ADMINS: 'sometimes' })).toThrow(/SHOEBOX_REQUIRE_2FA_FOR_ADMINS/);
    const settings = loadSettings({ SHOEBOX_BASE_URL: 'https://pics.example.test/sub' });
    // Unset, the sender is named after the site as it is called now.
    expect(settings.mailFrom).toBeUndefined();
    expect(mailSenderOf(settings)).toEqual({ name: 'Shoebox', address: 'no-reply@pics.example.test' });
    expect(mailSenderOf({ ...settings, siteName: 'Picture Barn' })).toEqual({ name: 'Picture Barn', address: 'no-reply@pics.example.test' });
    expect(mailSenderOf(loadSettings({ SHOEBOX_MAIL_FROM: 'Photos <photos@example.test>' }))).toBe('Photos <photos@example.test>');
    expect(settings.emailVerification).toBe('off');
    expect(settings.require2faForAdmins).toBe(false);
  });
});
