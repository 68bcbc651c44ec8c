import { createServer, type Server } from 'node:http';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeJpeg, makePng } from '../support/media.js';

const require = createRequire(import.meta.url);
// The real npm client, unchanged, in its "Chevereto mode".
const imgbbUploader = require('imgbb-uploader') as (options: Record<string, unknown>) => Promise<any>;

describe('the imgbb-uploader npm package against Shoebox', () => {
  let server: TestServer;
  let key: string;
  let origin: Server;
  let originUrl: string;
  let host: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('client'));
    host = `http://127.0.0.1:${server.port}`;
    const png = await makePng(120, 80);
    origin = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.end(png);
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
    originUrl = `http://127.0.0.1:${(origin.address() as { port: number }).port}/remote.png`;
  });
  afterAll(async () => {
    origin.close();
    await server.close();
  });

  it('uploads a file by path', async () => {
    const file = path.join(server.dataDir, 'from-disk.jpg');
    await writeFile(file, await makeJpeg(640, 480));
    const res = await imgbbUploader({ apiKey: key, imagePath: file, cheveretoHost: host });
    expect(res.status_code).toBe(200);
    expect(res.image.width).toBe(640);
    expect((await fetch(res.image.url)).status).toBe(200);
  });

  it('uploads a base64 string with custom payload fields', async () => {
    const res = await imgbbUploader({
      apiKey: key,
      base64string: (await makePng(50, 50)).toString('base64'),
      cheveretoHost: host,
      customPayload: { title: 'From imgbb-uploader', tags: 'npm,client' },
    });
    expect(res.image.title).toBe('From imgbb-uploader');
    expect(res.image.tags_string).toBe('npm, client');
    expect(res.image.mime).toBe('image/png');
  });

  it('uploads by URL', async () => {
    const res = await imgbbUploader({ apiKey: key, imageUrl: originUrl, cheveretoHost: host });
    expect(res.image.original_filename).toBe('remote.png');
    expect((await fetch(res.image.display_url)).status).toBe(200);
  });

  it('sees a bad key refused', async () => {
    await expect(imgbbUploader({ apiKey: 'chv_not_a_key', base64string: (await makePng()).toString('base64'), cheveretoHost: host })).rejects.toThrow(/Invalid API key/);
  });
});
