import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAlbum as createAlbumRow } from '../../src/db/repositories/albums.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, memberWithKey, tileLinks, WebClient } from './web-client.js';

/** A file or sub-album is never more visible than the albums above it. */
describe('album privacy is inherited by sub-albums', () => {
  let server: TestServer;
  let owner: WebClient;
  let key: string;
  let stranger: WebClient;
  let n = 0;

  async function editAlbum(id: string, fields: Record<string, string>) {
    await owner.get(`/album/${id}/edit`);
    const res = await owner.post(`/album/${id}/edit`, { description: '', password: '', parent: '', ...fields });
    expect(res.status, res.text).toBe(303);
  }
  async function upload(title: string, albumId: string) {
    const res = await uploadFile(server.url, await makeJpeg(300 + n++, 200, '#468'), 'f.jpg', { title, tags: 'inherit-tag', album_id: albumId }, { 'X-API-Key': key });
    expect(res.status, res.text).toBe(200);
    return res.body.image as { path_viewer: string; url_viewer: string; url: string; id_encoded: string };
  }
  const oembedStatus = async (url: string) => (await fetch(`${server.url}/oembed?url=${encodeURIComponent(url)}`)).status;
  const listings = ['/explore', '/keeper', '/tag/inherit-tag', '/search?q=inherit'];

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0' });
    ({ browser: owner, key } = await memberWithKey(server.url, 'keeper'));
    stranger = new WebClient(server.url);
    await stranger.signup('nosy');
  });
  afterAll(async () => {
    await server.close();
  });

  it("hides a public sub-album of a private album, its files and their bytes from everyone but the owner, until the parent is public again", async () => {
    const parent = await createAlbum(owner, { name: 'Private parent', privacy: 'private' });
    const child = await createAlbum(owner, { name: 'Public child inherit', privacy: 'public', parent });
    const file = await upload('inherit child file', child);

    for (const visitor of [new WebClient(server.url), stranger]) {
      expect((await visitor.get(`/album/${child}`)).status).toBe(404);
      expect((await visitor.get(file.path_viewer)).status).toBe(404);
      expect((await visitor.get(file.url)).status).toBe(404);
      expect((await visitor.get(file.url.replace(/\.jpg$/, '.th.jpg'))).status).toBe(404);
      for (const listing of listings) expect(tileLinks((await visitor.get(listing)).text), listing).not.toContain(file.path_viewer);
      expect((await visitor.get('/keeper?tab=albums')).text).not.toContain('Public child inherit');
    }
    expect(await oembedStatus(file.url_viewer)).toBe(404);

    // The owner still sees everything, and the badge says the child is private because of its parent.
    const childPage = await owner.get(`/album/${child}`);
    expect(childPage.status).toBe(200);
    expect(childPage.text).toContain('privacy-private">Private, from “Private parent”</span>');
    expect((await owner.get(file.path_viewer)).status).toBe(200);
    const bytes = await owner.get(file.url);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('cache-control')).toMatch(/^private, /);
    expect((await owner.get('/keeper?tab=albums')).text).toContain('Public child inherit');
    expect((await owner.get(`/album/${parent}`)).text).toContain(`href="/album/${child}"`);

    // The parent made public: the child and its file are public again, everywhere.
    await editAlbum(parent, { name: 'Private parent', privacy: 'public' });
    const guest = new WebClient(server.url);
    expect((await guest.get(`/album/${child}`)).status).toBe(200);
    expect((await guest.get(file.path_viewer)).status).toBe(200);
    const publicBytes = await guest.get(file.url);
    expect(publicBytes.status).toBe(200);
    expect(publicBytes.headers.get('cache-control')).toMatch(/^public, /);
    for (const listing of listings) expect(tileLinks((await guest.get(listing)).text), listing).toContain(file.path_viewer);
    expect((await guest.get('/keeper?tab=albums')).text).toContain('Public child inherit');
    expect(await oembedStatus(file.url_viewer)).toBe(200);
  });

  it("asks for the password album's own password before showing anything inside it, at any depth", async () => {
    const parent = await createAlbum(owner, { name: 'Locked parent', privacy: 'password', password: 'parent pw' });
    const child = await createAlbum(owner, { name: 'Open child', privacy: 'public', parent });
    const grandchild = await createAlbum(owner, { name: 'Open grandchild', privacy: 'unlisted', parent: child });
    const file = await upload('locked grandchild file', grandchild);
    const visitor = new WebClient(server.url);

    for (const page of [`/album/${child}`, `/album/${grandchild}`, file.path_viewer]) {
      const locked = await visitor.get(page);
      expect(locked.status, page).toBe(403);
      expect(locked.text, page).toContain(`action="/album/${parent}/unlock"`);
      expect(locked.text, page).not.toContain('locked grandchild file');
    }
    expect((await visitor.get(file.url)).status).toBe(404);
    expect(await oembedStatus(file.url_viewer)).toBe(401);
    for (const listing of listings) expect(tileLinks((await visitor.get(listing)).text), listing).not.toContain(file.path_viewer);
    // The child albums have no password of their own.
    expect((await visitor.post(`/album/${child}/unlock`, { password: 'parent pw', return: file.path_viewer })).status).toBe(404);

    const unlocked = await visitor.post(`/album/${parent}/unlock`, { password: 'parent pw', return: file.path_viewer });
    expect(unlocked.status).toBe(303);
    expect(unlocked.location).toBe(file.path_viewer);
    expect((await visitor.get(file.path_viewer)).status).toBe(200);
    expect(tileLinks((await visitor.get(`/album/${grandchild}`)).text)).toEqual([file.path_viewer]);
    const bytes = await visitor.get(file.url);
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('cache-control')).toMatch(/^private, /);
    // Still never listed: the grandchild is unlisted and inside a password album.
    expect(tileLinks((await visitor.get('/explore')).text)).not.toContain(file.path_viewer);
  });

  it('follows moves: an album moved under a private one is hidden, and public again when that album is deleted', async () => {
    const hider = await createAlbum(owner, { name: 'Hider', privacy: 'private' });
    const wanderer = await createAlbum(owner, { name: 'Wanderer', privacy: 'public' });
    const file = await upload('inherit wanderer file', wanderer);
    expect(tileLinks((await stranger.get('/explore')).text)).toContain(file.path_viewer);

    await editAlbum(wanderer, { name: 'Wanderer', privacy: 'public', parent: hider });
    expect(tileLinks((await stranger.get('/explore')).text)).not.toContain(file.path_viewer);
    expect((await stranger.get(`/album/${wanderer}`)).status).toBe(404);
    expect((await stranger.get(file.url)).status).toBe(404);

    // Moving a file from a public album into the hidden sub-album hides it too.
    const outside = await createAlbum(owner, { name: 'Outside', privacy: 'public' });
    const mover = await upload('inherit mover file', outside);
    await owner.get(`/album/${outside}`);
    const moved = await owner.post(`/album/${outside}/move`, { image: [mover.id_encoded], target: wanderer });
    expect(moved.status).toBe(303);
    expect(tileLinks((await owner.get(`/album/${wanderer}`)).text)).toContain(mover.path_viewer);
    expect(tileLinks((await stranger.get('/explore')).text)).not.toContain(mover.path_viewer);

    await owner.get(`/album/${hider}`);
    expect((await owner.post(`/album/${hider}/delete`, { files: 'keep', target: '' })).status).toBe(303);
    expect((await stranger.get(`/album/${wanderer}`)).status).toBe(200);
    expect(tileLinks((await stranger.get('/explore')).text)).toEqual(expect.arrayContaining([file.path_viewer, mover.path_viewer]));
  });
});

