import { Validator } from '@seriousme/openapi-schema-validator';
import createClient from 'openapi-fetch';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamedApiKey } from '../../src/db/repositories/named-api-keys.js';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * /api/openapi.json: a valid OpenAPI 3.1 document, generated from the routes' schemas, that
 * describes the answers the server really gives. A client built from the document alone
 * (openapi-fetch, driven by the document's paths, operations and parameters) calls every
 * operation, and every answer (successes and errors) is checked against the document's
 * response schema for its status.
 *
 * openapi-typescript cannot be installed here (its peer wants TypeScript 5; the project has
 * 6), so no static types are generated: the client is untyped (`createClient<any>`) and the
 * check is at run time, against the document's own schemas (TypeBox's Value.Check).
 */

let server: TestServer;
let doc: any;

/** The document's schema with every `#/components/schemas/…` reference put in place. */
function inline(schema: any, depth = 0): any {
  if (depth > 20) throw new Error('reference loop');
  if (Array.isArray(schema)) return schema.map((s) => inline(s, depth));
  if (!schema || typeof schema !== 'object') return schema;
  if (typeof schema.$ref === 'string') {
    const name = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1];
    if (!name || !doc.components.schemas[name]) throw new Error(`unresolved $ref ${schema.$ref}`);
    return inline(doc.components.schemas[name], depth + 1);
  }
  const out: any = {};
  for (const [key, value] of Object.entries(schema)) if (key !== '$id') out[key] = inline(value, depth);
  return out;
}

function expectAnswerMatches(path: string, method: string, status: number, body: unknown) {
  const operation = doc.paths[path]?.[method];
  expect(operation, `${method} ${path} is described`).toBeTruthy();
  const response = operation.responses[String(status)];
  expect(response, `${method} ${path} describes status ${status}`).toBeTruthy();
  const schema = inline(response.content['application/json'].schema);
  const errors = [...Value.Errors(schema, body)].slice(0, 3);
  expect(errors, `${method} ${path} ${status}: ${JSON.stringify(errors)}`).toEqual([]);
}

beforeAll(async () => {
  server = await startTestServer();
  doc = await (await fetch(`${server.url}/api/openapi.json`)).json();
});

afterAll(async () => {
  await server?.close();
});

