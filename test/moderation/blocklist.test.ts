import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hammingDistance, perceptualHashOfFile } from '../../src/media/perceptual-hash.js';
import { uploadFile } from '../support/api.js';
import { runShoebox } from '../support/cli.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { ffmpegPath, makeVideo } from '../media/media-fixtures.js';
import { FileOrigin, uploadVia, WAYS_IN } from './ways-in.js';

const run = promisify(execFile);

describe('takedowns that stick', () => {
  let server: TestServer;
  let origin: FileOrigin;
  let key: string;
  let otherKey: string;
  let cliEnv: Record<string, string>;
  let workDir: string;

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0' });
    origin = await new FileOrigin().start();
    ({ key } = await server.createUserWithKey('alice'));
    ({ key: otherKey } = await server.createUserWithKey('mallory'));
    cliEnv = { SHOEBOX_DATA_DIR: server.dataDir, SHOEBOX_DATABASE_URL: server.settings.databaseUrl };
    workDir = await mkdtemp(path.join(tmpdir(), 'shoebox-blocklist-'));
  });
  afterAll(async () => {
    await origin.stop();
    await server.close();
    await rm(workDir, { recursive: true, force: true });
  });

  it('every upload keeps the perceptual hash of its picture, the same as computed from the file', async () => {
    const picture = await makeVariedImage(500);
    const { body } = await uploadFile(server.url, picture, 'p.jpg', {}, { 'X-API-Key': key });
    const row = await server.ctx.db.selectFrom('images').select(['phash']).where('md5', '=', body.image.md5).executeTakeFirstOrThrow();
    expect(row.phash).toMatch(/^[0-9a-f]{16}$/);
    expect(hammingDistance(row.phash!, await perceptualHashOfFile(picture))).toBeLessThanOrEqual(2);
  });

  it('a removed picture is refused again through every way in: the same file, resized, re-encoded, lightly cropped or recoloured; a different picture of similar colours is accepted', async () => {
    const seed = 501;
    const original = await makeVariedImage(seed);
    const first = await uploadFile(server.url, original, 'bad.jpg', {}, { 'X-API-Key': key });
    expect(first.status).toBe(200);
    const taken = await runShoebox(['takedown', first.body.image.id_encoded, '--reason', 'copyright claim 42'], cliEnv);
    expect(taken.code, taken.stderr).toBe(0);
    expect((await fetch(first.body.image.url)).status).toBe(404);

    const variants: Record<string, Buffer> = {
      'the same file': original,
      'resized to half and re-encoded': await sharp(original).resize(320).jpeg({ quality: 60 }).toBuffer(),
      're-encoded as WebP': await sharp(original).webp({ quality: 50 }).toBuffer(),
      'converted to PNG at 80%': await sharp(original).resize(512).png().toBuffer(),
      'cropped by 3% on each side': await sharp(original).extract({ left: 19, top: 14, width: 602, height: 452 }).jpeg().toBuffer(),
      'brightened': await sharp(original).modulate({ brightness: 1.2 }).jpeg().toBuffer(),
      'tinted': await sharp(original).tint('#c08040').jpeg().toBuffer(),
      'in black and white': await sharp(original).greyscale().jpeg().toBuffer(),
    };
    let n = 0;
    for (const [label, file] of Object.entries(variants)) {
      const way = WAYS_IN[n++ % WAYS_IN.length];
      const out = await uploadVia(way, server.url, origin, file, { key: otherKey });
      expect(out.status, `${label} via ${way}`).toBe(403);
      expect(out.body.error.message).toBe("This file was removed from this site and can't be uploaded again (copyright claim 42)");
    }
    for (const way of WAYS_IN) expect((await uploadVia(way, server.url, origin, original, { key: otherKey })).status, way).toBe(403);

    const similar = await makeVariedImage(seed + 1000, { paletteSeed: seed });
    expect(hammingDistance(await perceptualHashOfFile(similar), await perceptualHashOfFile(original))).toBeGreaterThan(server.settings.blocklistDistance);
    for (const way of WAYS_IN) {
      const out = await uploadVia(way, server.url, origin, await makeVariedImage(seed + 2000 + WAYS_IN.indexOf(way), { paletteSeed: seed }), { key: otherKey });
      expect(out.status, way).toBe(200);
    }
    // The uploader who tried again is flagged for review, once per attempt.
    const flags = await server.ctx.db.selectFrom('moderation_flags').selectAll().execute();
    expect(flags.length).toBe(Object.keys(variants).length + WAYS_IN.length);
    expect(flags[0].reason).toContain('taken-down file');
    const audit = await server.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'takedown').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0].detail).toBe('copyright claim 42');
  }, 240_000);

  it('a removed video is refused again, also re-encoded to another format (its frame is hashed)', async () => {
    const mp4 = await makeVideo('mp4', workDir);
    const first = await uploadFile(server.url, mp4, 'clip.mp4', {}, { 'X-API-Key': key });
    expect(first.status).toBe(200);
    const row = await server.ctx.db.selectFrom('images').select(['id', 'phash']).where('md5', '=', first.body.image.md5).executeTakeFirstOrThrow();
    expect(row.phash).toMatch(/^[0-9a-f]{16}$/);
    const taken = await runShoebox(['takedown', first.body.image.id_encoded], cliEnv);
    expect(taken.code, taken.stderr).toBe(0);
    const source = path.join(workDir, 'again.mp4');
    await writeFile(source, mp4);
    const webm = path.join(workDir, 'again.webm');
    await run(ffmpegPath(), ['-nostdin', '-v', 'error', '-y', '-i', source, '-c:v', 'libvpx', '-b:v', '300k', '-an', webm]);
    const again = await uploadFile(server.url, await readFile(webm), 'again.webm', {}, { 'X-API-Key': otherKey });
    expect(again.status).toBe(403);
  }, 60_000);

  it('exports as JSON and another site that imports it refuses the same pictures', async () => {
    const file = path.join(workDir, 'blocklist.json');
    const exported = await runShoebox(['blocklist', 'export', file], cliEnv);
    expect(exported.code, exported.stderr).toBe(0);
    const json = JSON.parse(await readFile(file, 'utf8'));
    expect(json.format).toBe('shoebox-blocklist');
    expect(json.entries.length).toBeGreaterThanOrEqual(2);
    expect(json.entries[0]).toMatchObject({ md5: expect.stringMatching(/^[0-9a-f]{32}$/), phash: expect.stringMatching(/^[0-9a-f]{16}$/), reason: 'copyright claim 42' });
    const cli = `cli:${userInfo().username}`;
    const exportAudit = await server.ctx.db.selectFrom('audit_log').select(['actor', 'detail', 'ip']).where('action', '=', 'blocklist.export').execute();
    expect(exportAudit).toEqual([{ actor: cli, detail: `${json.entries.length} entries`, ip: null }]);

    const other = await startTestServer();
    try {
      const otherEnv = { SHOEBOX_DATA_DIR: other.dataDir, SHOEBOX_DATABASE_URL: other.settings.databaseUrl };
      const imported = await runShoebox(['blocklist', 'import', file], otherEnv);
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).toContain(`added ${json.entries.length} entries`);
      const again = await runShoebox(['blocklist', 'import', file], otherEnv);
      expect(again.stdout).toContain(`added 0 entries (${json.entries.length} already on the list)`);
      const importAudit = await other.ctx.db.selectFrom('audit_log').select(['actor', 'action', 'detail', 'ip']).orderBy('id').execute();
      expect(importAudit).toEqual([
        { actor: cli, action: 'blocklist.import', detail: `${json.entries.length} added, 0 already listed`, ip: null },
        { actor: cli, action: 'blocklist.import', detail: `0 added, ${json.entries.length} already listed`, ip: null },
      ]);
      const { key: k } = await other.createUserWithKey('eve');
      const resized = await sharp(await makeVariedImage(501)).resize(400).jpeg({ quality: 70 }).toBuffer();
      expect((await uploadFile(other.url, resized, 'x.jpg', {}, { 'X-API-Key': k })).status).toBe(403);
      await writeFile(path.join(workDir, 'bad.json'), JSON.stringify({ format: 'shoebox-blocklist', version: 1, entries: [{ md5: 'nope' }] }));
      const bad = await runShoebox(['blocklist', 'import', path.join(workDir, 'bad.json')], otherEnv);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('entry 1: md5 must be 32 hex digits');
    } finally {
      await other.close();
    }
  }, 240_000);
});
