import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * Issue 13, item 4 ("nothing buffered whole"): a file sent as base64 text to /api/1/upload (a
 * form's `source=<base64>`, or a multipart text part) is decoded to disk as it arrives, and a
 * key in the query string or before the source is checked before the source is read.
 */

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Live memory (after a full collection): the JS heap plus the Buffers outside it. */
function liveBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * What a streamed upload may add to live memory: the in-process sender's and the server's socket
 * and decode buffers (3–9 MB on a quiet machine, up to 15 MB on a loaded one); reading any of these
 * bodies whole adds 32 MB or more.
 */
const GROWTH_LIMIT = 20 * 1024 * 1024;

/** Samples live memory while `work` runs; answers how far it rose above where it started. */
async function peakGrowthDuring<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const base = liveBytes();
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, liveBytes())), 300);
  try {
    const result = await work();
    peak = Math.max(peak, liveBytes());
    return { result, growth: peak - base };
  } finally {
    clearInterval(timer);
  }
}

interface Sent {
  status: number;
  body: string;
}

const readAll = (res: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => parts.push(c));
    res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    res.on('error', reject);
  });

/**
 * POSTs a body made on the fly: `head`, then the file as base64 (each piece through `encode`),
 * then `tail`; the client never holds the encoded body whole either.
 */