describe('an album with many sub-albums', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  const albumTiles = (html: string) => [...html.matchAll(/<li class="tile album-tile">\s*<a href="([^"]+)"/g)].map((m) => m[1]);

  it('shows the newest 100 on the album page and every one of them, a page at a time, under "All sub-albums"', async () => {
    const { userId } = await server.createUserWithKey('collector');
    const parent = await createAlbumRow(server.ctx.db, { userId, name: 'Many', privacy: 'public' });
    const children: string[] = [];
    for (let i = 0; i < 103; i++) {
      const child = await createAlbumRow(server.ctx.db, { userId, name: `Child ${i}`, privacy: i === 5 ? 'private' : 'public', parentId: parent.id });
      if (i !== 5) children.push(`/album/${server.ctx.ids.encode(child.id)}`);
    }
    children.reverse(); // newest first
    const visitor = new WebClient(server.url);
    const path = `/album/${server.ctx.ids.encode(parent.id)}`;
    const page = await visitor.get(path);
    expect(albumTiles(page.text)).toEqual(children.slice(0, 100));
    expect(page.text).toContain(`href="${path}?tab=albums">All sub-albums</a>`);

    const seen: string[] = [];
    let html = (await visitor.get(`${path}?tab=albums`)).text;
    for (;;) {
      seen.push(...albumTiles(html));
      const older = /<a class="button" rel="next" href="([^"]+)"/.exec(html);
      if (!older) break;
      html = (await visitor.get(older[1].replace(/&amp;/g, '&'))).text;
    }
    expect(seen).toEqual(children);
    expect(seen.length).toBe(102);
  });
});
