import { execFile } from 'node:child_process';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { shoeboxExecArgs } from '../support/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makePng } from '../support/media.js';
import { uploadFile } from '../support/api.js';
import { WebClient } from '../web/web-client.js';
import { listAuditEntries } from '../../src/db/repositories/moderation.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

const exists = (file: string) => access(file).then(() => true, () => false);

/** `shoebox user ...` run against the data folder a live server uses: each change shows on the site at once. */
// Each command is a fresh Node process: on a busy machine a dozen of them take minutes.
describe('shoebox user list | set-password | set-role | disable | enable | delete', { timeout: 600_000 }, () => {
  let dataDir: string;
  let server: TestServer;
  const cli = (args: string[]) =>
    run(...shoeboxExecArgs(args), {
      cwd: root,
      env: { ...process.env, SHOEBOX_DATA_DIR: dataDir, SHOEBOX_LOG_LEVEL: 'silent', SHOEBOX_DATABASE_URL: '' },
    });
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-cli-users-'));
    server = await startTestServer({ SHOEBOX_DATA_DIR: dataDir, SHOEBOX_DATABASE_URL: `sqlite:${path.join(dataDir, 'shoebox.sqlite')}` });
  });
  afterAll(async () => {
    await server.app.close();
    await server.ctx.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('lists accounts, changes roles and keeps the last admin', async () => {
    await cli(['user', 'create', 'boss', '--password', 'pw123456789', '--admin']);
    await cli(['user', 'create', 'mia', '--password', 'pw123456789']);
    await cli(['user', 'set-role', 'mia', 'manager']);
    const list = (await cli(['user', 'list'])).stdout;
    expect(list).toMatch(/^boss\tadmin\tactive\t0\t0\t/m);
    expect(list).toMatch(/^mia\tmanager\tactive\t/m);
    await expect(cli(['user', 'set-role', 'boss', 'user'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/only admin/) });
    await expect(cli(['user', 'disable', 'boss'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/only admin/) });
    await expect(cli(['user', 'set-role', 'mia', 'king'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/admin, manager or user/) });
    await expect(cli(['user', 'disable', 'nobody'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/No user named nobody/) });
    await expect(cli(['user', 'set-password', 'mia'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--password/) });
    // The site sees the role: mia may open the dashboard.
    const browser = new WebClient(server.url);
    expect((await browser.login('mia', 'pw123456789')).status).toBe(303);
    expect((await browser.get('/dashboard')).status).toBe(200);
    // Each change is in the audit log, by the console (issue 17); the refused ones are not.
    const audit = await listAuditEntries(server.ctx.db, 100);
    expect(audit.find((e) => e.action === 'user.role' && e.target === 'mia')).toMatchObject({ actor: expect.stringMatching(/^cli/), detail: 'user → manager', ip: null });
    expect(audit.find((e) => e.action === 'user.create' && e.target === 'boss')).toMatchObject({ actor: expect.stringMatching(/^cli/), detail: 'role admin (CLI)' });
    expect(audit.some((e) => e.target === 'boss' && e.action !== 'user.create')).toBe(false);
  });

  it('disable stops sign-in and the API key, enable brings both back; set-password signs out everywhere', async () => {
    const { key } = await server.createUserWithKey('dora');
    const browser = new WebClient(server.url);
    expect((await browser.login('dora', 'password123')).status).toBe(303);
    expect((await uploadFile(server.url, await makePng(), 'a.png', {}, { 'X-API-Key': key })).status).toBe(200);

    await cli(['user', 'disable', 'dora']);
    expect((await uploadFile(server.url, await makePng(), 'b.png', {}, { 'X-API-Key': key })).status).toBe(401);
    expect((await browser.get('/settings')).status).toBe(303); // the session ended
    const refused = await new WebClient(server.url).login('dora', 'password123');
    expect(refused.status).toBe(403);
    expect(refused.text).toContain('disabled');
    expect((await cli(['user', 'list'])).stdout).toMatch(/^dora\tuser\tdisabled\t1\t/m);

    await cli(['user', 'enable', 'dora']);
    expect((await uploadFile(server.url, await makePng(), 'c.png', {}, { 'X-API-Key': key })).status).toBe(200);
    const again = new WebClient(server.url);
    expect((await again.login('dora', 'password123')).status).toBe(303);

    await cli(['user', 'set-password', 'dora', '--password', 'a new long password']);
    expect((await again.get('/settings')).status).toBe(303);
    expect((await new WebClient(server.url).login('dora', 'password123')).status).toBe(401);
    expect((await new WebClient(server.url).login('dora', 'a new long password')).status).toBe(303);
  });

  it('delete removes the account and its files; --keep-files leaves them as guest files', async () => {
    const gone = await server.createUserWithKey('gone');
    const kept = await server.createUserWithKey('kept');
    const a = await uploadFile(server.url, await makePng(), 'a.png', {}, { 'X-API-Key': gone.key });
    const b = await uploadFile(server.url, await makePng(), 'b.png', {}, { 'X-API-Key': kept.key });
    const fileOf = (res: typeof a) => path.join(dataDir, 'images', new URL(res.body.image.url).pathname.replace(/^\/images\//, ''));
    expect(await exists(fileOf(a))).toBe(true);

    expect((await cli(['user', 'delete', 'gone'])).stdout).toMatch(/deleted gone and 1 files/);
    expect(await exists(fileOf(a))).toBe(false);
    expect((await fetch(a.body.image.url)).status).toBe(404);
    expect((await uploadFile(server.url, await makePng(), 'x.png', {}, { 'X-API-Key': gone.key })).status).toBe(401);

    await cli(['user', 'delete', 'kept', '--keep-files']);
    expect((await fetch(b.body.image.url)).status).toBe(200);
    const row = await server.ctx.db.selectFrom('images').select(['user_id']).where('id', '=', server.ctx.ids.decode(b.body.image.id_encoded)!).executeTakeFirstOrThrow();
    expect(row.user_id).toBeNull();
    expect((await cli(['user', 'list'])).stdout).not.toMatch(/^(gone|kept)\t/m);
  });
});
