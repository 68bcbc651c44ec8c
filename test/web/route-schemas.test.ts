import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from './web-client.js';

/**
 * Every route that takes input declares a schema for it (TypeBox, validated by Fastify before the
 * handler), and every JSON answer of the management API and the web uploader a schema that
 * serialises it. Walks the real route table of a real server (its onRoute hook).
 */

/** Routes that take a body without a body schema, each with the reason. */
const NO_BODY_SCHEMA: Record<string, string> = {
  'POST /api/1/upload': 'the V1 file route: multipart, form or JSON with a base64 file, read and spooled by uploads/upload-body.ts (its query string has a schema)',
  'POST /api/:version': 'answers every request with invalidVersion/invalidAction, reads no body',
  'POST /api/:version/*': 'answers every request with invalidVersion/invalidAction, reads no body',
  'POST /api/4/user/images/': 'the V4 file route: multipart (or base64), read and spooled by uploads/upload-body.ts',
  'POST /upload/tus': 'tus: the body is the file, a stream handed to @tus/server',
  'POST /upload/tus/:id': 'tus: the body is the file, a stream handed to @tus/server',
  'PATCH /upload/tus': 'tus: the body is a chunk of the file, a stream handed to @tus/server',
  'PATCH /upload/tus/:id': 'tus: the body is a chunk of the file, a stream handed to @tus/server',
  'DELETE /upload/tus': 'tus: cancels an upload, no body',
  'DELETE /upload/tus/:id': 'tus: cancels an upload, no body (the id is checked against its owner first)',
  'POST /settings/avatar': 'multipart: the avatar file, read as parts by the handler',
  'POST /dashboard/settings/asset/:name': 'multipart: the logo or favicon file, read as parts by the handler',
};

const WRITES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

interface Seen {
  method: string;
  url: string;
  schema: RouteOptions['schema'];
}

describe('route schemas', () => {
  let server: TestServer;
  const routes: Seen[] = [];
  beforeAll(async () => {
    server = await startTestServer({}, {
      onRoute: (route) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url, schema: route.schema });
      },
    });
  });
  afterAll(() => server.close());

  it('sees the whole route table (the check itself works)', () => {
    expect(routes.length).toBeGreaterThan(100);
    expect(routes.some((r) => r.method === 'POST' && r.url === '/login')).toBe(true);
  });

  it('gives every POST, PATCH, PUT and DELETE route a schema for its input, but the file routes named here', () => {
    const missing = routes
      .filter((r) => WRITES.has(r.method))
      .filter((r) => !NO_BODY_SCHEMA[`${r.method} ${r.url}`])
      // A DELETE carries no body: its id (params) or options (query string) are its input.
      .filter((r) => !(r.schema?.body || (r.method === 'DELETE' && (r.schema?.params || r.schema?.querystring))))
      .map((r) => `${r.method} ${r.url} has no body schema: give it one (web/form-schemas.ts formRoute for a form), or name it in NO_BODY_SCHEMA with the reason.`);
    expect([...new Set(missing)]).toEqual([]);
    // Nothing exempted that is not there (a renamed route must not keep its pass).
    const present = new Set(routes.map((r) => `${r.method} ${r.url}`));
    expect(Object.keys(NO_BODY_SCHEMA).filter((name) => !present.has(name))).toEqual([]);
  });

  it('serialises every JSON answer of the management API and the web uploader by a response schema', () => {
    const json = routes.filter((r) => /^\/api\/4\//.test(r.url) || r.url === '/upload/url' || r.url === '/upload/album').filter((r) => r.method !== 'HEAD');
    expect(json.length).toBeGreaterThan(20);
    const missing = json.filter((r) => !(r.schema?.response as Record<string, unknown> | undefined)?.[200]).map((r) => `${r.method} ${r.url}`);
    expect([...new Set(missing)]).toEqual([]);
  });

  it('answers malformed form input with the friendly page, not JSON', async () => {
    // A field repeated past the limit (formBody: at most 1000 values): before schemas, /language took the first.
    const body = Array.from({ length: 1001 }, () => 'language=ko').join('&');
    const res = await fetch(`${server.url}/language`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: server.url, 'Accept-Language': 'en' },
      body,
      redirect: 'manual',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await res.text()).toContain('That request could not be understood');

    // The same for a signed-in form with its CSRF token: an object where a field goes.
    const browser = new WebClient(server.url);
    await browser.signup('former');
    const page = await browser.get('/settings');
    expect(page.status).toBe(200);
    const bad = await browser.post('/settings/password', { current: 'password123', password: 'x'.repeat(200_001), password2: 'y' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('That request could not be understood');
    expect(bad.text).not.toContain('"status_code"');
  });
});
