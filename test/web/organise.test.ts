import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, decodeEntities, memberWithKey, WebClient } from './web-client.js';

/** Organising many files at once (issue 19): the selection's bulk form, "Add files" to an album, over HTTP as plain forms (no JavaScript). */
describe('organise: the selection on listings', () => {
  let server: TestServer;
  let admin: WebClient;
  let adminKey: string;
  let owner: WebClient;
  let ownerKey: string;
  let other: WebClient;
  let otherKey: string;

  const upload = async (key: string, title: string, fields: Record<string, string> = {}) =>
    (await uploadFile(server.url, await makePng(40, 30, '#2a9d8f'), `${title}.png`, { title, ...fields }, { 'X-API-Key': key })).body.image;
  const rowOf = (encoded: string) => server.ctx.db.selectFrom('images').selectAll().where('id', '=', server.ctx.ids.decode(encoded)!).executeTakeFirst();
  const tagsOf = async (encoded: string) =>
    (await server.ctx.db.selectFrom('image_tags').innerJoin('tags', 'tags.id', 'image_tags.tag_id').select('tags.name')
      .where('image_tags.image_id', '=', server.ctx.ids.decode(encoded)!).orderBy('tags.name').execute()).map((r) => r.name);

  beforeAll(async () => {
    server = await startTestServer();
    ({ browser: admin, key: adminKey } = await memberWithKey(server.url, 'boss'));
    ({ browser: owner, key: ownerKey } = await memberWithKey(server.url, 'maya'));
    ({ browser: other, key: otherKey } = await memberWithKey(server.url, 'nils'));
  });
  afterAll(async () => {
    await server.close();
  });

  it('puts checkboxes and the bulk form on listings of your own files only', async () => {
    const mine = await upload(ownerKey, 'Mine', { tags: 'shared' });
    await upload(otherKey, 'Theirs', { tags: 'shared' });
    const profile = await owner.get('/maya');
    expect(profile.text).toContain('id="bulk-form"');
    expect(profile.text).toContain(`name="image" value="${mine.id_encoded}" form="bulk-form"`);
    expect((await other.get('/maya')).text).not.toContain('bulk-form');
    expect((await new WebClient(server.url).get('/maya')).text).not.toContain('bulk-form');
    // A tag page mixes people's files: a checkbox only on your own.
    const tag = await owner.get('/tag/shared');
    expect(tag.text.match(/name="image" value="[^"]+" form="bulk-form"/g)).toHaveLength(1);
    // Explore: only an admin selects there.
    expect((await owner.get('/explore')).text).not.toContain('bulk-form');
    expect((await admin.get('/explore')).text).toContain('bulk-form');
  });

  it('moves the selection into an album, or into a new one made in the same step', async () => {
    const files = [await upload(ownerKey, 'One'), await upload(ownerKey, 'Two'), await upload(ownerKey, 'Three')];
    const albumId = await createAlbum(owner, { name: 'Trip', privacy: 'public' });
    await owner.get('/maya');
    const moved = await owner.post('/files/bulk', { action: 'move', target: albumId, image: files.slice(0, 2).map((f) => f.id_encoded), return: '/maya' });
    expect(moved.status).toBe(303);
    expect(moved.location).toBe('/maya?notice=files-moved');
    for (const f of files.slice(0, 2)) expect((await rowOf(f.id_encoded))!.album_id).toBe(server.ctx.ids.decode(albumId));
    expect((await rowOf(files[2].id_encoded))!.album_id).toBeNull();

    const made = await owner.post('/files/bulk', { action: 'new-album', album_name: 'Loose ends', image: files.map((f) => f.id_encoded), return: '/maya' });
    expect(made.status).toBe(303);
    const newAlbum = /^\/album\/([A-Za-z0-9]+)\?notice=album-created$/.exec(made.location!)![1];
    const album = await server.ctx.db.selectFrom('albums').selectAll().where('id', '=', server.ctx.ids.decode(newAlbum)!).executeTakeFirstOrThrow();
    expect(album.name).toBe('Loose ends');
    expect(album.user_id).toBe((await rowOf(files[0].id_encoded))!.user_id);
    for (const f of files) expect((await rowOf(f.id_encoded))!.album_id).toBe(album.id);
    // The album page shows them, with the bulk bar and the album's own buttons.
    const page = await owner.get(`/album/${newAlbum}`);
    expect(page.text).toContain('id="bulk-form"');
    expect(page.text).toContain(`href="/upload?album=${newAlbum}"`);
    expect(page.text).toContain(`href="/album/${newAlbum}/add"`);
    // A name is required; no empty album is made without one.
    const before = await server.ctx.db.selectFrom('albums').select('id').execute();
    expect((await owner.post('/files/bulk', { action: 'new-album', album_name: ' ', image: files[0].id_encoded })).status).toBe(400);
    expect(await server.ctx.db.selectFrom('albums').select('id').execute()).toHaveLength(before.length);
  });

  it('marks sensitive, adds and removes tags for the whole selection', async () => {
    const a = await upload(ownerKey, 'Tagged A', { tags: 'old' });
    const b = await upload(ownerKey, 'Tagged B');
    await owner.get('/maya');
    const both = [a.id_encoded, b.id_encoded];
    expect((await owner.post('/files/bulk', { action: 'nsfw-on', image: both, return: '/maya' })).location).toBe('/maya?notice=files-updated');
    expect((await rowOf(a.id_encoded))!.nsfw).toBe(1);
    expect((await rowOf(b.id_encoded))!.nsfw).toBe(1);
    await owner.post('/files/bulk', { action: 'nsfw-off', image: [a.id_encoded] });
    expect((await rowOf(a.id_encoded))!.nsfw).toBe(0);

    await owner.post('/files/bulk', { action: 'add-tags', tags: 'sea, old', image: both });
    expect(await tagsOf(a.id_encoded)).toEqual(['old', 'sea']);
    expect(await tagsOf(b.id_encoded)).toEqual(['old', 'sea']);
    await owner.post('/files/bulk', { action: 'remove-tags', tags: 'old', image: both });
    expect(await tagsOf(a.id_encoded)).toEqual(['sea']);
    expect(await tagsOf(b.id_encoded)).toEqual(['sea']);
    expect((await owner.post('/files/bulk', { action: 'add-tags', tags: '', image: both })).status).toBe(400);
  });

  it('never touches someone else’s files, unless an admin asks', async () => {
    const theirs = await upload(otherKey, 'Not yours');
    await owner.get('/maya');
    const res = await owner.post('/files/bulk', { action: 'nsfw-on', image: theirs.id_encoded, return: '/maya' });
    expect(res.location).toBe('/maya?notice=nothing-selected');
    expect((await rowOf(theirs.id_encoded))!.nsfw).toBe(0);
    const del = await owner.post('/files/bulk', { action: 'delete', confirm: '1', image: theirs.id_encoded, return: '/maya' });
    expect(del.location).toBe('/maya?notice=nothing-selected');
    expect(await rowOf(theirs.id_encoded)).toBeDefined();
    await admin.get('/nils');
    await admin.post('/files/bulk', { action: 'nsfw-on', image: theirs.id_encoded, return: '/nils' });
    expect((await rowOf(theirs.id_encoded))!.nsfw).toBe(1);
    // An album holds one person's files.
    const mine = await upload(ownerKey, 'Mixed');
    expect((await admin.post('/files/bulk', { action: 'new-album', album_name: 'Mixed', image: [theirs.id_encoded, mine.id_encoded] })).status).toBe(400);
    // Anonymous: to the sign-in page.
    const anonymous = await new WebClient(server.url).post('/files/bulk', { action: 'delete', image: mine.id_encoded }, { csrf: false });
    expect([303, 403]).toContain(anonymous.status);
    expect(await rowOf(mine.id_encoded)).toBeDefined();
  });

  it('lets an admin on /explore move their own files into their album, and says why someone else’s cannot go there', async () => {
    const own = [await upload(adminKey, 'Admin one'), await upload(adminKey, 'Admin two')];
    const theirs = await upload(otherKey, 'Explored');
    const albumId = await createAlbum(admin, { name: 'Admin picks', privacy: 'public' });
    // The bar on /explore offers the admin's albums, and checkboxes on everyone's files.
    const explore = await admin.get('/explore');
    expect(explore.text).toContain(`<option value="${albumId}">Admin picks</option>`);
    expect(explore.text).toContain(`name="image" value="${theirs.id_encoded}" form="bulk-form"`);
    const moved = await admin.post('/files/bulk', { action: 'move', target: albumId, image: own.map((f) => f.id_encoded), return: '/explore' });
    expect(moved.status, moved.text).toBe(303);
    expect(moved.location).toBe('/explore?notice=files-moved');
    for (const f of own) expect((await rowOf(f.id_encoded))!.album_id).toBe(server.ctx.ids.decode(albumId));
    // Another person's file (alone or mixed in) keeps its owner and its place: a page that says so, nothing moved.
    const refused = await admin.post('/files/bulk', { action: 'move', target: albumId, image: [theirs.id_encoded, own[0].id_encoded], return: '/explore' });
    expect(refused.status).toBe(409);
    const text = decodeEntities(refused.text);
    expect(text).toContain('These files can’t go into that album');
    expect(text).toContain('Selected files owned by someone other than the album’s owner (boss): 1.');
    expect(refused.text).toContain('href="/explore"');
    const row = (await rowOf(theirs.id_encoded))!;
    expect(row.album_id).toBeNull();
    const nils = await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'nils').executeTakeFirstOrThrow();
    expect(row.user_id).toBe(nils.id);
    // Korean too.
    admin.headers['Accept-Language'] = 'ko';
    const ko = await admin.post('/files/bulk', { action: 'move', target: albumId, image: theirs.id_encoded, return: '/explore' });
    admin.headers['Accept-Language'] = 'en';
    expect(ko.status).toBe(409);
    expect(decodeEntities(ko.text)).toContain('이 파일들은 그 앨범으로 옮길 수 없습니다');
    // An album that is not there: a 404, not a move out of every album.
    const gone = await admin.post('/files/bulk', { action: 'move', target: 'zzzzzz', image: own[0].id_encoded, return: '/explore' });
    expect(gone.status).toBe(404);
    expect((await rowOf(own[0].id_encoded))!.album_id).toBe(server.ctx.ids.decode(albumId));
  });

  it('asks before deleting, then deletes rows and files through the one removal path', async () => {
    const files = [await upload(ownerKey, 'Bye 1'), await upload(ownerKey, 'Bye 2')];
    await owner.get('/maya');
    const ask = await owner.post('/files/bulk', { action: 'delete', image: files.map((f) => f.id_encoded), return: '/maya' });
    expect(ask.status).toBe(200);
    expect(ask.text).toContain('Delete 2 files?');
    for (const f of files) expect(await rowOf(f.id_encoded)).toBeDefined();
    // The confirmation page's form, as a person would press it.
    const hidden = [...ask.text.matchAll(/<input type="hidden" name="image" value="([^"]+)">/g)].map((m) => m[1]);
    expect(hidden.sort()).toEqual(files.map((f) => f.id_encoded).sort());
    const done = await owner.post('/files/bulk', { action: 'delete', confirm: '1', image: hidden, return: '/maya' });
    expect(done.location).toBe('/maya?notice=files-deleted-many');
    for (const f of files) {
      expect(await rowOf(f.id_encoded)).toBeUndefined();
      expect((await fetch(f.url)).status).toBe(404);
      expect((await fetch(f.thumb.url)).status).toBe(404);
    }
    const names = await server.ctx.db.selectFrom('file_names').select('name').where('name', 'in', files.map((f) => f.name)).execute();
    expect(names).toEqual([]);
  });

  it('shows the embed codes of the selection, and hands one format as text for the copy button', async () => {
    const files = [await upload(ownerKey, 'Code 1'), await upload(ownerKey, 'Code 2')];
    await owner.get('/maya');
    const page = await owner.post('/files/bulk', { action: 'embed', image: files.map((f) => f.id_encoded), return: '/maya' });
    expect(page.status).toBe(200);
    const links = decodeEntities(/<textarea id="embed-viewer-links"[^>]*>([\s\S]*?)<\/textarea>/.exec(page.text)![1]);
    expect(links.split('\n').sort()).toEqual(files.map((f) => f.url_viewer).sort());
    expect(page.text).toContain('id="embed-markdown-full-linked"');
    const res = await fetch(`${server.url}/files/bulk`, {
      method: 'POST',
      headers: { accept: 'text/plain', 'content-type': 'application/x-www-form-urlencoded', cookie: [...owner.cookies].map(([k, v]) => `${k}=${v}`).join('; '), origin: server.url },
      body: new URLSearchParams([['_csrf', owner.csrf!], ['action', 'embed'], ['code', 'direct-links'], ...files.map((f) => ['image', f.id_encoded])]),
    });
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect((await res.text()).split('\n').sort()).toEqual(files.map((f) => f.url).sort());
  });

  it('adds the owner’s other files to an album from its "Add files" page', async () => {
    const albumId = await createAlbum(owner, { name: 'Gathered', privacy: 'public' });
    const inside = await upload(ownerKey, 'Already in', { album_id: albumId });
    const loose = await upload(ownerKey, 'Loose');
    const add = await owner.get(`/album/${albumId}/add`);
    expect(add.status).toBe(200);
    expect(add.text).toContain(`value="${loose.id_encoded}" form="bulk-form" data-select>`);
    expect(add.text).toContain(`value="${inside.id_encoded}" form="bulk-form" data-select checked disabled>`);
    expect(add.text).not.toContain('Not yours');
    const res = await owner.post('/files/bulk', { action: 'move', target: albumId, image: loose.id_encoded, return: `/album/${albumId}` });
    expect(res.location).toBe(`/album/${albumId}?notice=files-moved`);
    expect((await rowOf(loose.id_encoded))!.album_id).toBe(server.ctx.ids.decode(albumId));
    expect((await other.get(`/album/${albumId}/add`)).status).toBe(404);
  });
});
