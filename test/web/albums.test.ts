import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, memberWithKey, tileLinks, WebClient } from './web-client.js';

const member = (server: TestServer, username: string) => memberWithKey(server.url, username);

async function upload(server: TestServer, key: string, title: string, albumId = '', tags = 'shared-tag') {
  const res = await uploadFile(server.url, await makeJpeg(400, 300, '#468'), `${title}.jpg`, { title, tags, album_id: albumId }, { 'X-API-Key': key });
  expect(res.status, res.text).toBe(200);
  return res.body.image as { path_viewer: string; url_viewer: string; id_encoded: string; url: string };
}

describe('albums: privacy, password, moving files, deleting', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof member>>;
  let stranger: WebClient;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await member(server, 'owner');
    stranger = new WebClient(server.url);
    await stranger.signup('stranger');
  });
  afterAll(async () => {
    await server.close();
  });

  it("keeps a private album's files out of every listing and 404s their pages for everyone but the owner", async () => {
    const albumId = await createAlbum(owner.browser, { name: 'Secret stuff', privacy: 'private' });
    const hidden = await upload(server, owner.key, 'Hidden file', albumId);
    const visible = await upload(server, owner.key, 'Visible file');
    const guest = new WebClient(server.url);

    for (const viewer of [guest, stranger]) {
      for (const listing of ['/', '/explore', '/owner', '/tag/shared-tag', '/search?q=file']) {
        const page = await viewer.get(listing);
        expect(page.status, listing).toBe(200);
        expect(tileLinks(page.text), listing).toContain(visible.path_viewer);
        expect(tileLinks(page.text), listing).not.toContain(hidden.path_viewer);
        expect(page.text, listing).not.toContain('Hidden file');
      }
      expect((await viewer.get(hidden.path_viewer)).status).toBe(404);
      expect((await viewer.get(`/image/${hidden.id_encoded}`)).status).toBe(404);
      expect((await viewer.get(`/album/${albumId}`)).status).toBe(404);
      expect((await viewer.get('/owner?tab=albums')).text).not.toContain('Secret stuff');
    }
    const oembed = await fetch(`${server.url}/oembed?url=${encodeURIComponent(hidden.url_viewer)}`);
    expect(oembed.status).toBe(404);

    // The owner sees all of it.
    expect((await owner.browser.get(hidden.path_viewer)).status).toBe(200);
    expect(tileLinks((await owner.browser.get('/owner')).text)).toContain(hidden.path_viewer);
    expect(tileLinks((await owner.browser.get(`/album/${albumId}`)).text)).toEqual([hidden.path_viewer]);
    expect((await owner.browser.get('/owner?tab=albums')).text).toContain('Secret stuff');
  });

  it("serves the files of private and password albums only to who may see the album, never to shared caches", async () => {
    const privateAlbum = await createAlbum(owner.browser, { name: 'Private files', privacy: 'private' });
    const lockedAlbum = await createAlbum(owner.browser, { name: 'Locked files', privacy: 'password', password: 'let me in' });
    const unlistedAlbum = await createAlbum(owner.browser, { name: 'Unlisted files', privacy: 'unlisted' });
    const secret = await upload(server, owner.key, 'Private bytes', privateAlbum);
    const locked = await upload(server, owner.key, 'Locked bytes', lockedAlbum);
    const unlisted = await upload(server, owner.key, 'Unlisted bytes', unlistedAlbum);
    const guest = new WebClient(server.url);

    expect((await guest.get(secret.url)).status).toBe(404);
    expect((await guest.get(secret.url.replace(/\.jpg$/, '.th.jpg'))).status).toBe(404);
    expect((await stranger.get(secret.url)).status).toBe(404);
    const mine = await owner.browser.get(secret.url);
    expect(mine.status).toBe(200);
    expect(mine.headers.get('content-type')).toBe('image/jpeg');
    expect(mine.headers.get('cache-control')).toMatch(/^private, /);

    expect((await guest.get(locked.url)).status).toBe(404);
    await guest.get(locked.path_viewer);
    await guest.post(`/album/${lockedAlbum}/unlock`, { password: 'let me in', return: locked.path_viewer });
    const unlocked = await guest.get(locked.url);
    expect(unlocked.status).toBe(200);
    expect(unlocked.headers.get('cache-control')).toMatch(/^private, /);

    const byLink = await new WebClient(server.url).get(unlisted.url);
    expect(byLink.status).toBe(200);
    expect(byLink.headers.get('cache-control')).toMatch(/^public, /);
  });

  it('asks for the password of a password album, for the album and its files, and remembers it', async () => {
    const albumId = await createAlbum(owner.browser, { name: 'Family', privacy: 'password', password: 'open sesame' });
    const file = await upload(server, owner.key, 'Grandma', albumId);
    const visitor = new WebClient(server.url);

    const locked = await visitor.get(`/album/${albumId}`);
    expect(locked.status).toBe(403);
    expect(locked.text).toContain('This album is password protected');
    expect(locked.text).toContain(`action="/album/${albumId}/unlock"`);
    expect(locked.text).not.toContain('Grandma');
    const lockedFile = await visitor.get(file.path_viewer);
    expect(lockedFile.status).toBe(403);
    expect(lockedFile.text).toContain('This album is password protected');
    expect(tileLinks((await visitor.get('/explore')).text)).not.toContain(file.path_viewer);
    expect((await fetch(`${server.url}/oembed?url=${encodeURIComponent(file.url_viewer)}`)).status).toBe(401);

    const wrong = await visitor.post(`/album/${albumId}/unlock`, { password: 'guess', return: file.path_viewer });
    expect(wrong.status).toBe(403);
    expect(wrong.text).toContain('That password is not right.');
    const right = await visitor.post(`/album/${albumId}/unlock`, { password: 'open sesame', return: file.path_viewer });
    expect(right.status).toBe(303);
    expect(right.location).toBe(file.path_viewer);
    expect((await visitor.get(file.path_viewer)).status).toBe(200);
    expect(tileLinks((await visitor.get(`/album/${albumId}`)).text)).toEqual([file.path_viewer]);

    // A new password locks out everyone who knew the old one.
    await owner.browser.get(`/album/${albumId}/edit`);
    const changed = await owner.browser.post(`/album/${albumId}/edit`, { name: 'Family', description: '', privacy: 'password', password: 'new secret', parent: '' });
    expect(changed.status).toBe(303);
    expect((await visitor.get(`/album/${albumId}`)).status).toBe(403);
  });

  it('shows an unlisted album to anyone with the link, but lists it nowhere', async () => {
    const albumId = await createAlbum(owner.browser, { name: 'Link only', privacy: 'unlisted' });
    const file = await upload(server, owner.key, 'By link', albumId);
    const guest = new WebClient(server.url);
    expect((await guest.get(`/album/${albumId}`)).status).toBe(200);
    expect((await guest.get(file.path_viewer)).status).toBe(200);
    expect(tileLinks((await guest.get('/explore')).text)).not.toContain(file.path_viewer);
    expect(tileLinks((await guest.get('/owner')).text)).not.toContain(file.path_viewer);
    expect((await guest.get('/owner?tab=albums')).text).not.toContain('Link only');
    const noindex = (await guest.get(file.path_viewer)).text;
    expect(noindex).toContain('<meta name="robots" content="noindex">');
  });

  it('follows privacy changes: a public album made private leaves the listings with its files', async () => {
    const albumId = await createAlbum(owner.browser, { name: 'Changing', privacy: 'public' });
    const file = await upload(server, owner.key, 'Changing file', albumId);
    expect(tileLinks((await stranger.get('/explore')).text)).toContain(file.path_viewer);
    await owner.browser.get(`/album/${albumId}/edit`);
    await owner.browser.post(`/album/${albumId}/edit`, { name: 'Changing', description: '', privacy: 'private', password: '', parent: '' });
    expect(tileLinks((await stranger.get('/explore')).text)).not.toContain(file.path_viewer);
    expect((await stranger.get(file.path_viewer)).status).toBe(404);
    await owner.browser.post(`/album/${albumId}/edit`, { name: 'Changing', description: '', privacy: 'public', password: '', parent: '' });
    expect(tileLinks((await stranger.get('/explore')).text)).toContain(file.path_viewer);
  });

  it('lets only the owner edit, move files between albums, choose a cover and nest albums without cycles', async () => {
    const a = await createAlbum(owner.browser, { name: 'Album A', privacy: 'public' });
    const b = await createAlbum(owner.browser, { name: 'Album B', privacy: 'public', parent: a });
    const one = await upload(server, owner.key, 'One', a);
    const two = await upload(server, owner.key, 'Two', a);

    // Somebody else's forms do nothing.
    await stranger.get('/explore');
    expect((await stranger.post(`/album/${a}/move`, { image: [one.id_encoded], target: b })).status).toBe(404);
    expect((await stranger.post(`/album/${a}/delete`, { files: 'delete' })).status).toBe(404);
    expect((await stranger.get(one.path_viewer)).status).toBe(200);

    await owner.browser.get(`/album/${a}`);
    const moved = await owner.browser.post(`/album/${a}/move`, { image: [one.id_encoded], target: b });
    expect(moved.status).toBe(303);
    expect(tileLinks((await owner.browser.get(`/album/${a}`)).text)).toEqual([two.path_viewer]);
    expect(tileLinks((await owner.browser.get(`/album/${b}`)).text)).toEqual([one.path_viewer]);

    // B is inside A: A's page lists it, B's breadcrumbs lead back to A.
    expect((await stranger.get(`/album/${a}`)).text).toContain(`href="/album/${b}"`);
    expect((await stranger.get(`/album/${b}`)).text).toContain(`<a href="/album/${a}">Album A</a>`);
    // A cannot go inside its own sub-album.
    await owner.browser.get(`/album/${a}/edit`);
    expect((await owner.browser.post(`/album/${a}/edit`, { name: 'Album A', description: '', privacy: 'public', password: '', parent: b })).status).toBe(400);

    await owner.browser.get(one.path_viewer);
    const cover = await owner.browser.post(`${one.path_viewer}/cover`);
    expect(cover.location).toBe(`/album/${b}?notice=cover-set`);
    const card = (await stranger.get('/owner?tab=albums')).text;
    const coverThumb = one.url.replace(/\.jpg$/, '.th.jpg');
    expect(card).toContain(coverThumb);
  });

  it('deletes an album keeping its files in another album, or deleting them with it', async () => {
    const keep = await createAlbum(owner.browser, { name: 'To delete, keep files', privacy: 'private' });
    const target = await createAlbum(owner.browser, { name: 'Target', privacy: 'public' });
    const kept = await upload(server, owner.key, 'Kept', keep);
    await owner.browser.get(`/album/${keep}`);
    const res = await owner.browser.post(`/album/${keep}/delete`, { files: 'keep', target });
    expect(res.status).toBe(303);
    expect(res.location).toBe('/owner?tab=albums&notice=album-deleted');
    expect((await owner.browser.get(`/album/${keep}`)).status).toBe(404);
    expect(tileLinks((await stranger.get(`/album/${target}`)).text)).toEqual([kept.path_viewer]);
    // Now in a public album, it is listed again.
    expect(tileLinks((await stranger.get('/explore')).text)).toContain(kept.path_viewer);

    const gone = await createAlbum(owner.browser, { name: 'To delete with files', privacy: 'public' });
    const doomed = await upload(server, owner.key, 'Doomed', gone);
    await owner.browser.get(`/album/${gone}`);
    await owner.browser.post(`/album/${gone}/delete`, { files: 'delete' });
    expect((await stranger.get(doomed.path_viewer)).status).toBe(404);
    expect((await fetch(doomed.url)).status).toBe(404);
  });

  it("puts an API upload into the key owner's album, and refuses someone else's album", async () => {
    const albumId = await createAlbum(owner.browser, { name: 'API target', privacy: 'public' });
    const file = await upload(server, owner.key, 'From the API', albumId);
    expect(tileLinks((await stranger.get(`/album/${albumId}`)).text)).toEqual([file.path_viewer]);
    const other = await member(server, 'intruder');
    const res = await uploadFile(server.url, await makeJpeg(), 'x.jpg', { album_id: albumId }, { 'X-API-Key': other.key });
    expect(res.status).toBe(403);
  });
});