describe('the OpenAPI description', () => {
  it('is a valid OpenAPI 3.1 document describing V1 upload and every V4 route', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const operations = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual([
      'DELETE /api/4/admin/bans/ip/{ip}/', 'PATCH /api/4/admin/bans/ip/{ip}/', 'GET /api/4/admin/bans/ip/', 'POST /api/4/admin/bans/ip/', 'GET /api/4/admin/images/queue/',
      'PATCH /api/4/admin/images/bulk/approve/', 'PATCH /api/4/admin/images/bulk/takedown/',
      'DELETE /api/4/admin/users/{id}/', 'DELETE /api/4/user/albums/{id}/', 'DELETE /api/4/user/images/{id}/',
      'GET /api/4/admin/users/', 'GET /api/4/admin/users/{id}/', 'GET /api/4/user/account/', 'GET /api/4/user/albums/list/',
      'GET /api/4/user/albums/{id}/', 'GET /api/4/user/albums/{id}/contents/', 'GET /api/4/user/images/list/', 'GET /api/4/user/images/{id}/',
      'PATCH /api/4/admin/users/{id}/', 'PATCH /api/4/user/albums/{id}/', 'PATCH /api/4/user/images/bulk/', 'PATCH /api/4/user/images/{id}/',
      'GET /api/1/upload', 'POST /api/1/upload', 'POST /api/4/admin/users/', 'POST /api/4/user/albums/', 'POST /api/4/user/images/',
    ].sort());
    expect(doc.components.securitySchemes.apiKey).toEqual({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
    // No web page is described.
    expect(Object.keys(doc.paths).every((p) => p.startsWith('/api/'))).toBe(true);
  });

  it('describes the answers the server really gives, through a client built from the document', async () => {
    const admin = await server.createUserWithKey('docadmin', { admin: true });
    const user = await server.createUserWithKey('docuser');
    const readOnly = (await createNamedApiKey(server.ctx.db, { userId: user.userId, label: 'ro', scopes: ['read'], expiresAt: null })).plain;
    const client = createClient<any>({ baseUrl: server.url });
    const as = (key: string) => ({ headers: { 'X-API-Key': key } });

    // V1 upload (multipart, so with fetch), its answer and an error against the description.
    const v1 = await uploadFile(server.url, await makePng(50, 40, '#0af'), 'doc.png', { title: 'described', tags: 'a,b' }, { 'X-API-Key': user.key });
    expectAnswerMatches('/api/1/upload', 'post', v1.status, v1.body);
    // The check can fail: a field the description does not know, or one missing, is caught.
    expect(() => expectAnswerMatches('/api/1/upload', 'post', 200, { ...v1.body, image: { ...v1.body.image, surprise: 1 } })).toThrow();
    const { url: _url, ...withoutUrl } = v1.body.image;
    expect(() => expectAnswerMatches('/api/1/upload', 'post', 200, { ...v1.body, image: withoutUrl })).toThrow();
    const v1Error = await uploadFile(server.url, Buffer.from('not an image'), 'x.png', {}, { 'X-API-Key': user.key });
    expectAnswerMatches('/api/1/upload', 'post', v1Error.status, v1Error.body);
    // imgbb's shape (the file in `image`), a JSON body, and GET with the query string: each answer as described.
    const small = (await makePng(12, 12, '#0a0')).toString('base64');
    const imgbb = await fetch(`${server.url}/api/1/upload`, { method: 'POST', headers: { 'X-API-Key': user.key }, body: new URLSearchParams({ image: small }) });
    const imgbbBody = await imgbb.json();
    expect(imgbbBody.data.id).toBe(imgbbBody.data.id_encoded);
    expectAnswerMatches('/api/1/upload', 'post', imgbb.status, imgbbBody);
    const json = await fetch(`${server.url}/api/1/upload`, { method: 'POST', headers: { 'X-API-Key': user.key, 'Content-Type': 'application/json' }, body: JSON.stringify({ source: small, title: 'json', nsfw: 1 }) });
    expectAnswerMatches('/api/1/upload', 'post', json.status, await json.json());
    const viaGet = await fetch(`${server.url}/api/1/upload?${new URLSearchParams({ key: user.key, source: small, title: 'by GET' })}`);
    const viaGetBody = await viaGet.json();
    expect(viaGetBody.image.title).toBe('by GET');
    expectAnswerMatches('/api/1/upload', 'get', viaGet.status, viaGetBody);
    const noKey = await fetch(`${server.url}/api/1/upload?source=${encodeURIComponent(small)}`);
    expectAnswerMatches('/api/1/upload', 'get', noKey.status, await noKey.json());
    // The description's parameters are the route's own schemas: the query string's and the body's.
    const get = doc.paths['/api/1/upload'].get;
    expect(get.parameters.map((p: any) => `${p.in}:${p.name}`).sort()).toEqual(
      ['album_id', 'category_id', 'description', 'expiration', 'format', 'image', 'key', 'nsfw', 'source', 'tags', 'title', 'use_file_date', 'width'].map((n) => `query:${n}`).sort(),
    );
    expect(get.requestBody).toBeUndefined();
    const post = doc.paths['/api/1/upload'].post;
    expect(Object.keys(post.requestBody.content).sort()).toEqual(['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data']);
    expect(post.requestBody.content['multipart/form-data'].schema.properties.source.format).toBe('binary');
    const id = v1.body.image.id_encoded as string;

    // Every V4 operation, called by path template and parameters as the document names them.
    const calls: Array<[string, 'get' | 'post' | 'patch' | 'delete', any]> = [];
    const run = async (path: string, method: 'get' | 'post' | 'patch' | 'delete', init: any) => {
      const { data, error, response } = await (client as any)[method.toUpperCase()](path, init);
      expectAnswerMatches(path, method, response.status, data ?? error);
      calls.push([path, method, response.status]);
      return { data, error, status: response.status as number };
    };

    await run('/api/4/user/account/', 'get', as(user.key));
    await run('/api/4/user/images/list/', 'get', { ...as(user.key), params: { query: { limit: 10, type: 'image' } } });
    await run('/api/4/user/images/{id}/', 'get', { ...as(user.key), params: { path: { id } } });
    await run('/api/4/user/images/{id}/', 'get', { ...as(user.key), params: { path: { id: 'zzzzzz' } } });
    const album = (await run('/api/4/user/albums/', 'post', { ...as(user.key), body: { name: 'Doc album', privacy: 'unlisted' } })).data.album;
    await run('/api/4/user/albums/', 'post', { ...as(user.key), body: { name: '' } });
    await run('/api/4/user/images/{id}/', 'patch', { ...as(user.key), params: { path: { id } }, body: { title: 'patched', album_id: album.id_encoded, tags: ['x'] } });
    await run('/api/4/user/images/{id}/', 'patch', { ...as(readOnly), params: { path: { id } }, body: { title: 'no scope' } });
    await run('/api/4/user/images/bulk/', 'patch', { ...as(user.key), body: { ids: [id, 'nope'], changes: { nsfw: true } } });
    await run('/api/4/user/albums/list/', 'get', as(user.key));
    await run('/api/4/user/albums/{id}/', 'get', { ...as(user.key), params: { path: { id: album.id_encoded } } });
    await run('/api/4/user/albums/{id}/contents/', 'get', { ...as(user.key), params: { path: { id: album.id_encoded }, query: { limit: 5 } } });
    await run('/api/4/user/albums/{id}/', 'patch', { ...as(user.key), params: { path: { id: album.id_encoded } }, body: { description: 'described', cover_id: id } });
    const created = (await run('/api/4/admin/users/', 'post', { ...as(admin.key), body: { username: 'docmade', password: 'long enough pw' } })).data.user;
    await run('/api/4/admin/users/', 'get', { ...as(admin.key), params: { query: { limit: 2 } } });
    await run('/api/4/admin/users/', 'get', as(user.key));
    await run('/api/4/admin/users/{id}/', 'get', { ...as(admin.key), params: { path: { id: created.id_encoded } } });
    await run('/api/4/admin/users/{id}/', 'patch', { ...as(admin.key), params: { path: { id: created.id_encoded } }, body: { disabled: true } });
    await run('/api/4/admin/users/{id}/', 'delete', { ...as(admin.key), params: { path: { id: created.id_encoded } } });
    // Admin moderation: the queue, approval, takedown (of a file of its own) and IP bans.
    await run('/api/4/admin/images/queue/', 'get', { ...as(admin.key), params: { query: { limit: 10 } } });
    await run('/api/4/admin/images/queue/', 'get', as(user.key));
    await run('/api/4/admin/images/bulk/approve/', 'patch', { ...as(admin.key), body: { ids: [id, 'nope'] } });
    await run('/api/4/admin/images/bulk/approve/', 'patch', { ...as(admin.key), body: { ids: [] } });
    const doomed = await uploadFile(server.url, await makePng(30, 30, '#a0f'), 'gone.png', {}, { 'X-API-Key': user.key });
    await run('/api/4/admin/images/bulk/takedown/', 'patch', { ...as(admin.key), body: { ids: [doomed.body.image.id_encoded], reason: 'doc test' } });
    await run('/api/4/admin/bans/ip/', 'post', { ...as(admin.key), body: { ip: '203.0.113.7', message: 'doc', expires: '1h' } });
    await run('/api/4/admin/bans/ip/', 'post', { ...as(admin.key), body: { ip: 'not an address' } });
    await run('/api/4/admin/bans/ip/', 'get', as(admin.key));
    await run('/api/4/admin/bans/ip/{ip}/', 'patch', { ...as(admin.key), params: { path: { ip: '203.0.113.7' } }, body: { message: 'changed', expires: null } });
    await run('/api/4/admin/bans/ip/{ip}/', 'patch', { ...as(admin.key), params: { path: { ip: '203.0.113.7' } }, body: {} });
    await run('/api/4/admin/bans/ip/{ip}/', 'delete', { ...as(admin.key), params: { path: { ip: '203.0.113.7' } } });
    await run('/api/4/admin/bans/ip/{ip}/', 'delete', { ...as(admin.key), params: { path: { ip: '203.0.113.7' } } });
    await run('/api/4/admin/bans/ip/{ip}/', 'patch', { ...as(admin.key), params: { path: { ip: '203.0.113.7' } }, body: { message: 'gone' } });
    await run('/api/4/user/albums/{id}/', 'delete', { ...as(user.key), params: { path: { id: album.id_encoded }, query: { files: 'keep' } } });
    await run('/api/4/user/images/{id}/', 'delete', { ...as(user.key), params: { path: { id } } });
    await run('/api/4/user/images/{id}/', 'delete', { ...as(user.key), params: { path: { id } } });

    // POST images/ with a form body (a data: URI source): the same answer as V1's.
    const png = (await makePng(20, 20, '#f0a')).toString('base64');
    const form = await fetch(`${server.url}/api/4/user/images/`, { method: 'POST', headers: { 'X-API-Key': user.key }, body: new URLSearchParams({ source: png }) });
    expectAnswerMatches('/api/4/user/images/', 'post', form.status, await form.json());

    // Every operation of the document was called at least once.
    const described = Object.entries(doc.paths).flatMap(([path, item]: [string, any]) => Object.keys(item).map((m) => `${m} ${path}`));
    const called = new Set([...calls.map(([p, m]) => `${m} ${p}`), 'post /api/1/upload', 'get /api/1/upload', 'post /api/4/user/images/']);
    expect(described.filter((d) => !called.has(d))).toEqual([]);
    expect(calls.map(([, , status]) => status)).toEqual(expect.arrayContaining([200, 400, 403, 404]));
  });

  it('serves the reference UI at /api/docs from the npm package, no CDN', async () => {
    const page = await fetch(`${server.url}/api/docs/`, { redirect: 'follow' });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source).not.toMatch(/^(https?:)?\/\//);
    const bundle = sources.find((s) => s.includes('swagger-ui-bundle.js'))!;
    const script = await fetch(new URL(bundle, `${server.url}/api/docs/`));
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(100_000);
  });
});
