import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeadersOf } from '../../src/web/security-headers.js';
import { PROJECT_ROOT } from '../support/cli.js';
import { waitFor } from '../support/instance.js';
import { freePort, startTestServer, type TestServer } from '../support/server.js';

/**
 * The nginx configuration from deploy/nginx/shoebox.conf, run as shipped (only its two
 * addresses and the data folder changed) in front of a real Shoebox on a sub-path with an https
 * base URL and SHOEBOX_ACCEL_REDIRECT, so nginx sends the files Shoebox has let through.
 */
function nginxSkipReason(): string | undefined {
  const found = ['/usr/sbin', ...(process.env.PATH ?? '').split(path.delimiter)].some((dir) => {
    try {
      accessSync(path.join(dir, 'nginx'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (found) return undefined;
  if (process.env.CI === 'true') throw new Error('CI=true, so the nginx suite must run: apt-get install nginx-light');
  return 'nginx is not installed (apt-get install nginx-light)';
}

const skipReason = nginxSkipReason();

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request from a chosen loopback address, so nginx sees a client that is not itself. */
function call(port: number, pathname: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer; from?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, method: options.method ?? 'GET', headers: options.headers, localAddress: options.from }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.once('error', reject);
    req.end(options.body);
  });
}

describe.skipIf(skipReason !== undefined)('Shoebox behind nginx (deploy/nginx/shoebox.conf)', () => {
  let server: TestServer;
  let nginx: ChildProcess;
  let prefix: string;
  let port: number;
  let key: string;

  beforeAll(async () => {
    server = await startTestServer({
      SHOEBOX_BASE_URL: 'https://pics.example.test/pics',
      SHOEBOX_TRUST_PROXY: '127.0.0.1',
      SHOEBOX_MAX_UPLOAD_SIZE: '100MB',
      SHOEBOX_ACCEL_REDIRECT: '/_shoebox_files',
    });
    ({ key } = await server.createUserWithKey('proxied'));
    prefix = await mkdtemp(path.join(tmpdir(), 'shoebox-nginx-'));
    port = await freePort();
    const shipped = await readFile(path.join(PROJECT_ROOT, 'deploy/nginx/shoebox.conf'), 'utf8');
    const site = shipped
      .replace('server 127.0.0.1:3000 ', `server 127.0.0.1:${server.port} `)
      .replace('listen 80;', `listen 127.0.0.1:${port};`)
      .replace('alias /var/lib/shoebox/;', `alias ${server.dataDir}/;`);
    expect(site).toContain(`alias ${server.dataDir}/;`);
    expect(site).not.toBe(shipped);
    expect(site).toContain(`listen 127.0.0.1:${port};`);
    expect(site).toContain(`server 127.0.0.1:${server.port} `);
    await writeFile(path.join(prefix, 'shoebox.conf'), site);
    const temp = (name: string) => `${name}_temp_path ${path.join(prefix, name)};`;
    await writeFile(
      path.join(prefix, 'nginx.conf'),
      [
        process.getuid?.() === 0 ? 'user root;' : '',
        'worker_processes 1;',
        'daemon off;',
        `pid ${path.join(prefix, 'nginx.pid')};`,
        `error_log ${path.join(prefix, 'error.log')} warn;`,
        'events {}',
        'http {',
        '  access_log off;',
        `  ${temp('client_body')} ${temp('proxy')} ${temp('fastcgi')} ${temp('uwsgi')} ${temp('scgi')}`,
        `  include ${path.join(prefix, 'shoebox.conf')};`,
        '}',
      ].join('\n'),
    );
    nginx = spawn('nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], {
      stdio: 'ignore',
      env: { ...process.env, PATH: `/usr/sbin:${process.env.PATH ?? ''}` },
    });
    await waitFor('nginx to proxy /pics/healthz', async () => (await call(port, '/pics/healthz')).status === 200, 20_000);
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const gone = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await gone;
    }
    await server?.close();
    if (prefix) await rm(prefix, { recursive: true, force: true });
  });

  it('takes a multi-megabyte upload on the sub-path and answers with https URLs from SHOEBOX_BASE_URL', async () => {
    const photo = await sharp({ create: { width: 1600, height: 1200, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .jpeg({ quality: 95 })
      .toBuffer();
    expect(photo.length).toBeGreaterThan(1_000_000); // above nginx's default limit of 1m
    const form = new FormData();
    form.append('source', new Blob([new Uint8Array(photo)]), 'big photo.jpg');
    const encoded = new Response(form);
    const body = Buffer.from(await encoded.arrayBuffer());
    const answer = await call(port, '/pics/api/1/upload', {
      method: 'POST',
      body,
      from: '127.0.0.2',
      // A client lying about its address: nginx replaces the header with the real one.
      headers: { 'content-type': encoded.headers.get('content-type')!, 'x-api-key': key, 'x-forwarded-for': '198.51.100.7' },
    });
    expect(answer.status).toBe(200);
    const image = JSON.parse(answer.body.toString()).image;
    expect(image.url).toMatch(/^https:\/\/pics\.example\.test\/pics\/images\/\d{4}\/\d\d\/\d\d\/big-photo\.jpg$/);
    expect(image.url_viewer).toMatch(/^https:\/\/pics\.example\.test\/pics\//);

    // The client's address as nginx saw it, not nginx's own, and not the forged one.
    const row = await server.ctx.db.selectFrom('images').select('uploader_ip').where('name', '=', image.name).executeTakeFirstOrThrow();
    expect(row.uploader_ip).toBe('127.0.0.2');

    const file = await call(port, new URL(image.url).pathname);
    expect(file.status).toBe(200);
    expect(file.body.equals(photo)).toBe(true);
    const part = await call(port, new URL(image.url).pathname, { headers: { Range: 'bytes=1000-1999' } });
    expect(part.status).toBe(206);
    expect(part.body.equals(photo.subarray(1000, 2000))).toBe(true);
  });

  it('keeps /metrics to the machine itself', async () => {
    expect((await call(port, '/pics/metrics', { from: '127.0.0.2' })).status).toBe(403);
    expect((await call(port, '/metrics', { from: '127.0.0.2' })).status).toBe(403);
    const local = await call(port, '/pics/metrics', { from: '127.0.0.1' });
    expect(local.status).toBe(200);
    expect(local.body.toString()).toContain('shoebox_uploads_total{type="image"} 1');
  });

  it('sends files through nginx (X-Accel-Redirect) only after Shoebox has let them through', async () => {
    const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#c33' } }).png().toBuffer();
    const upload = async (fields: Record<string, string> = {}) => {
      const form = new FormData();
      form.append('source', new Blob([new Uint8Array(png)]), 'accel.png');
      for (const [name, value] of Object.entries(fields)) form.append(name, value);
      const encoded = new Response(form);
      const answer = await call(port, '/pics/api/1/upload', {
        method: 'POST',
        body: Buffer.from(await encoded.arrayBuffer()),
        headers: { 'content-type': encoded.headers.get('content-type')!, 'x-api-key': key },
      });
      expect(answer.status).toBe(200);
      return new URL(JSON.parse(answer.body.toString()).image.url).pathname;
    };
    const kept = await upload();
    const file = await call(port, kept);
    expect(file.status).toBe(200);
    expect(file.body.equals(png)).toBe(true);
    expect(file.headers['content-type']).toBe('image/png');
    expect(file.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // Every security header Shoebox puts on its own answers, repeated by the shipped config (HSTS aside: the TLS block's).
    for (const [name, value] of Object.entries(securityHeadersOf(server.settings))) {
      if (name !== 'strict-transport-security') expect(file.headers[name], name).toBe(value);
    }
    expect(file.headers['accept-ranges']).toBe('bytes');
    expect(file.headers['x-accel-redirect']).toBeUndefined();
    // Shoebox itself only said where the file is; the bytes came from nginx (its mtime-size ETag, not the md5).
    const direct = await fetch(`http://127.0.0.1:${server.port}${kept}`);
    expect(direct.headers.get('x-accel-redirect')).toBe(`/_shoebox_files/${kept.replace(/^\/pics\//, '')}`);
    expect((await direct.arrayBuffer()).byteLength).toBe(0);
    expect(file.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    const head = await call(port, kept, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers['content-length'])).toBe(png.length);
    // nginx's own validators for the file, honoured on the next request.
    const again = await call(port, kept, { headers: { 'If-None-Match': String(file.headers.etag) } });
    expect(again.status).toBe(304);

    // Refused by Shoebox: an unknown file, a file past its expiry, and the internal location asked for directly.
    expect((await call(port, kept.replace('accel', 'nothing-here'))).status).toBe(404);
    const expiring = await upload({ expiration: 'PT5M' });
    expect((await call(port, expiring)).status).toBe(200);
    await server.ctx.db.updateTable('images').set({ expires_at: '2000-01-01 00:00:00' }).where('name', 'like', 'accel%').where('expires_at', 'is not', null).execute();
    expect((await call(port, expiring)).status).toBe(404);
    const storageKey = kept.replace(/^\/pics\//, '');
    expect((await call(port, `/_shoebox_files/${storageKey}`)).status).toBe(404);
  });
});
