import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makePng } from '../support/media.js';

const require = createRequire(import.meta.url);
const { PicGo } = require('picgo') as { PicGo: new (configPath: string) => any };
// The widely used "custom web image host" PicGo plugin, configured as Chevereto sites document it.
const webUploader = require('picgo-plugin-web-uploader');

describe('PicGo (core) with picgo-plugin-web-uploader against Shoebox', () => {
  let server: TestServer;
  let key: string;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('picgo'));
    dir = await mkdtemp(path.join(tmpdir(), 'shoebox-picgo-'));
  });
  afterAll(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads a file and gets the direct URL from image.url', async () => {
    const configPath = path.join(dir, 'config.json');
    await writeFile(configPath, JSON.stringify({
      picBed: {
        uploader: 'web-uploader',
        current: 'web-uploader',
        'web-uploader': { url: `${server.url}/api/1/upload?key=${key}`, paramName: 'source', jsonPath: 'image.url' },
      },
      picgoPlugins: {},
    }));
    const picgo = new PicGo(configPath);
    picgo.use(webUploader, 'web-uploader');
    const file = path.join(dir, 'from-picgo.png');
    await writeFile(file, await makePng(77, 55));
    const notifications: unknown[] = [];
    picgo.on('notification', (n: unknown) => notifications.push(n));
    const result = await picgo.upload([file]);
    expect(notifications).toEqual([]);
    expect(Array.isArray(result)).toBe(true);
    const url = (result as { imgUrl: string }[])[0].imgUrl;
    expect(url).toMatch(new RegExp(`^${server.url}/images/\\d{4}/\\d\\d/\\d\\d/from-picgo\\.png$`));
    const served = await fetch(url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/png');
  });
});
