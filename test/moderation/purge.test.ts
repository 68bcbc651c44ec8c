import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { runShoebox } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { FILE_RECHECK_MS } from '../../src/web/media-files.js';

/**
 * The purge runs in another process (the CLI): a server that served the file moments ago uses
 * its row (and open file) for up to FILE_RECHECK_MS more, as with another instance's delete
 * (docs/WEB.md). The file must be gone once that second is over.
 */
async function statusOnceSettled(url: string): Promise<number> {
  const deadline = Date.now() + FILE_RECHECK_MS + 1500;
  for (;;) {
    const status = (await fetch(url)).status;
    if (status === 404 || Date.now() > deadline) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('purge', () => {
  let server: TestServer;
  let cliEnv: Record<string, string>;
  const uploaded: Record<string, { url: string; id: string }[]> = { alice: [], bob: [], v6: [] };

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_TRUST_PROXY: '127.0.0.1', SHOEBOX_FLOOD_LIMIT: '0' });
    cliEnv = { SHOEBOX_DATA_DIR: server.dataDir, SHOEBOX_DATABASE_URL: server.settings.databaseUrl };
    const { key: alice } = await server.createUserWithKey('alice');
    const { key: bob } = await server.createUserWithKey('bob');
    let seed = 7000;
    const send = async (who: string, key: string, ip: string) => {
      const res = await uploadFile(server.url, await makeVariedImage(seed++, { width: 160, height: 120 }), 'p.jpg', {}, { 'X-API-Key': key, 'X-Forwarded-For': ip });
      expect(res.status).toBe(200);
      uploaded[who].push({ url: res.body.image.url, id: res.body.image.id_encoded });
    };
    for (const ip of ['198.51.100.7', '198.51.100.200', '203.0.113.5']) await send('alice', alice, ip);
    for (const ip of ['198.51.100.9', '192.0.2.1']) await send('bob', bob, ip);
    await send('v6', bob, '2001:db8::42');
  }, 60_000);
  afterAll(() => server.close());

  const count = async () => (await server.ctx.db.selectFrom('images').select('id').execute()).length;

  it('counts first; --dry-run removes nothing', async () => {
    const dry = await runShoebox(['purge', '--ip', '198.51.100.0/24', '--dry-run'], cliEnv);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('3 uploads by address 198.51.100.0/24');
    expect(dry.stdout).toContain('dry run: nothing removed');
    expect(await count()).toBe(6);
  }, 120_000);

  it('by range: removes the uploads from inside it (files too), puts them on the blocklist, writes the audit log', async () => {
    const res = await runShoebox(['purge', '--ip', '198.51.100.0/24', '--reason', 'spam wave'], cliEnv);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout).toContain('3 uploads by address 198.51.100.0/24');
    expect(res.stdout).toContain('removed 3');
    expect(await count()).toBe(3);
    expect(await statusOnceSettled(uploaded.alice[0].url)).toBe(404);
    expect((await fetch(uploaded.alice[2].url)).status).toBe(200);
    expect((await fetch(uploaded.bob[1].url)).status).toBe(200);
    const blocked = await server.ctx.db.selectFrom('blocklist').select('reason').execute();
    expect(blocked).toEqual([{ reason: 'spam wave' }, { reason: 'spam wave' }, { reason: 'spam wave' }]);
    const audit = await server.ctx.db.selectFrom('audit_log').selectAll().execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'purge', target: '3 images', detail: 'spam wave' });
  }, 120_000);

  it('by IPv6 range, and by user', async () => {
    const v6 = await runShoebox(['purge', '--ip', '2001:db8::/32', '--no-blocklist'], cliEnv);
    expect(v6.stdout).toContain('1 upload by address 2001:db8::/32');
    expect(await statusOnceSettled(uploaded.v6[0].url)).toBe(404);
    const byUser = await runShoebox(['purge', '--user', 'alice', '--since', '2000-01-01'], cliEnv);
    expect(byUser.code, byUser.stderr).toBe(0);
    expect(byUser.stdout).toContain('1 upload by user alice since 2000-01-01 00:00:00 UTC');
    expect(await statusOnceSettled(uploaded.alice[2].url)).toBe(404);
    expect(await count()).toBe(1);
    const future = await runShoebox(['purge', '--user', 'bob', '--since', '2999-01-01'], cliEnv);
    expect(future.stdout).toContain('0 uploads by user bob');
    expect(await count()).toBe(1);
    const bad = await runShoebox(['purge', '--user', 'bob', '--ip', '192.0.2.1'], cliEnv);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('exactly one of --user NAME or --ip');
  }, 240_000);
});
