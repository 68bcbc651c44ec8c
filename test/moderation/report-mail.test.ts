import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setUserRole } from '../../src/db/repositories/admin.js';
import { uploadFile } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { startTestSmtpServer, type TestSmtpServer } from '../support/smtp.js';
import { makeVariedImage } from '../support/varied-images.js';
import { WebClient } from '../web/web-client.js';

/** Long enough that a dozen reports fit in it on a busy machine. */
const INTERVAL = 15;

describe('admins get an email about new reports, batched (a real SMTP server on loopback)', () => {
  let smtp: TestSmtpServer;
  let server: TestServer;
  let files: any[];

  const visitor = (n: number) => new WebClient(server.url, { 'Accept-Language': 'en', 'X-Forwarded-For': `203.0.113.${n}` });
  const report = async (n: number, reason = 'spam') => {
    const res = await visitor(n).post('/report', { target: `image:${files[n % files.length].id_encoded}`, reason, note: '' });
    expect(res.status).toBe(303);
  };
  const mailsTo = (address: string) => smtp.received.filter((m) => m.to.includes(address));

  beforeAll(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({
      SHOEBOX_SMTP_URL: smtp.url, SHOEBOX_MAIL_FROM: 'Shoebox <no-reply@shoebox.test>', SHOEBOX_REPORT_MAIL_INTERVAL: String(INTERVAL),
      SHOEBOX_TRUST_PROXY: '127.0.0.1', SHOEBOX_REPORT_LIMIT: '100', SHOEBOX_FLOOD_LIMIT: '0',
    });
    const boss = new WebClient(server.url);
    await boss.signup('boss', 'correct horse battery', 'boss@example.test'); // the first account runs the site
    const ada = await server.createUserWithKey('ada', { admin: true });
    await server.ctx.db.updateTable('users').set({ language: 'ko' }).where('id', '=', ada.userId).execute();
    const mona = await server.createUserWithKey('mona');
    await setUserRole(server.ctx.db, mona.userId, 'manager');
    const { key } = await server.createUserWithKey('alice');
    files = [];
    for (const seed of [901, 902]) files.push((await uploadFile(server.url, await makeVariedImage(seed, { width: 160, height: 120 }), 'r.jpg', {}, { 'X-API-Key': key })).body.image);
  });
  afterAll(async () => {
    await server.close();
    await smtp.close();
  });

  it('a visitor\'s report sends one mail to each admin at once, in their language, and none to managers or users', async () => {
    await report(1, 'copyright');
    const [toBoss, toAda] = await Promise.all([smtp.nextMessageTo('boss@example.test'), smtp.nextMessageTo('ada@example.test')]);
    expect(toBoss.mail.subject).toBe('[Shoebox] 1 new report');
    expect(toBoss.mail.text).toContain('1 new report since the last email: Copyright infringement ×1.');
    expect(toBoss.mail.text).toContain(`${server.url}/moderation/reports`);
    expect(toBoss.mail.text).toContain('Reports are gathered: at most one such email every minute.');
    expect(toAda.mail.subject).toBe('[Shoebox] 새 신고 1건');
    expect(toAda.mail.text).toContain('저작권 침해');
    expect(mailsTo('mona@example.test')).toEqual([]);
    expect(mailsTo('alice@example.test')).toEqual([]);
  });

  it('a flood of reports within the interval is one more mail per admin when it ends, telling about all of them', async () => {
    const before = smtp.received.length;
    const started = Date.now();
    for (let n = 10; n < 22; n++) await report(n, n % 3 === 0 ? 'illegal' : 'spam');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(Date.now() - started, 'the flood fits in the interval').toBeLessThan(INTERVAL * 1000);
    expect(smtp.received.length, 'nothing more while the interval runs').toBe(before);

    const [toBoss] = await Promise.all([smtp.nextMessageTo('boss@example.test', (INTERVAL + 5) * 1000), smtp.nextMessageTo('ada@example.test', (INTERVAL + 5) * 1000)]);
    expect(toBoss.mail.subject).toBe('[Shoebox] 12 new reports');
    expect(toBoss.mail.text).toContain('12 new reports since the last email: Spam or advertising ×8, Illegal content ×4.');
    expect(toBoss.mail.text).toContain('13 reports are open in all.');
    // And nothing more after it: two mails each for thirteen reports.
    await new Promise((resolve) => setTimeout(resolve, (INTERVAL + 1) * 1000));
    expect(mailsTo('boss@example.test')).toHaveLength(2);
    expect(mailsTo('ada@example.test')).toHaveLength(2);
  }, 90_000);

  it('after a quiet interval the next report is mailed at once again', async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    await report(30, 'violence');
    const toBoss = await smtp.nextMessageTo('boss@example.test', 3000);
    expect(toBoss.mail.text).toContain('1 new report since the last email: Violence or hate ×1.');
  }, 15_000);
});
