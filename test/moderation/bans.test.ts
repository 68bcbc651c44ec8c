import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRange, addressInRange, IpRangeError } from '../../src/moderation/ip-ranges.js';
import { runShoebox } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { FileOrigin, uploadVia, WAYS_IN } from './ways-in.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('IP ranges', () => {
  it('normalizes addresses and CIDR ranges, IPv4 and IPv6, and matches IPv4 seen through IPv6', () => {
    expect(parseRange('203.0.113.7/24').text).toBe('203.0.113.0/24');
    expect(parseRange('203.0.113.7').text).toBe('203.0.113.7/32');
    expect(parseRange('2001:db8:abcd::1/32').text).toBe('2001:db8::/32');
    expect(addressInRange('203.0.113.0/24', '203.0.113.200')).toBe(true);
    expect(addressInRange('203.0.113.0/24', '203.0.114.1')).toBe(false);
    expect(addressInRange('203.0.113.0/24', '::ffff:203.0.113.9')).toBe(true);
    expect(addressInRange('2001:db8::/32', '2001:db8:ffff::1')).toBe(true);
    expect(addressInRange('2001:db8::/32', '203.0.113.1')).toBe(false);
    expect(() => parseRange('203.0.113.0/33')).toThrow(IpRangeError);
    expect(() => parseRange('not-an-ip')).toThrow(IpRangeError);
  });
});

describe('IP bans', () => {
  let server: TestServer;
  let origin: FileOrigin;
  let key: string;
  let cliEnv: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_GUEST_WEB_UPLOADS: '1' });
    origin = await new FileOrigin().start();
    ({ key } = await server.createUserWithKey('alice'));
    cliEnv = { SHOEBOX_DATA_DIR: server.dataDir, SHOEBOX_DATABASE_URL: server.settings.databaseUrl };
  });
  afterAll(async () => {
    await origin.stop();
    await server.close();
  });

  it('a CIDR ban made with the CLI refuses the API, URL uploads, resumable uploads and web forms with a 403 in the API envelope; pages still read', async () => {
    const added = await runShoebox(['ban', 'add', '127.0.0.0/8', '--message', 'spam from this network'], cliEnv);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toContain('banned 127.0.0.0/8');
    await server.ctx.moderation.bans.refresh(); // the server re-reads bans every 2 s; don't wait for it

    const picture = await makeVariedImage(1);
    for (const way of WAYS_IN) {
      const out = await uploadVia(way, server.url, origin, picture, { key });
      expect(out.status, way).toBe(403);
      expect(out.body.status_code, way).toBe(403);
      expect(out.body.error.code, way).toBe(403);
      expect(out.body.error.message, way).toBe('Your address is banned from uploading or posting to this site: spam from this network');
    }
    const login = await fetch(`${server.url}/login`, { method: 'POST', body: new URLSearchParams({ username: 'alice', password: 'x' }) });
    expect(login.status).toBe(403);
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    expect(await server.ctx.db.selectFrom('images').selectAll().execute()).toEqual([]);

    const listed = await runShoebox(['ban', 'list'], cliEnv);
    expect(listed.stdout).toContain('127.0.0.0/8\tno end\tspam from this network');
    const removed = await runShoebox(['ban', 'remove', '127.0.0.1/8'], cliEnv);
    expect(removed.code, removed.stderr).toBe(0);
    await server.ctx.moderation.bans.refresh();
    const after = await uploadVia('api', server.url, origin, picture, { key });
    expect(after.status).toBe(200);
    const audit = await server.ctx.db.selectFrom('audit_log').select(['actor', 'action', 'target', 'detail', 'ip']).orderBy('id').execute();
    const cli = `cli:${userInfo().username}`;
    expect(audit).toEqual([
      { actor: cli, action: 'ban.add', target: '127.0.0.0/8', detail: 'spam from this network', ip: null },
      { actor: cli, action: 'ban.remove', target: '127.0.0.1/8', detail: null, ip: null },
    ]);
  }, 240_000);

  it('the CLI refuses what is not an address or range, and an unknown duration', async () => {
    const bad = await runShoebox(['ban', 'add', '300.1.1.1'], cliEnv);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('is not an IP address or CIDR range');
    const badDuration = await runShoebox(['ban', 'add', '192.0.2.1', '--expires', 'soon'], cliEnv);
    expect(badDuration.code).toBe(1);
    expect(badDuration.stderr).toContain('is not a duration');
  }, 180_000);

  it('a ban with an expiry stops applying when it ends, with no restart and no cleanup', async () => {
    await server.ctx.moderation.bans.add('127.0.0.1', { expiresAt: new Date(Date.now() + 2500) });
    const banned = await uploadVia('api', server.url, origin, await makeVariedImage(2), { key });
    expect(banned.status).toBe(403);
    expect(banned.body.error.message).toBe('Your address is banned from uploading or posting to this site');
    await wait(3000);
    const later = await uploadVia('api', server.url, origin, await makeVariedImage(2), { key });
    expect(later.status).toBe(200);
  }, 20_000);

  it('stop words and the blocklist export from the CLI are in the audit log like the dashboard\'s (who: cli:<system user>, no address)', async () => {
    const since = (await server.ctx.db.selectFrom('audit_log').select((eb) => eb.fn.max('id').as('id')).executeTakeFirst())?.id ?? 0;
    const added = await runShoebox(['stopword', 'add', 'casino', '--hold'], cliEnv);
    expect(added.code, added.stderr).toBe(0);
    expect((await runShoebox(['stopword', 'list'], cliEnv)).stdout).toContain('casino\thold');
    const removed = await runShoebox(['stopword', 'remove', 'casino'], cliEnv);
    expect(removed.code, removed.stderr).toBe(0);
    expect((await runShoebox(['stopword', 'list'], cliEnv)).stdout).not.toContain('casino');
    const missing = await runShoebox(['stopword', 'remove', 'casino'], cliEnv);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('"casino" is not a stop word');
    const exported = await runShoebox(['blocklist', 'export'], cliEnv);
    expect(exported.code, exported.stderr).toBe(0);

    const audit = await server.ctx.db.selectFrom('audit_log').select(['actor', 'action', 'target', 'detail', 'ip']).where('id', '>', Number(since)).orderBy('id').execute();
    const cli = `cli:${userInfo().username}`;
    expect(audit).toEqual([
      { actor: cli, action: 'stopword.set', target: 'casino', detail: 'hold', ip: null },
      { actor: cli, action: 'stopword.remove', target: 'casino', detail: null, ip: null },
      { actor: cli, action: 'blocklist.export', target: null, detail: '0 entries', ip: null },
    ]);
  }, 180_000);
});

