import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimFileName } from '../../src/db/repositories/images.js';
import { objectKey } from '../../src/storage/object-keys.js';
import { uploadFile } from '../support/api.js';
import { runShoebox } from '../support/cli.js';
import { makeVideo } from '../media/media-fixtures.js';
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
    expect(dry.stdout).toContain(`missing ${thumbKey} (the main file is there: \`--fix\` makes it again)`);
    expect(await exists(thumbKey)).toBe(false);
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

    // The missing thumb was made again from the main file, as the upload made it.
    expect(fixed.stdout).toContain(`missing ${thumbKey}: made again from the main file`);
    expect(fixed.code).toBe(0);
    const thumb = await readFile(fileOf(thumbKey));
    expect(await sharp(thumb).metadata()).toMatchObject({ format: 'jpeg', width: 320, height: 320 });
    expect((await fetch(noThumb.thumb.url)).status).toBe(200);
    expect((await rowOf(noThumb)).thumb_size).toBe(thumb.length);
    const again = await runShoebox(['doctor'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('everything is in order');
  });

  it('makes a missing medium, and a video\'s missing frame and thumb, again with --fix', async () => {
    const { key } = await server.createUserWithKey('doc2');
    const wide = (await uploadFile(server.url, await makeJpeg(1600, 900, '#e76f51'), 'wide.jpg', {}, { 'X-API-Key': key })).body.image;
    const videoDir = await mkdtemp(path.join(tmpdir(), 'shoebox-doctor-'));
    try {
      const clip = (await uploadFile(server.url, await makeVideo('mp4', videoDir), 'clip.mp4', {}, { 'X-API-Key': key })).body.image;
      expect(clip.type).toBe('video');
      const rowOf = (name: string) => server.ctx.db.selectFrom('images').selectAll().where('name', '=', name).executeTakeFirstOrThrow();
      const wideRow = await rowOf(wide.name);
      const clipRow = await rowOf(clip.name);
      const mediumKey = objectKey(wideRow, 'medium');
      const frameKey = objectKey(clipRow, 'frame');
      const clipThumbKey = objectKey(clipRow, 'thumb');
      const before = { medium: await readFile(fileOf(mediumKey)), frame: await readFile(fileOf(frameKey)) };
      for (const key of [mediumKey, frameKey, clipThumbKey]) await rm(fileOf(key));

      const dry = await runShoebox(['doctor'], env);
      expect(dry.code).toBe(1);
      expect(dry.stdout).toContain(`row ${wideRow.id}: missing ${mediumKey} (the main file is there`);
      expect(dry.stdout).toContain(`row ${clipRow.id}: missing`);
      expect(await exists(frameKey)).toBe(false);

      const fixed = await runShoebox(['doctor', '--fix'], env);
      expect(fixed.stdout).toContain(`row ${wideRow.id}: missing ${mediumKey}: made again from the main file`);
      expect(fixed.stdout).toContain(`row ${clipRow.id}: missing ${clipThumbKey}, ${frameKey}: made again from the main file`);
      expect(fixed.code).toBe(0);
      // The same pictures as the upload made (same sizes; the encoder is the same).
      const medium = await readFile(fileOf(mediumKey));
      expect(await sharp(medium).metadata()).toMatchObject({ width: (await sharp(before.medium).metadata()).width });
      const frame = await readFile(fileOf(frameKey));
      expect(await sharp(frame).metadata()).toMatchObject({ format: 'jpeg', width: 160, height: 90 });
      expect((await sharp(frame).metadata()).width).toBe((await sharp(before.frame).metadata()).width);
      for (const url of [wide.medium.url, clip.url_frame, clip.thumb.url]) expect((await fetch(url)).status, url).toBe(200);
      expect((await runShoebox(['doctor'], env)).stdout).toContain('everything is in order');
    } finally {
      await rm(videoDir, { recursive: true, force: true });
    }
  });
});
