import fc from 'fast-check';
import type { TestServer } from './server.js';
import { makeJpeg, makePng } from './media.js';
import { parseObjectPath, objectKeysOf } from '../../src/storage/object-keys.js';

/**
 * Property-based fuzzing of Shoebox's front doors over real HTTP (issue 13): the upload API
 * (multipart, forms, JSON, base64, headers), the resumable (tus) routes and the site's forms,
 * with random and mutated input. Properties: no answer is a 5xx; afterwards no file is left
 * without its row, no row without its files, no name claim without its row. Shared by the CI
 * suite (test/security/fuzz.test.ts) and the long run (`npm run fuzz`, bench/fuzz.ts).
 */

export interface FuzzOptions {
  /** Cases per door (the API, tus, forms, paths). */
  cases: number;
  seed?: number;
  key: string;
  onFailure?: (what: string) => void;
}

export interface FuzzReport {
  requests: number;
  statuses: Record<string, number>;
  serverErrors: string[];
}

/** encodeURIComponent, except that text it cannot encode (a lone surrogate) is sent as hex. */
function safeEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return Buffer.from(text).toString('hex');
  }
}

const FIELD_NAMES = ['source', 'image', 'key', 'title', 'description', 'tags', 'album_id', 'category_id', 'width', 'expiration', 'nsfw', 'format', 'use_file_date', 'x', ''];
const FORMATS = ['json', 'txt', 'redirect', 'xml', ''];

/** Text that breaks parsers: control characters, lone surrogates, percent signs, long runs. */
const nastyText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '\u0000', '\ud800', '../../etc/passwd', 'data:image/png;base64,AAAA', 'http://127.0.0.1:1/x.png', 'ftp://x', '-1', '1e309', 'NaN', '9'.repeat(40), 'P1D', 'PT5M', 'true', ' '),
  fc.integer().map(String),
);

/** Mutations of a real file: bit flips, truncation, spliced garbage, or random bytes. */
function fileBytes(seeds: Buffer[]) {
  return fc.oneof(
    fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
    fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 })).map(([seed, flips]) => {
      const copy = Buffer.from(seed);
      for (const [at, value] of flips) copy[at % copy.length] = value;
      return copy;
    }),
    fc.tuple(fc.constantFrom(...seeds), fc.nat()).map(([seed, cut]) => seed.subarray(0, cut % seed.length)),
    fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.uint8Array({ maxLength: 64 })).map(([seed, at, junk]) => Buffer.concat([seed.subarray(0, at % seed.length), Buffer.from(junk), seed.subarray(at % seed.length)])),
    fc.constantFrom(...seeds),
  );
}

