import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import https from 'node:https';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import tls from 'node:tls';
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

const referenceImage = () =>
  JSON.parse(require('node:fs').readFileSync(new URL('../fixtures/reference/upload-response.v4.0.example.json', import.meta.url), 'utf8')).image as Record<string, unknown>;

/**
 * The same package in its imgbb mode, which only ever talks to https://api.imgbb.com/1/upload
 * and resolves with the answer's `data`. Its TLS connections are sent to a local HTTPS front
 * (self-signed, as a reverse proxy would be) that passes `/1/upload` to Shoebox's
 * `/api/1/upload`: the client's own request (a form with `image`, key and name in the query)
 * reaches Shoebox unchanged, and the client reads Shoebox's own answer.
 */
describe('the imgbb-uploader npm package in its imgbb mode, answered by Shoebox', () => {
  let server: TestServer;
  let key: string;
  let front: https.Server;
  let savedAgent: https.Agent;
  const answers: Array<Record<string, any>> = [];
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('imgbbclient'));
    const dir = await mkdtemp(path.join(tmpdir(), 'imgbb-front-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=api.imgbb.com',
      '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    front = https.createServer({ key: await readFile(path.join(dir, 'key.pem')), cert: await readFile(path.join(dir, 'cert.pem')) }, async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const upstream = await fetch(`${server.url}/api${req.url}`, {
        method: req.method,
        headers: { 'Content-Type': String(req.headers['content-type'] ?? '') },
        body: req.method === 'POST' ? Buffer.concat(chunks) : undefined,
      });
      const text = await upstream.text();
      answers.push(JSON.parse(text));
      res.writeHead(upstream.status, { 'Content-Type': 'application/json' }).end(text);
    });
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    const port = (front.address() as { port: number }).port;
    savedAgent = https.globalAgent;
    const agent = new https.Agent();
    agent.createConnection = (options: tls.ConnectionOptions) =>
      tls.connect({ ...options, host: '127.0.0.1', port, servername: 'api.imgbb.com', rejectUnauthorized: false });
    https.globalAgent = agent;
  });
  afterAll(async () => {
    https.globalAgent = savedAgent;
    front?.close();
    await server?.close();
  });

  it("gets imgbb's data and, in the same answer, Chevereto's full image object", async () => {
    const base64 = (await makeJpeg(640, 480)).toString('base64');
    const data = await imgbbUploader({ apiKey: key, base64string: base64, name: 'holiday', expiration: 600 });
    // What an imgbb client reads.
    expect(data.id).toMatch(/^[A-Za-z0-9]+$/);
    expect(data.width).toBe(640);
    expect(data.expiration).toBe('600');
    expect(Number(data.time)).toBeGreaterThan(Date.now() / 1000 - 60);
    for (const url of [data.url, data.display_url, data.image.url, data.thumb.url, data.medium.url]) expect((await fetch(url)).status, url).toBe(200);
    expect(data.delete_url).toContain('/delete/');
    // What Chevereto answers to such a request: its envelope, and every field of its image object, id_encoded included.
    const answer = answers.at(-1)!;
    expect(answer.status_code).toBe(200);
    expect(answer.status).toBe(200);
    expect(answer.success).toEqual({ message: 'file uploaded', code: 200 });
    expect(answer.status_txt).toBe('OK');
    expect(data.id).toBe(data.id_encoded);
    for (const field of Object.keys(referenceImage())) expect(data, `data.${field}`).toHaveProperty(field);
    expect(data.expiration_date_gmt).not.toBeNull();
  });

  it('sees a bad key refused in the envelope imgbb clients check for', async () => {
    await expect(imgbbUploader({ apiKey: 'chv_not_a_key', base64string: (await makePng()).toString('base64') })).rejects.toThrow(/Invalid API key/);
  });
});
