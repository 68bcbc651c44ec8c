import { request as httpRequest } from 'node:http';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatUtc } from '../../src/core/dates.js';
import { createNamedApiKey, type ApiScope } from '../../src/db/repositories/named-api-keys.js';
import { insertImageWithTags } from '../../src/db/repositories/images.js';
import { makeJpeg, makePng } from '../support/media.js';
import { uploadFile } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

/**
 * The management API (/api/4/...) end to end over HTTP, on SQLite and (postgres project)
 * PostgreSQL: every endpoint, every scope, keyset pagination over thousands of rows, bulk
 * edits, and privacy (another user's files and albums never appear, nor answer).
 */

let server: TestServer;
let alice: { key: string; userId: number };
let bob: { key: string; userId: number };
let admin: { key: string; userId: number };

async function call(method: string, path: string, key: string | null, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { ...(key ? { 'X-API-Key': key } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function keyWith(userId: number, scopes: ApiScope[], expiresAt: string | null = null) {
  return (await createNamedApiKey(server.ctx.db, { userId, label: scopes.join('+'), scopes, expiresAt })).plain;
}

async function upload(key: string, fields: Record<string, string> = {}, color = '#3a7') {
  const res = await uploadFile(server.url, await makePng(40, 30, color), 'p.png', fields, { 'X-API-Key': key });
  expect(res.status, res.text).toBe(200);
  return res.body.image as { id_encoded: string; url: string; title: string };
}

beforeAll(async () => {
  server = await startTestServer({ SHOEBOX_REFUSE_DUPLICATES: '0' });
  alice = await server.createUserWithKey('alice');
  bob = await server.createUserWithKey('bob');
  admin = await server.createUserWithKey('root', { admin: true });
});

afterAll(async () => {
  await server?.close();
});

describe('images', () => {
  it('lists only the key owner\'s files, newest first, and gets, patches and deletes one', async () => {
    const first = await upload(alice.key, { title: 'first sunrise' }, '#111');
    const second = await upload(alice.key, { title: 'second', tags: 'sea,sky' }, '#222');
    const bobs = await upload(bob.key, { title: 'bob private' }, '#333');

    const list = await call('GET', '/api/4/user/images/list/', alice.key);
    expect(list.status).toBe(200);
    const ids = list.body.images.map((i: any) => i.id_encoded);
    expect(ids.slice(0, 2)).toEqual([second.id_encoded, first.id_encoded]);
    expect(ids).not.toContain(bobs.id_encoded);

    // The image object is the V1 upload answer's, field for field.
    const got = await call('GET', `/api/4/user/images/${second.id_encoded}/`, alice.key);
    expect(got.status).toBe(200);
    // Serialised by the response schema: the same fields in V1's order.
    expect(Object.keys(got.body.image)).toEqual(Object.keys({ ...second, delete_url: null }));
    expect(got.body.image.tags_string).toBe('sea, sky');

    // Another user's file is a 404 for every verb, and stays untouched.
    for (const [method, body] of [['GET', undefined], ['PATCH', { title: 'x' }], ['DELETE', undefined]] as const) {
      const res = await call(method, `/api/4/user/images/${bobs.id_encoded}/`, alice.key, body);
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe(404);
    }
    expect((await call('GET', `/api/4/user/images/${bobs.id_encoded}/`, bob.key)).body.image.title).toBe('bob private');

    const album = (await call('POST', '/api/4/user/albums/', alice.key, { name: 'Holiday' })).body.album;
    const patched = await call('PATCH', `/api/4/user/images/${first.id_encoded}/`, alice.key, {
      title: 'renamed', description: 'about it', tags: ['one', 'two'], nsfw: true, album_id: album.id_encoded, expiration: 'P1D',
    });
    expect(patched.status).toBe(200);
    expect(patched.body.image).toMatchObject({ title: 'renamed', description: 'about it', nsfw: 1, tags_string: 'one, two' });
    expect(patched.body.image.expiration_date_gmt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    const inAlbum = await call('GET', `/api/4/user/images/list/?album=${album.id_encoded}`, alice.key);
    expect(inAlbum.body.images.map((i: any) => i.id_encoded)).toEqual([first.id_encoded]);
    const nsfwOnly = await call('GET', '/api/4/user/images/list/?nsfw=true', alice.key);
    expect(nsfwOnly.body.images.map((i: any) => i.id_encoded)).toEqual([first.id_encoded]);
    // Flags go in as they come out (0/1) as well as true/false, in the query and in a body.
    for (const yes of ['1', 'true']) {
      const listed = await call('GET', `/api/4/user/images/list/?nsfw=${yes}`, alice.key);
      expect(listed.status, yes).toBe(200);
      expect(listed.body.images.map((i: any) => i.id_encoded)).toEqual([first.id_encoded]);
    }
    for (const no of ['0', 'false']) {
      const listed = await call('GET', `/api/4/user/images/list/?nsfw=${no}`, alice.key);
      expect(listed.status, no).toBe(200);
      expect(listed.body.images.map((i: any) => i.id_encoded)).toEqual([second.id_encoded]);
    }
    expect((await call('GET', '/api/4/user/images/list/?nsfw=2', alice.key)).status).toBe(400);
    expect((await call('GET', '/api/4/user/images/list/?nsfw=maybe', alice.key)).status).toBe(400);
    expect((await call('PATCH', `/api/4/user/images/${second.id_encoded}/`, alice.key, { nsfw: 1 })).body.image.nsfw).toBe(1);
    expect((await call('PATCH', `/api/4/user/images/${second.id_encoded}/`, alice.key, { nsfw: 0 })).body.image.nsfw).toBe(0);
    expect((await call('PATCH', `/api/4/user/images/${second.id_encoded}/`, alice.key, { nsfw: 2 })).status).toBe(400);
    const search = await call('GET', '/api/4/user/images/list/?q=RENAM', alice.key);
    expect(search.body.images.map((i: any) => i.id_encoded)).toEqual([first.id_encoded]);

    // Bad input: an album of someone else, an unknown field, a bad expiration.
    const bobAlbum = (await call('POST', '/api/4/user/albums/', bob.key, { name: 'Bob', privacy: 'private' })).body.album;
    expect((await call('PATCH', `/api/4/user/images/${second.id_encoded}/`, alice.key, { album_id: bobAlbum.id_encoded })).status).toBe(404);
    const unknownField = await call('PATCH', `/api/4/user/images/${second.id_encoded}/`, alice.key, { owner: 'me' });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.status_txt).toBe('Bad Request');
    expect((await call('PATCH', `/api/4/user/images/${second.id_encoded}/`, alice.key, { expiration: 'soon' })).status).toBe(400);

    const deleted = await call('DELETE', `/api/4/user/images/${second.id_encoded}/`, alice.key);
    expect(deleted.status).toBe(200);
    expect((await fetch(second.url)).status).toBe(404);
    expect((await call('GET', `/api/4/user/images/${second.id_encoded}/`, alice.key)).status).toBe(404);
  });

  it('uploads with POST images/ exactly as /api/1/upload answers', async () => {
    const form = new FormData();
    form.append('source', new Blob([new Uint8Array(await makeJpeg(64, 48, '#a50'))]), 'cat.jpg');
    form.append('title', 'from v4');
    const res = await fetch(`${server.url}/api/4/user/images/`, { method: 'POST', body: form, headers: { 'X-API-Key': alice.key } });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status_code: 200, success: { message: 'file uploaded', code: 200 }, status_txt: 'OK' });
    const v1 = await uploadFile(server.url, await makeJpeg(64, 48, '#a51'), 'dog.jpg', { title: 'from v1' }, { 'X-API-Key': alice.key });
    expect(Object.keys(body.image)).toEqual(Object.keys(v1.body.image));
    expect(body.image.delete_url).toMatch(/\/delete\//);
    expect((await fetch(body.image.url)).status).toBe(200);
    // A file as base64 text bigger than the small body limit of other routes (1 MB) goes through, as on V1.
    const noise = await sharp({ create: { width: 700, height: 700, channels: 3, background: '#888', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).png().toBuffer();
    expect(noise.length).toBeGreaterThan(1_000_000);
    const base64 = await fetch(`${server.url}/api/4/user/images/`, {
      method: 'POST',
      body: JSON.stringify({ source: noise.toString('base64'), title: 'base64 via v4' }),
      headers: { 'X-API-Key': alice.key, 'Content-Type': 'application/json' },
    });
    expect(base64.status).toBe(200);
    expect((await base64.json()).image.size).toBe(noise.length);
    // `image` works as the source field too; V4 answers the Chevereto shape its schema describes.
    const imageForm = new FormData();
    imageForm.append('image', new Blob([new Uint8Array(await makeJpeg(40, 30, '#0a5'))]), 'image-field.jpg');
    const imageField = await fetch(`${server.url}/api/4/user/images/`, { method: 'POST', body: imageForm, headers: { 'X-API-Key': alice.key } });
    expect(imageField.status).toBe(200);
    expect(Object.keys((await imageField.json()).image)).toEqual(Object.keys(v1.body.image));
    // No source: V1's error and number.
    const empty = await fetch(`${server.url}/api/4/user/images/`, { method: 'POST', body: new URLSearchParams({ title: 'x' }), headers: { 'X-API-Key': alice.key } });
    expect(empty.status).toBe(400);
    expect((await empty.json()).error.code).toBe(130);
  });

  it('paginates thousands of rows by keyset with no gap or repeat, filters included', async () => {
    const owner = await server.createUserWithKey('many');
    const template = (i: number) => ({
      user_id: owner.userId, album_id: null, category_id: null, folder: '2024/01/01', name: `bulk${i}`, extension: 'png', mime: 'image/png',
      type: i % 10 === 0 ? 'video' : 'image', size: 100, width: 10, height: 10, md5: `m${i}`, source_md5: null, title: `row ${i}`, description: null,
      nsfw: 0, original_filename: 'x.png', exifdata: null, chain: 0, thumb_size: 0, medium_size: 0, frame_size: 0, derivative_extension: 'png',
      is_animated: 0, is_approved: 1, is_360: 0, duration: 0, views: 0, likes: 0, uploader_ip: null,
      date_gmt: formatUtc(new Date(Date.UTC(2024, 0, 1) + i * 60_000)), expires_at: null, delete_hash: 'x',
    });
    const total = 2500;
    for (let start = 0; start < total; start += 250) {
      await server.ctx.db.insertInto('images').values(Array.from({ length: 250 }, (_, k) => template(start + k))).execute();
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await call('GET', `/api/4/user/images/list/?limit=100${cursor ? `&cursor=${cursor}` : ''}`, owner.key);
      expect(res.status).toBe(200);
      seen.push(...res.body.images.map((i: any) => i.id_encoded));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(25);
    expect(new Set(seen).size).toBe(total);
    const decoded = seen.map((id) => server.ctx.ids.decode(id)!);
    expect(decoded).toEqual([...decoded].sort((a, b) => b - a));

    const videos = await call('GET', '/api/4/user/images/list/?type=video&limit=100', owner.key);
    expect(videos.body.images).toHaveLength(100);
    expect(videos.body.images.every((i: any) => i.type === 'video')).toBe(true);
    const range = await call('GET', '/api/4/user/images/list/?from=2024-01-01%2000:10:00&to=2024-01-01%2000:19:59&limit=100', owner.key);
    expect(range.body.images.map((i: any) => i.title).sort()).toEqual(Array.from({ length: 10 }, (_, k) => `row ${10 + k}`).sort());
    expect((await call('GET', '/api/4/user/images/list/?cursor=!!', owner.key)).status).toBe(400);
    expect((await call('GET', '/api/4/user/images/list/?limit=1000', owner.key)).status).toBe(400);
  });

  it('bulk-edits and bulk-deletes a list of ids, skipping what is not the owner\'s', async () => {
    const mine = [await upload(alice.key, {}, '#401'), await upload(alice.key, {}, '#402'), await upload(alice.key, {}, '#403')];
    const theirs = await upload(bob.key, {}, '#404');
    const ids = [...mine.map((i) => i.id_encoded), theirs.id_encoded, 'zzzz'];
    const edited = await call('PATCH', '/api/4/user/images/bulk/', alice.key, { ids, changes: { nsfw: true, tags: 'batch' } });
    expect(edited.status).toBe(200);
    expect(edited.body.updated.sort()).toEqual(mine.map((i) => i.id_encoded).sort());
    expect(edited.body.not_found.sort()).toEqual([theirs.id_encoded, 'zzzz'].sort());
    for (const image of mine) expect((await call('GET', `/api/4/user/images/${image.id_encoded}/`, alice.key)).body.image).toMatchObject({ nsfw: 1, tags_string: 'batch' });
    expect((await call('GET', `/api/4/user/images/${theirs.id_encoded}/`, bob.key)).body.image.nsfw).toBe(0);

    // A bad change refuses the whole batch before any file is touched.
    const bad = await call('PATCH', '/api/4/user/images/bulk/', alice.key, { ids, changes: { expiration: 'never' } });
    expect(bad.status).toBe(400);

    const removed = await call('PATCH', '/api/4/user/images/bulk/', alice.key, { ids, action: 'delete' });
    expect(removed.status).toBe(200);
    expect(removed.body.deleted.sort()).toEqual(mine.map((i) => i.id_encoded).sort());
    expect((await call('GET', `/api/4/user/images/${theirs.id_encoded}/`, bob.key)).status).toBe(200);
    expect((await call('PATCH', '/api/4/user/images/bulk/', alice.key, { ids: [] })).status).toBe(400);
  });
});

describe('albums', () => {
  it('creates, lists, reads, lists contents, patches and deletes (keeping or deleting files)', async () => {
    const user = await server.createUserWithKey('carol');
    const parent = (await call('POST', '/api/4/user/albums/', user.key, { name: 'Parent' })).body.album;
    const created = await call('POST', '/api/4/user/albums/', user.key, { name: 'Trip', description: 'Summer', privacy: 'private', parent_id: parent.id_encoded });
    expect(created.status).toBe(200);
    const album = created.body.album;
    expect(album).toMatchObject({ name: 'Trip', description: 'Summer', privacy: 'private', parent_id_encoded: parent.id_encoded, image_count: 0 });
    const image = await upload(user.key, { album_id: album.id_encoded }, '#501');

    const list = await call('GET', '/api/4/user/albums/list/', user.key);
    expect(list.body.albums.map((a: any) => a.id_encoded)).toEqual([album.id_encoded, parent.id_encoded]);
    const one = (await call('GET', `/api/4/user/albums/${album.id_encoded}/`, user.key)).body.album;
    expect(one.image_count).toBe(1);
    // The list answers the same album object as GET albums/{id}/, file count included.
    expect(list.body.albums[0]).toEqual(one);
    expect(list.body.albums[1].image_count).toBe(0);
    const contents = await call('GET', `/api/4/user/albums/${album.id_encoded}/contents/`, user.key);
    expect(contents.body.images.map((i: any) => i.id_encoded)).toEqual([image.id_encoded]);

    const patched = await call('PATCH', `/api/4/user/albums/${album.id_encoded}/`, user.key, { name: 'Trip 2', privacy: 'password', password: 'sesame', parent_id: null, cover_id: image.id_encoded });
    expect(patched.status).toBe(200);
    expect(patched.body.album).toMatchObject({ name: 'Trip 2', privacy: 'password', parent_id_encoded: null, cover_id_encoded: image.id_encoded });
    // A parent inside itself, a password album without a password: refused.
    const child = (await call('POST', '/api/4/user/albums/', user.key, { name: 'Child', parent_id: album.id_encoded })).body.album;
    expect((await call('PATCH', `/api/4/user/albums/${album.id_encoded}/`, user.key, { parent_id: child.id_encoded })).status).toBe(400);
    expect((await call('POST', '/api/4/user/albums/', user.key, { name: 'Locked', privacy: 'password' })).status).toBe(400);

    // Nobody else sees or touches it.
    for (const path of [`/api/4/user/albums/${album.id_encoded}/`, `/api/4/user/albums/${album.id_encoded}/contents/`]) {
      expect((await call('GET', path, alice.key)).status).toBe(404);
    }
    expect((await call('GET', '/api/4/user/albums/list/', alice.key)).body.albums.map((a: any) => a.id_encoded)).not.toContain(album.id_encoded);
    expect((await call('DELETE', `/api/4/user/albums/${album.id_encoded}/`, alice.key)).status).toBe(404);

    // Deleting, keeping the files: the file stays, out of any album.
    expect((await call('DELETE', `/api/4/user/albums/${album.id_encoded}/`, user.key)).status).toBe(200);
    expect((await call('GET', `/api/4/user/albums/${album.id_encoded}/`, user.key)).status).toBe(404);
    const kept = await call('GET', '/api/4/user/images/list/?album=none', user.key);
    expect(kept.body.images.map((i: any) => i.id_encoded)).toContain(image.id_encoded);

    // Deleting with its files.
    const doomed = (await call('POST', '/api/4/user/albums/', user.key, { name: 'Doomed' })).body.album;
    const gone = await upload(user.key, { album_id: doomed.id_encoded }, '#502');
    expect((await call('DELETE', `/api/4/user/albums/${doomed.id_encoded}/?files=delete`, user.key)).status).toBe(200);
    expect((await call('GET', `/api/4/user/images/${gone.id_encoded}/`, user.key)).status).toBe(404);
    expect((await fetch(gone.url)).status).toBe(404);
  });
});

describe('account, keys and scopes', () => {
  it('answers GET account/ with the user, the key\'s scopes, limits and usage', async () => {
    const res = await call('GET', '/api/4/user/account/', alice.key);
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ username: 'alice', is_admin: false, disabled: false });
    expect(res.body.key).toEqual({ label: 'default', scopes: ['upload', 'read', 'write', 'delete'] });
    expect(res.body.limits.max_upload_bytes).toBe(server.settings.maxUploadBytes);
    expect(res.body.usage.images).toBeGreaterThan(0);
  });

  it('refuses a key without the route\'s scope with a 403 that names the scope, for every route', async () => {
    const user = await server.createUserWithKey('dave');
    const image = await upload(user.key, {}, '#601');
    const album = (await call('POST', '/api/4/user/albums/', user.key, { name: 'A' })).body.album;
    const routes: Array<[string, string, ApiScope, unknown?]> = [
      ['GET', '/api/4/user/images/list/', 'read'],
      ['GET', `/api/4/user/images/${image.id_encoded}/`, 'read'],
      ['PATCH', `/api/4/user/images/${image.id_encoded}/`, 'write', { title: 't' }],
      ['DELETE', `/api/4/user/images/${image.id_encoded}/`, 'delete'],
      ['PATCH', '/api/4/user/images/bulk/', 'write', { ids: [image.id_encoded], changes: { nsfw: true } }],
      ['PATCH', '/api/4/user/images/bulk/', 'delete', { ids: [image.id_encoded], action: 'delete' }],
      ['GET', '/api/4/user/albums/list/', 'read'],
      ['POST', '/api/4/user/albums/', 'write', { name: 'B' }],
      ['GET', `/api/4/user/albums/${album.id_encoded}/`, 'read'],
      ['GET', `/api/4/user/albums/${album.id_encoded}/contents/`, 'read'],
      ['PATCH', `/api/4/user/albums/${album.id_encoded}/`, 'write', { name: 'C' }],
      ['DELETE', `/api/4/user/albums/${album.id_encoded}/`, 'delete'],
      ['GET', '/api/4/user/account/', 'read'],
      ['GET', '/api/4/admin/users/', 'admin'],
      ['GET', '/api/4/admin/images/queue/', 'admin'],
      ['PATCH', '/api/4/admin/images/bulk/approve/', 'admin', { ids: [image.id_encoded] }],
      ['PATCH', '/api/4/admin/images/bulk/takedown/', 'admin', { ids: [image.id_encoded] }],
      ['GET', '/api/4/admin/bans/ip/', 'admin'],
      ['POST', '/api/4/admin/bans/ip/', 'admin', { ip: '127.0.0.1' }],
      ['PATCH', '/api/4/admin/bans/ip/127.0.0.1/', 'admin', { message: 'x' }],
      ['DELETE', '/api/4/admin/bans/ip/127.0.0.1/', 'admin'],
    ];
    const scopes: ApiScope[] = ['upload', 'read', 'write', 'delete'];
    for (const [method, path, needed, body] of routes) {
      const without = await keyWith(user.userId, scopes.filter((s) => s !== needed));
      const res = await call(method, path, without, body);
      expect(res.status, `${method} ${path}`).toBe(403);
      expect(res.body.error.message).toBe(`This API key lacks the "${needed}" scope`);
    }
    // The scope alone is enough (read-only routes with a read-only key).
    const readOnly = await keyWith(user.userId, ['read']);
    expect((await call('GET', `/api/4/user/images/${image.id_encoded}/`, readOnly)).status).toBe(200);

    // Uploads (V1 and V4) need `upload`.
    const noUpload = await keyWith(user.userId, ['read', 'write', 'delete']);
    const v1 = await uploadFile(server.url, await makePng(20, 20, '#602'), 'x.png', {}, { 'X-API-Key': noUpload });
    expect(v1.status).toBe(403);
    expect(v1.body.error.message).toBe('This API key lacks the "upload" scope');
    const uploadOnly = await keyWith(user.userId, ['upload']);
    expect((await uploadFile(server.url, await makePng(20, 20, '#603'), 'x.png', {}, { 'X-API-Key': uploadOnly })).status).toBe(200);
    const v4 = await fetch(`${server.url}/api/4/user/images/`, { method: 'POST', body: new URLSearchParams({ source: 'https://example.com/x.png' }), headers: { 'X-API-Key': noUpload } });
    expect(v4.status).toBe(403);
  });

  it('refuses missing, unknown and expired keys (401), never grants admin to a user, and records the last use', async () => {
    expect((await call('GET', '/api/4/user/account/', null)).status).toBe(401);
    expect((await call('GET', '/api/4/user/account/', 'chv_nope')).status).toBe(401);
    const expired = await keyWith(alice.userId, ['read'], '2020-01-01 00:00:00');
    expect((await call('GET', '/api/4/user/account/', expired)).status).toBe(401);
    const notAdmin = await keyWith(alice.userId, ['read', 'admin']);
    const res = await call('GET', '/api/4/admin/users/', notAdmin);
    expect(res.status).toBe(403);
    const fresh = await keyWith(alice.userId, ['read']);
    await call('GET', '/api/4/user/account/', fresh);
    const row = await server.ctx.db.selectFrom('named_api_keys').selectAll().where('label', '=', 'read').where('user_id', '=', alice.userId).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(row.last_used_ip).toBe('127.0.0.1');
    expect(row.last_used_at).not.toBeNull();
  });
});

describe('admin users', () => {
  it('lists, gets, creates, disables (keys stop working), enables and deletes users with an admin key only', async () => {
    expect((await call('GET', '/api/4/admin/users/', alice.key)).status).toBe(403);
    const created = await call('POST', '/api/4/admin/users/', admin.key, { username: 'erin', password: 'long enough pw', email: 'erin@example.test' });
    expect(created.status).toBe(200);
    const erin = created.body.user;
    expect(erin).toMatchObject({ username: 'erin', is_admin: false, disabled: false });
    expect((await call('POST', '/api/4/admin/users/', admin.key, { username: 'erin', password: 'long enough pw' })).status).toBe(409);
    expect((await call('POST', '/api/4/admin/users/', admin.key, { username: 'x y', password: 'long enough pw' })).status).toBe(400);

    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { body: any } = await call('GET', `/api/4/admin/users/?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin.key);
      all.push(...page.body.users.map((u: any) => u.username));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(all).toEqual(expect.arrayContaining(['alice', 'bob', 'root', 'erin']));
    expect((await call('GET', `/api/4/admin/users/${erin.id_encoded}/`, admin.key)).body.user.username).toBe('erin');

    const erinId = server.ctx.ids.decode(erin.id_encoded)!;
    const erinKey = await keyWith(erinId, ['upload', 'read']);
    expect((await call('GET', '/api/4/user/account/', erinKey)).status).toBe(200);
    expect((await call('PATCH', `/api/4/admin/users/${erin.id_encoded}/`, admin.key, { disabled: true })).body.user.disabled).toBe(true);
    expect((await call('GET', '/api/4/user/account/', erinKey)).status).toBe(401);
    await call('PATCH', `/api/4/admin/users/${erin.id_encoded}/`, admin.key, { disabled: false });
    expect((await call('GET', '/api/4/user/account/', erinKey)).status).toBe(200);

    const file = await upload(erinKey, {}, '#701');
    expect((await call('DELETE', `/api/4/admin/users/${erin.id_encoded}/`, admin.key)).status).toBe(200);
    expect((await call('GET', `/api/4/admin/users/${erin.id_encoded}/`, admin.key)).status).toBe(404);
    expect((await fetch(file.url)).status).toBe(404);
    expect((await call('GET', '/api/4/user/account/', erinKey)).status).toBe(401);
    // files=keep: the account goes, its files stay (as guest files).
    const fay = (await call('POST', '/api/4/admin/users/', admin.key, { username: 'fay', password: 'long enough pw' })).body.user;
    const fayFile = await upload(await keyWith(server.ctx.ids.decode(fay.id_encoded)!, ['upload']), {}, '#702');
    expect((await call('DELETE', `/api/4/admin/users/${fay.id_encoded}/?files=keep`, admin.key)).status).toBe(200);
    expect((await fetch(fayFile.url)).status).toBe(200);
    const rootId = server.ctx.ids.encode(admin.userId);
    expect((await call('DELETE', `/api/4/admin/users/${rootId}/`, admin.key)).status).toBe(403);
  });
});

describe('admin moderation', () => {
  // A site of its own where every non-moderator's upload waits for approval, so bans and
  // takedowns here never touch the other tests' server.
  let site: TestServer;
  let user: { key: string; userId: number };
  let root: { key: string; userId: number };
  const at = (path: string, key: string | null, method = 'GET', body?: unknown) =>
    fetch(`${site.url}${path}`, {
      method,
      headers: { ...(key ? { 'X-API-Key': key } : {}), ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (res) => ({ status: res.status, body: await res.json() }));
  const fileStatus = async (url: string) => (await fetch(url)).status;

  beforeAll(async () => {
    site = await startTestServer({ SHOEBOX_MODERATION: 'everyone', SHOEBOX_REFUSE_DUPLICATES: '0' });
    user = await site.createUserWithKey('waiter');
    root = await site.createUserWithKey('moderoot', { admin: true });
  });

  afterAll(async () => {
    await site?.close();
  });

  async function sendFile(png: Buffer) {
    return uploadFile(site.url, png, 'm.png', {}, { 'X-API-Key': user.key });
  }

  it('lists the approval queue and approves a waiting file, which then becomes visible', async () => {
    const sent = await sendFile(await makePng(30, 20, '#1a5'));
    expect(sent.status, sent.text).toBe(200);
    const id = sent.body.image.id_encoded as string;
    expect(sent.body.image.is_approved).toBe(0);
    // V4's upload answer, serialised by its schema, keeps V1's null URLs of a waiting file (not "").
    const v4 = await fetch(`${site.url}/api/4/user/images/`, {
      method: 'POST', headers: { 'X-API-Key': user.key }, body: new URLSearchParams({ source: (await makePng(22, 20, '#1a6')).toString('base64') }),
    }).then((res) => res.json());
    expect(v4.image.is_approved).toBe(0);
    expect(v4.image.url).toBeNull();
    expect(v4.image.display_url).toBeNull();
    const own = await at(`/api/4/user/images/${id}/`, user.key);
    const url = own.body.image.url as string;
    expect(await fileStatus(url)).toBe(404);

    const queue = await at('/api/4/admin/images/queue/', root.key);
    expect(queue.status).toBe(200);
    expect(queue.body.images.map((i: any) => i.id_encoded)).toContain(id);
    expect(queue.body.total).toBeGreaterThanOrEqual(1);

    const approved = await at('/api/4/admin/images/bulk/approve/', root.key, 'PATCH', { ids: [id, 'zzzzzz'] });
    expect(approved.status).toBe(200);
    expect(approved.body.approved).toEqual([id]);
    expect(approved.body.not_found).toEqual(['zzzzzz']);
    expect(await fileStatus(url)).toBe(200);
    expect((await at(`/api/4/user/images/${id}/`, user.key)).body.image.is_approved).toBe(1);
    expect((await at('/api/4/admin/images/queue/', root.key)).body.images.map((i: any) => i.id_encoded)).not.toContain(id);
    // The audit log names the key's admin, as for the queue page.
    const approvals = await site.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'approve').execute();
    expect(approvals.map((a: any) => a.actor)).toContain('moderoot');
    // Approving it again changes nothing.
    expect((await at('/api/4/admin/images/bulk/approve/', root.key, 'PATCH', { ids: [id] })).body.not_waiting).toEqual([id]);
  });

  it('takes files down: they are gone and the same file is refused on a new upload', async () => {
    const png = await makePng(33, 21, '#b14');
    const sent = await sendFile(png);
    expect(sent.status, sent.text).toBe(200);
    const id = sent.body.image.id_encoded as string;
    const url = (await at(`/api/4/user/images/${id}/`, user.key)).body.image.url as string;

    const down = await at('/api/4/admin/images/bulk/takedown/', root.key, 'PATCH', { ids: [id], reason: 'copyright notice 42' });
    expect(down.status).toBe(200);
    expect(down.body.removed).toEqual([id]);
    expect((await at(`/api/4/user/images/${id}/`, user.key)).status).toBe(404);
    expect(await fileStatus(url)).toBe(404);

    const again = await sendFile(png);
    expect(again.status).toBe(403);
    expect(again.body.error.message).toContain('copyright notice 42');
    // The audit log has it.
    const audit = await site.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'api.takedown').execute();
    expect(audit.map((a: any) => a.detail)).toContain('copyright notice 42');
  });

  it('bans an address (uploads from it are refused), lists the ban and lifts it', async () => {
    // A banned address is refused every API call, the admin's too: the admin here calls from
    // 127.0.0.2 (loopback), and bans 127.0.0.1, where the uploads come from.
    const fromOther = (method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; body: any }>((resolve, reject) => {
        const target = new URL(`${site.url}${path}`);
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = httpRequest(
          {
            host: target.hostname, port: target.port, path: target.pathname, method, localAddress: '127.0.0.2',
            headers: { 'X-API-Key': root.key, ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}) },
          },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
          },
        );
        req.on('error', reject);
        req.end(payload);
      });

    const bad = await fromOther('POST', '/api/4/admin/bans/ip/', { ip: '300.1.2.3' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('ip');

    const added = await fromOther('POST', '/api/4/admin/bans/ip/', { ip: '127.0.0.1', message: 'spam run', expires: '1h' });
    try {
      expect(added.status).toBe(200);
      expect(added.body.ban.message).toBe('spam run');
      expect(added.body.ban.expires_at).not.toBeNull();
      const listed = await fromOther('GET', '/api/4/admin/bans/ip/');
      expect(listed.body.bans.map((b: any) => b.range)).toContain(added.body.ban.range);

      const refused = await sendFile(await makePng(20, 20, '#c0c'));
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toContain('banned');
      expect(refused.body.error.message).toContain('spam run');

      // PATCH bans/ip/{ip}/ (Chevereto's BanIpPatchController): a new message, and no end any more.
      const changed = await fromOther('PATCH', '/api/4/admin/bans/ip/127.0.0.1/', { message: 'still spamming', expires: null });
      expect(changed.status).toBe(200);
      expect(changed.body.ban).toMatchObject({ range: added.body.ban.range, message: 'still spamming', expires_at: null });
      const refusedAgain = await sendFile(await makePng(20, 20, '#c0e'));
      expect(refusedAgain.status).toBe(403);
      expect(refusedAgain.body.error.message).toContain('still spamming');
      // Only the end changes; the message stays.
      const shorter = await fromOther('PATCH', '/api/4/admin/bans/ip/127.0.0.1/', { expires: '2h' });
      expect(shorter.body.ban.message).toBe('still spamming');
      expect(Date.parse(`${shorter.body.ban.expires_at.replace(' ', 'T')}Z`) - Date.now()).toBeGreaterThan(3600_000);
      expect((await fromOther('PATCH', '/api/4/admin/bans/ip/127.0.0.1/', {})).status).toBe(400);
      const badExpiry = await fromOther('PATCH', '/api/4/admin/bans/ip/127.0.0.1/', { expires: 'soon' });
      expect(badExpiry.status).toBe(400);
      expect(badExpiry.body.error.message).toContain('duration');
      const audit = await site.ctx.db.selectFrom('audit_log').select(['action', 'target']).where('action', '=', 'ban.change').execute();
      expect(audit.length).toBeGreaterThanOrEqual(2);

      const lifted = await fromOther('DELETE', '/api/4/admin/bans/ip/127.0.0.1/');
      expect(lifted.status).toBe(200);
    } finally {
      await site.ctx.moderation.bans.remove('127.0.0.1'); // if a step above failed: the site's other tests need the address
    }
    expect((await fromOther('DELETE', '/api/4/admin/bans/ip/127.0.0.1/')).status).toBe(404);
    // No ban to change: a 404, and nothing is banned by it.
    const none = await fromOther('PATCH', '/api/4/admin/bans/ip/203.0.113.9/', { message: 'x' });
    expect(none.status).toBe(404);
    expect((await fromOther('GET', '/api/4/admin/bans/ip/')).body.bans).toEqual([]);
    // A range: its / URL-encoded in the path.
    expect((await fromOther('POST', '/api/4/admin/bans/ip/', { ip: '198.51.100.0/24' })).status).toBe(200);
    expect((await fromOther('DELETE', '/api/4/admin/bans/ip/198.51.100.0%2F24/')).status).toBe(200);
    expect((await fromOther('GET', '/api/4/admin/bans/ip/')).body.bans).toEqual([]);
    expect((await sendFile(await makePng(20, 20, '#c0d'))).status).toBe(200);
  });
});