function multipartBody(parts: { name: string; filename?: string; type?: string; data: Buffer }[], boundary: string, broken: number): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.type ? `Content-Type: ${part.type}\r\n` : ''}\r\n`), part.data, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const body = Buffer.concat(chunks);
  // Sometimes the body is cut short or its boundary is wrong.
  if (broken === 1) return body.subarray(0, Math.floor(body.length / 2));
  if (broken === 2) return Buffer.from(body.toString('latin1').replaceAll(boundary, `${boundary}x`), 'latin1');
  return body;
}

/** URLSearchParams, minus values it cannot encode. */
function safeQuery(fields: Record<string, string>): string {
  return Object.entries(fields).map(([k, v]) => `${safeEncode(k)}=${safeEncode(v)}`).join('&');
}

async function send(report: FuzzReport, what: string, url: string, init: RequestInit): Promise<void> {
  let status: number;
  try {
    const res = await fetch(url, { ...init, redirect: 'manual' });
    status = res.status;
    await res.arrayBuffer().catch(() => undefined);
  } catch (error) {
    // The server may cut a connection it refuses (a body over the limit): never a 5xx, but say which.
    status = -1;
    report.statuses.cut = (report.statuses.cut ?? 0) + 1;
    report.requests++;
    void error;
    return;
  }
  report.requests++;
  report.statuses[String(status)] = (report.statuses[String(status)] ?? 0) + 1;
  if (status >= 500) report.serverErrors.push(`${status} ${what}`);
}

export async function runFuzz(server: TestServer, options: FuzzOptions): Promise<FuzzReport> {
  const report: FuzzReport = { requests: 0, statuses: {}, serverErrors: [] };
  const seeds = [await makePng(24, 18, '#a33'), await makeJpeg(32, 24, '#3a7')];
  const base = server.url;
  const origin = new URL(base).origin;
  const params = { numRuns: options.cases, seed: options.seed, endOnFailure: true } as const;
  // The doors are fuzzed side by side: the server sees concurrent traffic, and the run is shorter.
  const doors: Promise<void>[] = [];

  // The upload API: multipart in any shape.
  doors.push(fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ name: fc.constantFrom(...FIELD_NAMES), isFile: fc.boolean(), filename: nastyText, type: fc.constantFrom('image/png', 'image/jpeg', 'text/plain', '', 'x/x'), text: nastyText }), { maxLength: 6 }),
      fileBytes(seeds),
      fc.constantFrom('good', 'none', 'bad'),
      fc.integer({ min: 0, max: 4 }),
      fc.constantFrom(...FORMATS),
      async (fields, file, keyKind, broken, format) => {
        const boundary = `fuzz${Math.random().toString(36).slice(2)}`;
        const parts = fields.map((f) => (f.isFile ? { name: f.name, filename: f.filename, type: f.type, data: file } : { name: f.name, data: Buffer.from(f.text) }));
        if (broken !== 3) parts.push({ name: 'source', filename: 'f.png', type: 'image/png', data: file });
        const headers: Record<string, string> = { 'Content-Type': broken === 4 ? 'multipart/form-data' : `multipart/form-data; boundary=${boundary}` };
        if (keyKind === 'good') headers['X-API-Key'] = options.key;
        if (keyKind === 'bad') headers['X-API-Key'] = 'chv_nope';
        await send(report, `API multipart (${fields.map((f) => f.name).join(',')})`, `${base}/api/1/upload?format=${safeEncode(format)}`, { method: 'POST', headers, body: new Uint8Array(multipartBody(parts, boundary, broken)) });
        return true;
      },
    ),
    params,
  ));

  // The upload API: forms and JSON, base64 and URLs as text sources.
  doors.push(fc.assert(
    fc.asyncProperty(
      fc.dictionary(fc.constantFrom(...FIELD_NAMES), nastyText, { maxKeys: 6 }),
      fileBytes(seeds),
      fc.constantFrom('form', 'json', 'json-broken', 'query', 'base64-form', 'datauri-json'),
      async (fields, file, kind) => {
        const all: Record<string, string> = { key: options.key, ...fields };
        let init: RequestInit;
        let url = `${base}/api/1/upload`;
        if (kind === 'form') init = { method: 'POST', body: new URLSearchParams(all) };
        else if (kind === 'json') init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(all) };
        else if (kind === 'json-broken') init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(all).slice(0, -3) };
        else if (kind === 'query') {
          url += `?${safeQuery(all)}`;
          init = { method: 'GET' };
        } else if (kind === 'base64-form') init = { method: 'POST', body: new URLSearchParams({ ...all, source: file.toString('base64') }) };
        else init = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...all, source: `data:image/png;base64,${file.toString('base64')}` }) };
        await send(report, `API ${kind} (${Object.keys(fields).join(',')})`, url, init);
        return true;
      },
    ),
    params,
  ));

  // Resumable uploads: any method, any header, any body, on the collection and on ids.
  const created: string[] = [];
  doors.push(fc.assert(
    fc.asyncProperty(
      fc.constantFrom('POST', 'PATCH', 'HEAD', 'DELETE', 'OPTIONS', 'GET'),
      fc.oneof(fc.constant(''), fc.constant('/0123456789abcdef0123456789abcdef'), nastyText.map((t) => `/${safeEncode(t)}`), fc.constant('CREATED'), fc.constant('CREATED/result')),
      fc.record({
        length: fc.oneof(fc.nat({ max: 5000 }).map(String), nastyText),
        offset: fc.oneof(fc.nat({ max: 5000 }).map(String), nastyText),
        metadata: fc.oneof(fc.array(fc.tuple(fc.constantFrom('filename', 'title', 'album_id', 'description', 'tags', 'nsfw', 'expiration', 'shoebox_owner', 'x'), nastyText), { maxLength: 5 }).map((pairs) => pairs.map(([k, v]) => `${k} ${Buffer.from(v).toString('base64')}`).join(',')), nastyText),
        resumable: fc.constantFrom('1.0.0', '0.2.2', ''),
        contentType: fc.constantFrom('application/offset+octet-stream', 'text/plain', ''),
        auth: fc.constantFrom('key', 'none', 'bad', 'cross-site'),
        deferLength: fc.boolean(),
      }),
      fileBytes(seeds),
      async (method, suffix, h, file) => {
        const id = created.length > 0 ? created[created.length - 1] : '0123456789abcdef0123456789abcdef';
        const path = suffix.startsWith('CREATED') ? `/${id}${suffix.slice('CREATED'.length)}` : suffix;
        const headers: Record<string, string> = {};
        if (h.resumable) headers['Tus-Resumable'] = h.resumable;
        if (h.deferLength) headers['Upload-Defer-Length'] = '1';
        else headers['Upload-Length'] = h.length;
        headers['Upload-Offset'] = h.offset;
        headers['Upload-Metadata'] = h.metadata.replace(/[\r\n]/g, '');
        if (h.contentType) headers['Content-Type'] = h.contentType;
        if (h.auth === 'key') headers['X-API-Key'] = options.key;
        if (h.auth === 'bad') headers['X-API-Key'] = 'chv_nope';
        if (h.auth === 'cross-site') headers.Origin = 'https://evil.example';
        for (const [k, v] of Object.entries(headers)) if (/[^\t\x20-\x7e]/.test(v)) delete headers[k];
        const hasBody = method === 'PATCH' || method === 'POST';
        const url = `${base}/upload/tus${path}`;
        try {
          const res = await fetch(url, { method, headers, body: hasBody ? new Uint8Array(file) : undefined, redirect: 'manual' });
          report.requests++;
          report.statuses[String(res.status)] = (report.statuses[String(res.status)] ?? 0) + 1;
          if (res.status >= 500) report.serverErrors.push(`${res.status} tus ${method} ${path}`);
          const location = res.headers.get('location');
          const match = location ? /\/([0-9a-f]{32})$/.exec(location) : null;
          if (match) created.push(match[1]);
          await res.arrayBuffer().catch(() => undefined);
        } catch {
          report.statuses.cut = (report.statuses.cut ?? 0) + 1;
        }
        return true;
      },
    ),
    params,
  ));

  // The site's forms (with and without Origin) and odd paths.
  doors.push(fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/login', '/signup', '/logout', '/albums', '/settings', '/settings/api-key', '/settings/password', '/language', '/nsfw', '/upload/url', '/upload/album', '/album/x/edit', '/album/x/unlock', '/image/x/edit', '/image/x/delete'),
      fc.dictionary(fc.constantFrom('login', 'password', 'password2', 'username', 'email', 'name', 'description', 'privacy', 'parent', '_csrf', 'language', 'return', 'show', 'next', 'url', 'ids', 'title', 'tags'), nastyText, { maxKeys: 6 }),
      fc.constantFrom('form', 'raw', 'json', 'multipart'),
      fc.boolean(),
      async (path, fields, kind, sameOrigin) => {
        const headers: Record<string, string> = sameOrigin ? { Origin: origin } : {};
        let body: BodyInit;
        if (kind === 'form') body = new URLSearchParams(fields);
        else if (kind === 'raw') {
          headers['Content-Type'] = 'application/x-www-form-urlencoded';
          body = Object.entries(fields).map(([k, v]) => `${k}=${v}`).join('&');
        } else if (kind === 'json') {
          headers['Content-Type'] = 'application/json';
          body = JSON.stringify(fields);
        } else {
          headers['Content-Type'] = 'multipart/form-data; boundary=zz';
          body = new Uint8Array(multipartBody(Object.entries(fields).map(([k, v]) => ({ name: k, data: Buffer.from(v) })), 'zz', 0));
        }
        await send(report, `form ${kind} ${path}`, `${base}${path}`, { method: 'POST', headers, body });
        return true;
      },
    ),
    params,
  ));
  doors.push(fc.assert(
    fc.asyncProperty(
      fc.constantFrom('/', '/image/', '/video/', '/album/', '/tag/', '/search?q=', '/images/2024/01/01/', '/oembed?url=', '/explore?before=', '/static/', '/assets/uploader/', '/upload/tus/', '/api/1/', '/login?next=', '/'),
      nastyText,
      async (prefix, tail) => {
        const path = `${prefix}${tail.replace(/[\u0000-\u0020#?\u007f-\uffff]/g, (c) => safeEncode(c))}`;
        if (!/^\/[\x21-\x7e]*$/.test(path)) return true;
        await send(report, `GET ${path}`, `${base}${path}`, { method: 'GET' });
        return true;
      },
    ),
    params,
  ));
  await Promise.all(doors);
  return report;
}

/** What a clean site looks like after any amount of traffic: files and rows match one to one. */
export async function orphansOf(server: TestServer): Promise<{ filesWithoutRow: string[]; rowsWithoutFiles: number[]; claimsWithoutRow: string[] }> {
  const rows = await server.ctx.db.selectFrom('images').selectAll().execute();
  const named = new Set(rows.map((r) => `${r.folder}/${r.name}`));
  const filesWithoutRow: string[] = [];
  for await (const key of server.ctx.storage.list('images')) {
    const parsed = parseObjectPath(key.slice('images/'.length));
    if (!parsed || !named.has(`${parsed.folder}/${parsed.name}`)) filesWithoutRow.push(key);
  }
  const rowsWithoutFiles: number[] = [];
  for (const row of rows) for (const key of objectKeysOf(row)) if (!(await server.ctx.storage.stat(key))) rowsWithoutFiles.push(row.id);
  const claims = await server.ctx.db.selectFrom('file_names').selectAll().execute();
  const claimsWithoutRow = claims.filter((c) => !named.has(`${c.folder}/${c.name}`)).map((c) => `${c.folder}/${c.name}`);
  return { filesWithoutRow, rowsWithoutFiles, claimsWithoutRow };
}
