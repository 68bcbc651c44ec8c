import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeJpeg } from '../support/media.js';

const hasRequests = spawnSync('python3', ['-c', 'import requests'], { stdio: 'ignore' }).status === 0;

/** Python's requests library, as scripts and bots use it. */
describe.skipIf(!hasRequests)('Python requests against Shoebox (skipped: python3 with requests not found)', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('py'));
  });
  afterAll(() => server.close());

  it('uploads a file with files={"source": ...} and reads image.url, and sees errors as JSON', async () => {
    const file = path.join(server.dataDir, 'py.jpg');
    await writeFile(file, await makeJpeg(300, 200));
    const script = `
import json, sys, requests
url, key, path = sys.argv[1:4]
ok = requests.post(url + '/api/1/upload', headers={'X-API-Key': key}, files={'source': open(path, 'rb')}, data={'title': 'From Python'})
bad = requests.post(url + '/api/1/upload', data={'key': 'nope', 'source': 'aGk='})
print(json.dumps({'ok_status': ok.status_code, 'url': ok.json()['image']['url'], 'title': ok.json()['image']['title'],
                  'bad_status': bad.status_code, 'bad_code': bad.json()['error']['code']}))
`;
    // Async: the server runs in this same process and must keep answering.
    const { stdout } = await promisify(execFile)('python3', ['-c', script, server.url, key, file]);
    const out = JSON.parse(stdout);
    expect(out.ok_status).toBe(200);
    expect(out.title).toBe('From Python');
    expect((await fetch(out.url)).status).toBe(200);
    expect([out.bad_status, out.bad_code]).toEqual([401, 100]);
  });
});
