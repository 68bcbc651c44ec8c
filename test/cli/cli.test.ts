import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { shoeboxExecArgs } from '../support/cli.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makePng } from '../support/media.js';
import { uploadFile } from '../support/api.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('the shoebox CLI', () => {
  let dataDir: string;
  const cli = (args: string[]) =>
    run(...shoeboxExecArgs(args), {
      cwd: root,
      env: { ...process.env, SHOEBOX_DATA_DIR: dataDir, SHOEBOX_LOG_LEVEL: 'silent' },
    });
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-cli-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  it('creates a user, a key (alone on the last line) and an album the server accepts', async () => {
    await cli(['user', 'create', 'erin', '--password', 'pw123456', '--email', 'erin@example.test', '--admin']);
    const keyOut = await cli(['apikey', 'create', 'erin']);
    const key = keyOut.stdout.trim().split('\n').pop()!;
    expect(key).toMatch(/^chv_[A-Za-z0-9]+_[A-Za-z0-9]+$/);
    const albumOut = await cli(['album', 'create', 'erin', 'Summer', 'trip']);
    const albumId = albumOut.stdout.trim().split('\n').pop()!;
    expect(albumId).toMatch(/^[A-Za-z0-9]+$/);

    // The server, reading the same settings, accepts that key and album.
    let server: TestServer | undefined;
    try {
      server = await startTestServer({ SHOEBOX_DATA_DIR: dataDir });
      const res = await uploadFile(server.url, await makePng(), 'a.png', { album_id: albumId }, { 'X-API-Key': key });
      expect(res.status).toBe(200);
      const row = await server.ctx.db.selectFrom('albums').select(['name']).where('id', '=', server.ctx.ids.decode(albumId)!).executeTakeFirst();
      expect(row?.name).toBe('Summer trip');
      // Regenerating revokes the old key.
      const second = (await cli(['apikey', 'create', 'erin'])).stdout.trim().split('\n').pop()!;
      expect((await uploadFile(server.url, await makePng(), 'b.png', {}, { 'X-API-Key': key })).status).toBe(401);
      expect((await uploadFile(server.url, await makePng(), 'c.png', {}, { 'X-API-Key': second })).status).toBe(200);
    } finally {
      // Keep the data dir for afterAll; only stop the server.
      if (server) {
        await server.app.close();
        await server.ctx.close();
      }
    }
  });

  it('explains mistakes with a non-zero exit', async () => {
    await expect(cli(['user', 'create', 'frank'])).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/--password/) });
    await expect(cli(['apikey', 'create', 'nobody'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/No user named nobody/) });
    await expect(cli(['user', 'create', 'erin', '--password', 'pw123456'])).rejects.toMatchObject({ stderr: expect.stringMatching(/already exists/) });
  });
});
