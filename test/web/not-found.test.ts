import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from './web-client.js';

describe('unknown paths', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it("answers unknown multi-segment paths with the site's HTML 404 page, in the visitor's language", async () => {
    for (const pathname of ['/a/b', '/foo/bar/baz', '/static-ish/x/y.html']) {
      const english = await new WebClient(server.url).get(pathname);
      expect(english.status, pathname).toBe(404);
      expect(english.headers.get('content-type'), pathname).toMatch(/^text\/html/);
      expect(english.text, pathname).toContain('That page does not exist');
      expect(english.text, pathname).toContain('<html');
    }
    const korean = await new WebClient(server.url, { 'Accept-Language': 'ko' }).get('/a/b');
    expect(korean.status).toBe(404);
    expect(korean.text).toContain('페이지를 찾을 수 없습니다');
    expect(korean.headers.get('content-language')).toBe('ko');
  });

  it("keeps the API's JSON error envelope for unknown paths under /api/", async () => {
    const res = await fetch(`${server.url}/api/1/upload/extra`, { method: 'PUT' });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await res.json();
    expect(body.status_code).toBe(404);
    expect(body.error.code).toBe(404);
    expect(typeof body.error.message).toBe('string');
    expect(body.status_txt).toBe('Not Found');
  });
});
