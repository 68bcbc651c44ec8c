import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ShoeboxError } from '../../src/core/errors.js';
import { fetchUrlSource, isPublicAddress, type UrlFetchOptions } from '../../src/ingest/fetch-url-source.js';

// Every server here listens on 127.0.0.1 (or ::1); nothing outside loopback is contacted:
// the private/public cases that name other addresses are refused before any connection.

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

interface TestServer {
  port: number;
  origin: string;
  /** Request paths received, in order. */
  hits: string[];
  /** Host headers received, in order. */
  hosts: string[];
  userAgents: string[];
  /** One promise per request that resolves when its socket closes. */
  socketsClosed: Promise<void>[];
  close(): Promise<void>;
}

const servers: TestServer[] = [];

async function serve(handler: Handler, host = '127.0.0.1'): Promise<TestServer> {
  const hits: string[] = [];
  const hosts: string[] = [];
  const userAgents: string[] = [];
  const socketsClosed: Promise<void>[] = [];
  const server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    hosts.push(req.headers.host ?? '');
    userAgents.push(req.headers['user-agent'] ?? '');
    socketsClosed.push(new Promise((resolve) => req.socket.once('close', () => resolve())));
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const testServer: TestServer = {
    port,
    origin: host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`,
    hits,
    hosts,
    userAgents,
    socketsClosed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  servers.push(testServer);
  return testServer;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A sink that hashes what it receives (never holds the body) and remembers how it ended. */
function hashSink() {
  const hash = createHash('sha256');
  const state = { bytes: 0, finished: false, destroyed: false };
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      state.bytes += chunk.length;
      hash.update(chunk);
      callback();
    },
  });
  stream.on('finish', () => (state.finished = true));
  stream.on('close', () => (state.destroyed = stream.destroyed));
  stream.on('error', () => undefined);
  return { stream, state, digest: () => hash.digest('hex') };
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const privateOk: UrlFetchOptions = { maxBytes: 10_000_000, timeoutMs: 5_000, allowPrivateAddresses: true };
const strict: UrlFetchOptions = { maxBytes: 10_000_000, timeoutMs: 5_000, allowPrivateAddresses: false };

async function rejection(promise: Promise<unknown>): Promise<ShoeboxError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ShoeboxError);
    return error as ShoeboxError;
  }
  throw new Error('expected a rejection');
}

function expectUrlRefused(error: ShoeboxError, reason: string | RegExp) {
  expect(error.code).toBe(610);
  expect(error.httpStatus).toBe(400);
  expect(error.message).toMatch(/^Can't fetch the source URL: /);
  if (typeof reason === 'string') expect(error.message).toContain(reason);
  else expect(error.message).toMatch(reason);
}

describe('fetchUrlSource: downloading', () => {
  it('streams a 3 MB body byte-identical into the sink and ends it', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': body.length });
      // Several writes, so the body really arrives in pieces.
      for (let offset = 0; offset < body.length; offset += 256 * 1024) res.write(body.subarray(offset, offset + 256 * 1024));
      res.end();
    });
    const sink = hashSink();
    const result = await fetchUrlSource(`${server.origin}/pics/photo%20one.jpg?size=big`, sink.stream, privateOk);
    expect(sink.state.bytes).toBe(body.length);
    expect(sink.digest()).toBe(sha256(body));
    expect(sink.state.finished).toBe(true);
    expect(result).toEqual({
      filename: 'photo one.jpg',
      contentType: 'image/jpeg',
      finalUrl: `${server.origin}/pics/photo%20one.jpg?size=big`,
    });
    expect(server.userAgents).toEqual(['Shoebox/0.1 (+url-upload)']);
    expect(server.hosts).toEqual([`127.0.0.1:${server.port}`]);
  });

  it('streams a chunked body (no Content-Length) and uses a custom User-Agent', async () => {
    const body = randomBytes(500_000);
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/png' });
      res.write(body.subarray(0, 100_000));
      setTimeout(() => res.end(body.subarray(100_000)), 20);
    });
    const sink = hashSink();
    await fetchUrlSource(`${server.origin}/x.png`, sink.stream, { ...privateOk, userAgent: 'Test/1' });
    expect(sink.digest()).toBe(sha256(body));
    expect(server.userAgents).toEqual(['Test/1']);
  });

  it('accepts a body of exactly maxBytes', async () => {
    const body = randomBytes(1000);
    const server = await serve((_req, res) => res.end(body));
    const sink = hashSink();
    await fetchUrlSource(`${server.origin}/a`, sink.stream, { ...privateOk, maxBytes: 1000 });
    expect(sink.digest()).toBe(sha256(body));
  });

  it('takes the filename from Content-Disposition, else from the last path segment', async () => {
    const dispositions: Record<string, string> = {
      '/plain/ignored.bin': 'attachment; filename="cat picture.png"',
      '/token/ignored.bin': 'inline; filename=dog.gif',
      '/star/ignored.bin': `attachment; filename="fallback.jpg"; filename*=UTF-8''%E7%8C%AB%20photo.jpg`,
      '/traversal/ignored.bin': 'attachment; filename="../../etc/passwd"',
      '/empty/from-path.webp': 'attachment; filename=""',
    };
    const server = await serve((req, res) => {
      const disposition = dispositions[req.url ?? ''];
      res.writeHead(200, disposition ? { 'Content-Disposition': disposition } : {});
      res.end('x');
    });
    const name = async (pathname: string) =>
      (await fetchUrlSource(`${server.origin}${pathname}`, hashSink().stream, privateOk)).filename;
    expect(await name('/plain/ignored.bin')).toBe('cat picture.png');
    expect(await name('/token/ignored.bin')).toBe('dog.gif');
    expect(await name('/star/ignored.bin')).toBe('猫 photo.jpg');
    expect(await name('/traversal/ignored.bin')).toBe('passwd');
    expect(await name('/empty/from-path.webp')).toBe('from-path.webp');
    expect(await name('/dir/%E7%8C%AB.jpg')).toBe('猫.jpg');
    expect(await name('/')).toBeNull();
    expect(await name('/folder/')).toBeNull();
  });

  it('reports no content type when the server sends none', async () => {
    const server = await serve((_req, res) => {
      res.removeHeader('Content-Type');
      res.end('x');
    });
    const result = await fetchUrlSource(`${server.origin}/f`, hashSink().stream, privateOk);
    expect(result.contentType).toBeNull();
  });
});

describe('fetchUrlSource: redirects', () => {
  it('follows a chain of two redirects (relative and absolute Location)', async () => {
    const body = randomBytes(10_000);
    const server = await serve((req, res) => {
      if (req.url === '/start') {
        res.writeHead(302, { Location: '/middle?step=2' });
        res.end();
      } else if (req.url === '/middle?step=2') {
        res.writeHead(301, { Location: `http://127.0.0.1:${server.port}/final/image.jpg` });
        res.end('moved');
      } else {
        res.writeHead(200, { 'Content-Type': 'image/jpeg' });
        res.end(body);
      }
    });
    const sink = hashSink();
    const result = await fetchUrlSource(`${server.origin}/start`, sink.stream, privateOk);
    expect(server.hits).toEqual(['/start', '/middle?step=2', '/final/image.jpg']);
    expect(sink.digest()).toBe(sha256(body));
    expect(result.finalUrl).toBe(`${server.origin}/final/image.jpg`);
    expect(result.filename).toBe('image.jpg');
  });

  it('follows 303, 307 and 308 too', async () => {
    const server = await serve((req, res) => {
      const next: Record<string, [number, string]> = { '/a': [303, '/b'], '/b': [307, '/c'], '/c': [308, '/d'] };
      const hop = next[req.url ?? ''];
      if (hop) {
        res.writeHead(hop[0], { Location: hop[1] });
        res.end();
      } else res.end('done');
    });
    const result = await fetchUrlSource(`${server.origin}/a`, hashSink().stream, privateOk);
    expect(server.hits).toEqual(['/a', '/b', '/c', '/d']);
    expect(result.finalUrl).toBe(`${server.origin}/d`);
  });

  it('refuses too many redirects (maxRedirects is the number followed)', async () => {
    const server = await serve((req, res) => {
      const n = Number((req.url ?? '/0').slice(1));
      res.writeHead(302, { Location: `/${n + 1}` });
      res.end();
    });
    const error = await rejection(fetchUrlSource(`${server.origin}/0`, hashSink().stream, { ...privateOk, maxRedirects: 3 }));
    expectUrlRefused(error, 'too many redirects');
    expect(server.hits).toEqual(['/0', '/1', '/2', '/3']);

    // The default is 5.
    server.hits.length = 0;
    const again = await rejection(fetchUrlSource(`${server.origin}/0`, hashSink().stream, privateOk));
    expectUrlRefused(again, 'too many redirects');
    expect(server.hits).toHaveLength(6);
  });

  it('refuses a redirect without a Location, and a redirect to another scheme', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/nowhere') res.writeHead(302);
      else res.writeHead(302, { Location: 'file:///etc/passwd' });
      res.end();
    });
    expectUrlRefused(await rejection(fetchUrlSource(`${server.origin}/nowhere`, hashSink().stream, privateOk)), 'without a Location');
    expectUrlRefused(await rejection(fetchUrlSource(`${server.origin}/file`, hashSink().stream, privateOk)), 'only http and https');
  });
});

