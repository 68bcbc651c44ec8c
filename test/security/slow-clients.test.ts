import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Issue 13, item 5: clients that send headers and then a byte a minute, or stall mid-body, are
 * cut; a slow but steady upload finishes; one address cannot hold more than its share of
 * connections. Real sockets against a real server with short limits.
 */

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with the ms until the server closes the socket (or `limitMs` if it never does). */
function closedWithin(socket: Socket, limitMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(limitMs), limitMs);
    const done = () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    };
    socket.once('close', done);
    socket.once('error', () => undefined);
    socket.resume();
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('slow clients are cut off, slow uploads still finish', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({
      SHOEBOX_HEADERS_TIMEOUT: '2',
      SHOEBOX_IDLE_TIMEOUT: '2',
      SHOEBOX_MIN_BODY_RATE: '2KB',
      SHOEBOX_BODY_RATE_WINDOW: '2',
      SHOEBOX_MAX_CONNECTIONS_PER_IP: '6',
    });
    ({ key } = await server.createUserWithKey('slowpoke'));
  });
  afterAll(async () => {
    await server.close();
  });

  it('closes a connection whose headers never finish (one byte a second)', async () => {
    const socket = await open(server.port);
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const dripping = setInterval(() => socket.writable && socket.write('X'), 1000);
    const ms = await closedWithin(socket, 8000);
    clearInterval(dripping);
    expect(ms).toBeLessThan(6000);
  });

  it('closes a connection that sends headers and then stalls in the body', async () => {
    const socket = await open(server.port);
    socket.write(`POST /api/1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${key}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n--x\r\n`);
    const ms = await closedWithin(socket, 8000);
    expect(ms).toBeLessThan(6000);
  });

  it('closes a connection that trickles its body (a few bytes a second keep it from being idle)', async () => {
    const socket = await open(server.port);
    socket.write(`POST /api/1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${key}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: 1000000\r\n\r\n--x\r\n`);
    const dripping = setInterval(() => socket.writable && socket.write('abcdefgh'), 300);
    const ms = await closedWithin(socket, 10_000);
    clearInterval(dripping);
    expect(ms).toBeLessThan(8000);
  });

  it('lets a slow but steady upload finish (about 20 KB/s for several seconds)', async () => {
    const jpeg = await makeJpeg(900, 700, '#48c');
    const noise = Buffer.alloc(200_000, 0x20);
    // A JPEG with a big comment segment, so it takes a while at this pace.
    const file = Buffer.concat([jpeg.subarray(0, 2), Buffer.from([0xff, 0xfe, 0xff, 0xff]), noise.subarray(0, 0xfffd), jpeg.subarray(2)]);
    const boundary = 'slowboundary';
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="source"; filename="slow.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const socket = await open(server.port);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(`POST /api/1/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: ${key}\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${body.length}\r\n\r\n`);
    const started = Date.now();
    for (let offset = 0; offset < body.length; offset += 2000) {
      socket.write(body.subarray(offset, offset + 2000));
      await sleep(100);
    }
    await ended;
    expect(Date.now() - started).toBeGreaterThan(2500);
    const answer = Buffer.concat(chunks).toString();
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(answer).toContain('"status_code":200');
  });

  it('caps open connections per address, and takes new ones when old ones close', async () => {
    const sockets = await Promise.all(Array.from({ length: 6 }, () => open(server.port)));
    const extra = await open(server.port);
    expect(await closedWithin(extra, 2000)).toBeLessThan(2000);
    sockets[0].destroy();
    await sleep(200);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    for (const s of sockets) s.destroy();
  });
});
