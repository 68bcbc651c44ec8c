import { copyFile, mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimFileName } from '../../src/db/repositories/images.js';
import { objectKey } from '../../src/storage/object-keys.js';
import { uploadFile } from '../support/api.js';
import { runShoebox } from '../support/cli.js';
import { makeJpeg, makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** `shoebox doctor`: every row has its files, every file its row; a dry run by default, `--fix` repairs. */
describe('shoebox doctor', () => {
  let server: TestServer;
  let env: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_UPLOAD_CLAIM_TIMEOUT: '60' });
    env = { SHOEBOX_DATA_DIR: server.dataDir, SHOEBOX_UPLOAD_CLAIM_TIMEOUT: '60' };
  });
  afterAll(async () => {
    await server.close();
  });

  const fileOf = (key: string) => path.join(server.dataDir, key);
  const exists = (key: string) => stat(fileOf(key)).then(() => true, () => false);

  it('reports, changes nothing without --fix, and repairs with it', async () => {
    const { key } = await server.createUserWithKey('doc');
    const upload = async (name: string) => (await uploadFile(server.url, await makeJpeg(900, 700), name, {}, { 'X-API-Key': key })).body.image;
    const healthy = await upload('healthy.jpg');
    const noThumb = await upload('nothumb.jpg');
    const noMain = await upload('nomain.jpg');
    const rowOf = (image: { name: string }) => server.ctx.db.selectFrom('images').selectAll().where('name', '=', image.name).executeTakeFirstOrThrow();
    const thumbKey = objectKey(await rowOf(noThumb), 'thumb');
    const mainKey = objectKey(await rowOf(noMain), 'image');
    await rm(fileOf(thumbKey));
    await rm(fileOf(mainKey));
    // A file of an upload that died before its row (its claim long gone stale)...
    const healthyRow = await rowOf(healthy);
    const orphanKey = `images/${healthyRow.folder}/orphan.${healthyRow.extension}`;
    await copyFile(fileOf(objectKey(healthyRow, 'image')), fileOf(orphanKey));
    // ...and one of an upload in flight right now (claimed a moment ago): not an orphan.
    await claimFileName(server.ctx.db, healthyRow.folder, 'inflight');
    const inflightKey = `images/${healthyRow.folder}/inflight.png`;
    await mkdir(path.dirname(fileOf(inflightKey)), { recursive: true });
    await import('node:fs/promises').then(async (fs) => fs.writeFile(fileOf(inflightKey), await makePng(10, 10)));

    const dry = await runShoebox(['doctor'], env);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain(`: main file missing (${mainKey})`);
    expect(dry.stdout).toContain(`missing ${thumbKey} (not repaired`);
    expect(dry.stdout).toContain(`file without a row: ${orphanKey}\n`);
    expect(dry.stdout).not.toContain('inflight');
    expect(dry.stdout).toContain('dry run: nothing was changed');
    expect(await exists(orphanKey)).toBe(true);
    expect(await server.ctx.db.selectFrom('images').select('id').where('name', '=', noMain.name).executeTakeFirst()).toBeDefined();

    const fixed = await runShoebox(['doctor', '--fix'], env);
    expect(fixed.stdout).toContain(`file without a row: ${orphanKey}: deleted`);
    expect(fixed.stdout).toContain(': row removed');
    expect(await exists(orphanKey)).toBe(false);
    expect(await exists(inflightKey)).toBe(true);
    expect(await server.ctx.db.selectFrom('images').select('id').where('name', '=', noMain.name).executeTakeFirst()).toBeUndefined();
    expect((await fetch(healthy.url)).status).toBe(200);

    // What is left is the row without its thumb (reported, its main file still served).
    const again = await runShoebox(['doctor'], env);
    expect(again.stdout).toContain(`missing ${thumbKey}`);
    expect(again.stdout).not.toContain('file without a row');
    expect(again.stdout).not.toContain('main file missing');
  });
});