describe('fetchUrlSource: SSRF protection', () => {
  it('refuses loopback in every spelling when private addresses are not allowed, before connecting', async () => {
    const server = await serve((_req, res) => res.end('secret'));
    const p = server.port;
    const urls = [
      `http://127.0.0.1:${p}/x`,
      `http://localhost:${p}/x`,
      `http://[::1]:${p}/`,
      `http://2130706433:${p}/`,
      `http://0x7f.1:${p}/`,
      `http://017700000001:${p}/`,
      `http://127.1:${p}/`,
      `http://[::ffff:127.0.0.1]:${p}/`,
      `http://[::ffff:7f00:1]:${p}/`,
      `http://0.0.0.0:${p}/`,
    ];
    for (const url of urls) {
      const sink = hashSink();
      const error = await rejection(fetchUrlSource(url, sink.stream, strict));
      expectUrlRefused(error, 'the address is not public');
      expect(sink.state.bytes).toBe(0);
    }
    expect(server.hits).toEqual([]);
  });

  it('refuses private, link-local and metadata literals without connecting', async () => {
    for (const url of ['http://10.0.0.1/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/', 'http://[fc00::1]/', 'http://100.64.0.1/']) {
      expectUrlRefused(await rejection(fetchUrlSource(url, hashSink().stream, strict)), 'the address is not public');
    }
  });

  it('re-validates every redirect hop: an allowed first hop redirecting to a private address is refused', async () => {
    // The first hop is a name that the injected resolver maps to the test server, and the
    // injected policy treats only that one address as "public"; every later hop is judged
    // by the same policy, so 10.0.0.1 is refused before any connection is attempted.
    const server = await serve((req, res) => {
      const targets: Record<string, string> = {
        '/to-literal': 'http://10.0.0.1/secret',
        '/to-name': `http://internal.example.test:${server.port}/secret`,
        '/to-loopback-name': `http://localhost:${server.port}/secret`,
        '/to-mapped': `http://[::ffff:10.0.0.1]/secret`,
      };
      res.writeHead(302, { Location: targets[req.url ?? ''] ?? '/' });
      res.end();
    });
    const resolved: string[] = [];
    const options: UrlFetchOptions = {
      ...strict,
      lookup: async (hostname) => {
        resolved.push(hostname);
        if (hostname === 'images.example.test') return [{ address: '127.0.0.1', family: 4 }];
        if (hostname === 'internal.example.test') return [{ address: '10.0.0.7', family: 4 }];
        return [{ address: '127.0.0.1', family: 4 }]; // "localhost" in this fake DNS
      },
      isAllowedAddress: (address) => address === '127.0.0.1' && resolved.at(-1) === 'images.example.test',
    };
    for (const pathname of ['/to-literal', '/to-name', '/to-loopback-name', '/to-mapped']) {
      const error = await rejection(fetchUrlSource(`http://images.example.test:${server.port}${pathname}`, hashSink().stream, options));
      expectUrlRefused(error, 'the address is not public');
    }
    expect(server.hits).toEqual(['/to-literal', '/to-name', '/to-loopback-name', '/to-mapped']);
    expect(server.hosts.every((host) => host === `images.example.test:${server.port}`)).toBe(true);

  });

  it('refuses a host when any one of its addresses is not allowed', async () => {
    const server = await serve((_req, res) => res.end('x'));
    const error = await rejection(
      fetchUrlSource(`http://mixed.example.test:${server.port}/`, hashSink().stream, {
        ...strict,
        lookup: async () => [
          { address: '127.0.0.1', family: 4 },
          { address: '10.0.0.1', family: 4 },
        ],
        isAllowedAddress: (address) => address === '127.0.0.1',
      }),
    );
    expectUrlRefused(error, 'the address is not public');
    expect(server.hits).toEqual([]);
  });

  it('connects to the validated address, not to a later DNS answer (rebinding), keeping the Host header', async () => {
    const server = await serve((_req, res) => res.end('pinned'));
    let lookups = 0;
    const sink = hashSink();
    const result = await fetchUrlSource(`http://rebind.example.test:${server.port}/img.png`, sink.stream, {
      ...strict,
      // First answer is "public" (the test server); any later answer would be private.
      lookup: async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }]),
      isAllowedAddress: (address) => address === '127.0.0.1',
    });
    expect(lookups).toBe(1);
    expect(sink.digest()).toBe(sha256(Buffer.from('pinned')));
    expect(server.hosts).toEqual([`rebind.example.test:${server.port}`]);
    expect(result.finalUrl).toBe(`http://rebind.example.test:${server.port}/img.png`);
  });

  it('refuses a name that does not resolve', async () => {
    const error = await rejection(
      fetchUrlSource('http://nothing.example.test/', hashSink().stream, {
        ...strict,
        lookup: async () => {
          throw Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });
        },
      }),
    );
    expectUrlRefused(error, 'could not resolve');
  });

  it('uses the real resolver by default (localhost resolves to loopback and is refused)', async () => {
    const server = await serve((_req, res) => res.end('x'));
    expectUrlRefused(await rejection(fetchUrlSource(`http://localhost:${server.port}/`, hashSink().stream, strict)), 'not public');
    // ... and with allowPrivateAddresses the same URL is fetched through the real resolver.
    // (localhost may resolve to ::1 first; the test server listens on 127.0.0.1 only, so
    // happy-eyeballs over the pinned addresses must reach it.)
    const result = await fetchUrlSource(`http://localhost:${server.port}/ok.txt`, hashSink().stream, privateOk);
    expect(result.filename).toBe('ok.txt');
    expect(server.hosts).toEqual([`localhost:${server.port}`]);
  });

  it('fetches an IPv6 literal when private addresses are allowed', async (context) => {
    let server: TestServer;
    try {
      server = await serve((_req, res) => res.end('six'), '::1');
    } catch {
      context.skip();
      return;
    }
    const sink = hashSink();
    await fetchUrlSource(`http://[::1]:${server.port}/v6`, sink.stream, privateOk);
    expect(sink.digest()).toBe(sha256(Buffer.from('six')));
    expect(server.hosts).toEqual([`[::1]:${server.port}`]);
  });
});