function postStreamed(server: TestServer, contentType: string, head: string, file: Buffer, tail: string, encode: (b64: string) => string): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}/api/1/upload`, { method: 'POST', headers: { 'Content-Type': contentType } }, (res) => {
      readAll(res).then((body) => resolve({ status: res.statusCode ?? 0, body }), reject);
    });
    req.on('error', reject);
    const piece = 3 * 64 * 1024;
    let offset = 0;
    const pump = () => {
      if (offset === 0) req.write(head);
      while (offset < file.length) {
        const chunk = encode(file.subarray(offset, offset + piece).toString('base64'));
        offset += piece;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end(tail);
    };
    pump();
  });
}

/** A real JPEG followed by `extra` random bytes: stored byte for byte, so size and md5 show every byte arrived. */
async function bigJpeg(extra: number): Promise<Buffer> {
  return Buffer.concat([await makeJpeg(640, 480, '#6d597a'), randomBytes(extra)]);
}

const md5 = (data: Buffer) => createHash('md5').update(data).digest('hex');

describe('base64 text sources are decoded to disk as they arrive', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_MAX_UPLOAD_SIZE: '64MB', SHOEBOX_FLOOD_LIMIT: '1000' });
    ({ key } = await server.createUserWithKey('streamer'));
    // A first upload warms everything up (modules, sharp, the database), so only the streaming is measured.
    const warm = await fetch(`${server.url}/api/1/upload`, { method: 'POST', body: new URLSearchParams({ key, source: (await bigJpeg(1024 * 1024)).toString('base64') }) });
    expect(warm.status).toBe(200);
  });
  afterAll(async () => {
    await server.close();
  });

  const rowOf = (name: string) => server.ctx.db.selectFrom('images').select(['size', 'md5', 'title']).where('name', '=', name).executeTakeFirstOrThrow();

  it('a 24 MB file as `source=<base64>` in a form (32 MB of text) raises live memory by a few MB, not by the body', async () => {
    const file = await bigJpeg(24 * 1024 * 1024);
    const { result, growth } = await peakGrowthDuring(() =>
      postStreamed(server, 'application/x-www-form-urlencoded', `key=${key}&title=Streamed&source=`, file, '&format=json', encodeURIComponent),
    );
    expect(result.status, result.body).toBe(200);
    const image = JSON.parse(result.body).image;
    const row = await rowOf(image.name);
    expect(row.size).toBe(file.length);
    expect(row.md5).toBe(md5(file));
    expect(row.title).toBe('Streamed');
    // Read whole, the text alone is 32 MB (and its decoded copy 24 MB more).
    expect(growth).toBeLessThan(GROWTH_LIMIT);
  }, 180_000);

  it('the key may come after the source: the source goes to disk first, memory stays flat', async () => {
    const file = await bigJpeg(16 * 1024 * 1024);
    const { result, growth } = await peakGrowthDuring(() =>
      postStreamed(server, 'application/x-www-form-urlencoded', 'source=data%3Aimage%2Fjpeg%3Bbase64%2C', file, `&key=${key}&title=Key+last`, encodeURIComponent),
    );
    expect(result.status, result.body).toBe(200);
    const row = await rowOf(JSON.parse(result.body).image.name);
    expect(row.md5).toBe(md5(file));
    expect(row.title).toBe('Key last');
    expect(growth).toBeLessThan(GROWTH_LIMIT);
  }, 180_000);

  it('a multipart text part (not a file part) is streamed the same way', async () => {
    const file = await bigJpeg(24 * 1024 * 1024);
    const boundary = 'shoeboxboundary7MA4YWxkTrZu0gW';
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\n${key}\r\n--${boundary}\r\nContent-Disposition: form-data; name="source"\r\n\r\n`;
    const tail = `\r\n--${boundary}\r\nContent-Disposition: form-data; name="title"\r\n\r\nMultipart text\r\n--${boundary}--\r\n`;
    // Line breaks in the base64, as some encoders write it.
    const { result, growth } = await peakGrowthDuring(() => postStreamed(server, `multipart/form-data; boundary=${boundary}`, head, file, tail, (b64) => `${b64}\r\n`));
    expect(result.status, result.body).toBe(200);
    const row = await rowOf(JSON.parse(result.body).image.name);
    expect(row.md5).toBe(md5(file));
    expect(row.title).toBe('Multipart text');
    expect(growth).toBeLessThan(GROWTH_LIMIT);
  }, 180_000);

  it('a JSON body is streamed the same way, escapes and all (PHP writes `\\/` for every slash)', async () => {
    const file = await bigJpeg(16 * 1024 * 1024);
    const { result, growth } = await peakGrowthDuring(() =>
      postStreamed(server, 'application/json', `{"key": "${key}", "title": "J\\u00e9son", "source": "`, file, '", "nsfw": 1, "tags": "a,b"}', (b64) => b64.replace(/\//g, '\\/')),
    );
    expect(result.status, result.body).toBe(200);
    const image = JSON.parse(result.body).image;
    const row = await rowOf(image.name);
    expect(row.md5).toBe(md5(file));
    expect(row.title).toBe('Jéson');
    expect(image.nsfw).toBe(1);
    expect(growth).toBeLessThan(GROWTH_LIMIT);
    // Small JSON as before: a data: URI, numbers, a body that is not JSON.
    const png = await makeJpeg(40, 30);
    const small = await fetch(`${server.url}/api/1/upload`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ key, source: `data:image/jpeg;base64,${png.toString('base64')}`, width: 20 }) });
    expect(small.status).toBe(200);
    expect((await small.json()).image.width).toBe(20);
    const broken = await fetch(`${server.url}/api/1/upload`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: `{"key": "${key}", "source": "aGk=" ` });
    expect(broken.status).toBe(400);
    const notObject = await fetch(`${server.url}/api/1/upload?key=${key}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '["x"]' });
    expect((await notObject.json()).error.message).toBe('Empty upload source');
  }, 180_000);

  /** Sends `head` and 2 MB of base64, then waits: the answer must come before the rest is sent. */
  function answerBeforeTheRest(contentType: string, head: string, path = '/api/1/upload'): Promise<Sent | 'no answer'> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${server.url}${path}`, { method: 'POST', headers: { 'Content-Type': contentType } }, (res) => {
        readAll(res).then((body) => {
          resolve({ status: res.statusCode ?? 0, body });
          req.destroy();
        }, reject);
      });
      req.on('error', () => undefined);
      req.write(head);
      req.write(randomBytes(1536 * 1024).toString('base64'));
      setTimeout(() => {
        resolve('no answer');
        req.destroy();
      }, 3000);
    });
  }

  it('a bad key in the body before the source, or in the query string, is refused before the source is read', async () => {
    const form = await answerBeforeTheRest('application/x-www-form-urlencoded', 'key=chv_wrong&source=');
    expect(form).not.toBe('no answer');
    expect((form as Sent).status).toBe(401);
    expect(JSON.parse((form as Sent).body).error.message).toBe('Invalid API key.');

    const query = await answerBeforeTheRest('application/x-www-form-urlencoded', 'source=', '/api/1/upload?key=chv_wrong');
    expect((query as Sent).status).toBe(401);

    const boundary = 'b0undary';
    const json = await answerBeforeTheRest('application/json', '{"key": "chv_wrong", "source": "');
    expect((json as Sent).status).toBe(401);

    const multipart = await answerBeforeTheRest(
      `multipart/form-data; boundary=${boundary}`,
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nchv_wrong\r\n--${boundary}\r\nContent-Disposition: form-data; name="source"\r\n\r\n`,
    );
    expect((multipart as Sent).status).toBe(401);
    expect(await server.ctx.db.selectFrom('images').select('id').where('title', '=', 'never').execute()).toHaveLength(0);
  });

  it('keeps the answers of a body read whole: bad base64 after a good key, an oversized file, small fields capped', async () => {
    const bad = await fetch(`${server.url}/api/1/upload`, { method: 'POST', body: new URLSearchParams({ key, source: 'not base64 at all %%%' }) });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.message).toBe('Invalid base64 string');
    // A bad key wins over bad base64 that came first, as when the body was read whole.
    const badBoth = await fetch(`${server.url}/api/1/upload`, { method: 'POST', body: new URLSearchParams({ source: '!!!!', key: 'chv_wrong' }) });
    expect(badBoth.status).toBe(401);
    const tooBig = await postStreamed(server, 'application/x-www-form-urlencoded', `key=${key}&source=`, randomBytes(65 * 1024 * 1024), '', encodeURIComponent).catch(() => ({ status: 413, body: '' }));
    expect(tooBig.status).toBe(413);
    const fat = await fetch(`${server.url}/api/1/upload`, { method: 'POST', body: new URLSearchParams({ key, title: 'x'.repeat(2 * 1024 * 1024), source: 'aGk=' }) });
    expect(fat.status).toBe(413);
    expect(await server.ctx.db.selectFrom('images').select('id').where('title', 'like', 'xxx%').execute()).toHaveLength(0);
  });
});