describe('IP bans behind a proxy', () => {
  let trusting: TestServer;
  let direct: TestServer;
  let origin: FileOrigin;

  beforeAll(async () => {
    [trusting, direct] = await Promise.all([
      startTestServer({ SHOEBOX_TRUST_PROXY: '127.0.0.1', SHOEBOX_GUEST_API_UPLOADS: '1' }),
      startTestServer({ SHOEBOX_GUEST_API_UPLOADS: '1' }),
    ]);
    origin = await new FileOrigin().start();
    for (const s of [trusting, direct]) {
      await s.ctx.moderation.bans.add('203.0.113.0/24');
      await s.ctx.moderation.bans.add('2001:db8::/32', { message: 'IPv6 range' });
    }
  });
  afterAll(async () => {
    await origin.stop();
    await Promise.all([trusting.close(), direct.close()]);
  });

  it('take the client address from X-Forwarded-For only when SHOEBOX_TRUST_PROXY names the proxy', async () => {
    const picture = await makeVariedImage(3);
    const from = (ip: string) => ({ headers: { 'X-Forwarded-For': ip } });
    expect((await uploadVia('api', trusting.url, origin, picture, from('203.0.113.77'))).status).toBe(403);
    const v6 = await uploadVia('resumable', trusting.url, origin, picture, from('2001:db8:1::9'));
    expect(v6.status).toBe(403);
    expect(v6.body.error.message).toContain('IPv6 range');
    expect((await uploadVia('api', trusting.url, origin, picture, from('198.51.100.1'))).status).toBe(200);
    // Without trust, the header is only a claim: the socket's address (127.0.0.1) is not banned.
    expect((await uploadVia('api', direct.url, origin, picture, from('203.0.113.77'))).status).toBe(200);
    const [row] = await trusting.ctx.db.selectFrom('images').select('uploader_ip').execute();
    expect(row.uploader_ip).toBe('198.51.100.1');
  }, 30_000);
});