describe('isPublicAddress', () => {
  it.each([
    ['8.8.8.8', true],
    ['1.1.1.1', true],
    ['2001:4860:4860::8888', true],
    ['::ffff:8.8.8.8', true],
    ['10.1.2.3', false],
    ['172.16.0.1', false],
    ['172.31.255.255', false],
    ['192.168.1.1', false],
    ['169.254.169.254', false],
    ['100.64.0.1', false],
    ['0.0.0.0', false],
    ['127.0.0.1', false],
    ['127.255.0.1', false],
    ['224.0.0.1', false],
    ['255.255.255.255', false],
    ['192.0.2.1', false],
    ['198.51.100.7', false],
    ['::', false],
    ['::1', false],
    ['fe80::1', false],
    ['fe80::1%eth0', false],
    ['fc00::1', false],
    ['fd12:3456::1', false],
    ['ff02::1', false],
    ['::ffff:10.0.0.1', false],
    ['::ffff:127.0.0.1', false],
    ['::127.0.0.1', false], // IPv4-compatible
    ['2002:a00:1::', false], // 6to4 embedding 10.0.0.1
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', false], // Teredo
    ['64:ff9b::a00:1', false], // NAT64 of 10.0.0.1
    ['2001:db8::1', false], // documentation
    ['not an address', false],
    ['', false],
  ])('%s → %s', (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe('fetchUrlSource: size cap', () => {
  it('fails fast on a Content-Length over maxBytes with tooBig and tears the connection down', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'Content-Length': 5_000_000 });
      res.write(Buffer.alloc(1000)); // and never finishes
    });
    const sink = hashSink();
    const error = await rejection(fetchUrlSource(`${server.origin}/big`, sink.stream, { ...privateOk, maxBytes: 1_000_000 }));
    expect(error.code).toBe(400);
    expect(error.httpStatus).toBe(413);
    expect(error.message).toBe('File too big - max 1 MB');
    await server.socketsClosed[0];
    expect(sink.state.bytes).toBe(0);
    expect(sink.state.finished).toBe(false);
  });

  it('counts streamed bytes (chunked, no Content-Length) and aborts as soon as they pass maxBytes', async () => {
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const server = await serve((req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/jpeg' }); // chunked
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        sent += chunk.length;
        res.write(chunk);
        timer = setTimeout(pump, 1); // endless
      };
      pump();
      req.socket.once('close', () => clearTimeout(timer));
    });
    const sink = hashSink();
    const error = await rejection(fetchUrlSource(`${server.origin}/endless`, sink.stream, { ...privateOk, maxBytes: 500_000 }));
    expect(error.code).toBe(400);
    expect(error.httpStatus).toBe(413);
    await server.socketsClosed[0];
    expect(sink.state.bytes).toBeLessThanOrEqual(500_000);
    expect(sink.state.finished).toBe(false);
    const sentAtClose = sent;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sent).toBe(sentAtClose); // the server stopped: nothing keeps streaming
  });

  it("passes the sink's own tooBig through unchanged", async () => {
    const server = await serve((_req, res) => res.end(Buffer.alloc(2000)));
    const { SpoolWriter } = await import('../../src/ingest/spool.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shoebox-fetch-'));
    try {
      const writer = new SpoolWriter(dir, 1000);
      const error = await rejection(fetchUrlSource(`${server.origin}/a`, writer.sink, { ...privateOk, maxBytes: 1_000_000 }));
      expect(error.httpStatus).toBe(413);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('works with the real hashing spool', async () => {
    const body = randomBytes(200_000);
    const server = await serve((_req, res) => res.end(body));
    const { SpoolWriter } = await import('../../src/ingest/spool.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shoebox-fetch-'));
    try {
      const writer = new SpoolWriter(dir, 1_000_000);
      await fetchUrlSource(`${server.origin}/a.bin`, writer.sink, privateOk);
      const spooled = await writer.finish();
      expect(spooled.size).toBe(body.length);
      expect(spooled.md5).toBe(createHash('md5').update(body).digest('hex'));
      expect(sha256(readFileSync(spooled.path))).toBe(sha256(body));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('fetchUrlSource: failures', () => {
  it('refuses a non-2xx final status, naming it, and destroys the sink', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(404);
      res.end('not here');
    });
    const sink = hashSink();
    const error = await rejection(fetchUrlSource(`${server.origin}/missing.jpg`, sink.stream, privateOk));
    expectUrlRefused(error, '404');
    expect(sink.stream.destroyed).toBe(true);
    expect(sink.state.bytes).toBe(0);

    const five = await serve((_req, res) => {
      res.writeHead(503);
      res.end();
    });
    expectUrlRefused(await rejection(fetchUrlSource(`${five.origin}/`, hashSink().stream, privateOk)), '503');
  });

  it('times out within about timeoutMs when the server never answers', async () => {
    const server = await serve(() => undefined); // accepts, never responds
    const started = Date.now();
    const error = await rejection(fetchUrlSource(`${server.origin}/hang`, hashSink().stream, { ...privateOk, timeoutMs: 500 }));
    const elapsed = Date.now() - started;
    expectUrlRefused(error, 'timed out');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(1500);
    await server.socketsClosed[0];
  });

  it('counts the whole fetch against timeoutMs: slow redirects, then a trickling body', async () => {
    const server = await serve((req, res) => {
      const n = Number((req.url ?? '/0').slice(1));
      if (n < 3) {
        setTimeout(() => {
          res.writeHead(302, { Location: `/${n + 1}` });
          res.end();
        }, 200);
      } else {
        res.writeHead(200);
        const timer = setInterval(() => res.write('.'), 50);
        req.socket.once('close', () => clearInterval(timer));
      }
    });
    const started = Date.now();
    const error = await rejection(fetchUrlSource(`${server.origin}/0`, hashSink().stream, { ...privateOk, timeoutMs: 500 }));
    const elapsed = Date.now() - started;
    expectUrlRefused(error, 'timed out');
    expect(elapsed).toBeLessThan(1500);
    // Each request had time left of its own (200 ms < 500 ms): only a deadline for the whole fetch stops before /3.
    expect(server.hits.slice(0, 2)).toEqual(['/0', '/1']);
    expect(server.hits).not.toContain('/3');

    const trickle = Date.now();
    const bodyError = await rejection(fetchUrlSource(`${server.origin}/3`, hashSink().stream, { ...privateOk, timeoutMs: 500 }));
    expectUrlRefused(bodyError, 'timed out');
    expect(Date.now() - trickle).toBeLessThan(1500);
  });

  it('refuses a closed port with a short reason', async () => {
    const server = await serve((_req, res) => res.end());
    const url = `${server.origin}/`;
    await server.close();
    expectUrlRefused(await rejection(fetchUrlSource(url, hashSink().stream, privateOk)), 'connection refused');
  });

  it('refuses a connection dropped mid-body', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, { 'Content-Length': 10_000 });
      res.write(Buffer.alloc(100), () => req.socket.destroy());
    });
    const error = await rejection(fetchUrlSource(`${server.origin}/`, hashSink().stream, privateOk));
    expect(error.code).toBe(610);
  });

  it('refuses other schemes and URLs with credentials', async () => {
    const server = await serve((_req, res) => res.end('x'));
    for (const url of ['ftp://127.0.0.1/file.jpg', 'file:///etc/passwd', 'gopher://127.0.0.1/', 'data:image/png;base64,AAAA', 'javascript:alert(1)']) {
      expectUrlRefused(await rejection(fetchUrlSource(url, hashSink().stream, privateOk)), 'only http and https');
    }
    expectUrlRefused(await rejection(fetchUrlSource('not a url', hashSink().stream, privateOk)), 'invalid URL');
    for (const url of [`http://user:pass@127.0.0.1:${server.port}/`, `http://user@127.0.0.1:${server.port}/`]) {
      expectUrlRefused(await rejection(fetchUrlSource(url, hashSink().stream, privateOk)), 'credentials');
    }
    expect(server.hits).toEqual([]);
  });

  it('passes an error of the sink itself (a full disk) through unchanged', async () => {
    const server = await serve((_req, res) => res.end(Buffer.alloc(100_000)));
    const diskFull = Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    const sink = new Writable({
      write(_chunk, _encoding, callback) {
        callback(diskFull);
      },
    });
    sink.on('error', () => undefined);
    await expect(fetchUrlSource(`${server.origin}/`, sink, privateOk)).rejects.toBe(diskFull);
  });
});

describe('fetchUrlSource: https', () => {
  let tls: { key: Buffer; cert: Buffer } | null = null;
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shoebox-tls-'));
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
          '-subj', '/CN=images.example.test', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
        { stdio: 'ignore' },
      );
      tls = { key: readFileSync(path.join(dir, 'key.pem')), cert: readFileSync(path.join(dir, 'cert.pem')) };
    } catch {
      tls = null;
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('connects to the pinned address with SNI set to the hostname, and verifies the certificate', async (context) => {
    if (!tls) return context.skip();
    const serverNames: string[] = [];
    const server = https.createServer(
      {
        ...tls,
        SNICallback: (name, callback) => {
          serverNames.push(name);
          callback(null);
        },
      },
      (_req, res) => res.end('tls'),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    try {
      const error = await rejection(
        fetchUrlSource(`https://images.example.test:${port}/a.jpg`, hashSink().stream, {
          ...strict,
          lookup: async () => [{ address: '127.0.0.1', family: 4 }],
          isAllowedAddress: (address) => address === '127.0.0.1',
        }),
      );
      // A self-signed certificate is not trusted: the request is refused, not sent in clear.
      expectUrlRefused(error, 'TLS error');
      expect(serverNames).toEqual(['images.example.test']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
