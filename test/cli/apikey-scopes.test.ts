import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { shoeboxExecArgs } from '../support/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('shoebox apikey create NAME --label --scopes', () => {
  let dataDir: string;
  const cli = (args: string[]) =>
    run(...shoeboxExecArgs(args), {
      cwd: root,
      env: { ...process.env, SHOEBOX_DATA_DIR: dataDir, SHOEBOX_LOG_LEVEL: 'silent' },
    });
  const lastLine = (out: { stdout: string }) => out.stdout.trim().split('\n').pop()!;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-cli-keys-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('creates named keys with scopes next to the single key, each alone on the last line', async () => {
    await cli(['user', 'create', 'gina', '--password', 'pw123456']);
    const main = lastLine(await cli(['apikey', 'create', 'gina']));
    const readOnly = lastLine(await cli(['apikey', 'create', 'gina', '--label', 'backup script', '--scopes', 'read']));
    const uploader = lastLine(await cli(['apikey', 'create', 'gina', '--scopes', 'upload,read']));
    for (const key of [main, readOnly, uploader]) expect(key).toMatch(/^chv_[A-Za-z0-9]{8}_[A-Za-z0-9]{44}$/);
    await expect(cli(['apikey', 'create', 'gina', '--scopes', 'admin'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/not an admin/) });
    await expect(cli(['apikey', 'create', 'gina', '--scopes', 'fly'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--scopes/) });
    // A past (or today's) expiry date would make a key that never works: refused, nothing printed as made.
    const today = new Date().toISOString().slice(0, 10);
    for (const date of ['2001-01-01', today]) {
      await expect(cli(['apikey', 'create', 'gina', '--label', 'late', '--expires', date])).rejects.toMatchObject({ code: 2, stdout: '', stderr: expect.stringMatching(/--expires .* is not in the future/) });
    }

    let server: TestServer | undefined;
    try {
      server = await startTestServer({ SHOEBOX_DATA_DIR: dataDir, SHOEBOX_DATABASE_URL: `sqlite:${dataDir}/shoebox.sqlite` });
      // The single key keeps every scope; named keys only theirs.
      expect((await uploadFile(server.url, await makePng(), 'a.png', {}, { 'X-API-Key': main })).status).toBe(200);
      expect((await uploadFile(server.url, await makePng(), 'b.png', {}, { 'X-API-Key': uploader })).status).toBe(200);
      const refused = await uploadFile(server.url, await makePng(), 'c.png', {}, { 'X-API-Key': readOnly });
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toBe('This API key lacks the "upload" scope');
      const account = await fetch(`${server.url}/api/4/user/account/`, { headers: { 'X-API-Key': readOnly } });
      expect((await account.json()).key).toEqual({ label: 'backup script', scopes: ['read'] });
      // Regenerating the single key leaves the named keys alone.
      await cli(['apikey', 'create', 'gina']);
      expect((await fetch(`${server.url}/api/4/user/account/`, { headers: { 'X-API-Key': readOnly } })).status).toBe(200);
      expect((await fetch(`${server.url}/api/4/user/account/`, { headers: { 'X-API-Key': main } })).status).toBe(401);
    } finally {
      if (server) {
        await server.app.close();
        await server.ctx.close();
      }
    }
  }, 240_000);
});
