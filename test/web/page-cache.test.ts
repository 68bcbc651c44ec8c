import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum as createAlbumRow } from '../../src/db/repositories/albums.js';
import { CSRF_PLACEHOLDER_PREFIX, localChangeCount, noteLocalChange, PageCache, type PageFacts } from '../../src/web/page-cache.js';
import { createAlbum, memberWithKey, WebClient } from './web-client.js';

const member = (server: TestServer, username: string) => memberWithKey(server.url, username);

async function upload(server: TestServer, key: string, title: string, tags = 'harbour') {
  const res = await uploadFile(server.url, await makeJpeg(400, 300, '#468'), `${title}.jpg`, { title, tags }, { 'X-API-Key': key });
  expect(res.status, res.text).toBe(200);
  return res.body.image as { id_encoded: string; path_viewer: string };
}

/** The owner's edit form on the viewer page, posted with these fields. */
async function edit(owner: WebClient, viewerPath: string, fields: Record<string, string>) {
  const page = await owner.get(viewerPath);
  expect(page.status).toBe(200);
  const res = await owner.post(`${viewerPath}/edit`, { title: '', description: '', tags: '', album: '', ...fields });
  expect(res.status, res.text).toBe(303);
  return res.location!.split('?')[0];
}

const viewsOf = (html: string) => /(\d+) views?</.exec(html)?.[1];

async function viewsInDatabase(server: TestServer, id: string): Promise<number> {
  const row = await server.ctx.db.selectFrom('images').select('views').where('id', '=', server.ctx.ids.decode(id)!).executeTakeFirstOrThrow();
  return Number(row.views);
}

describe('viewer page cache for visitors without a session', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof member>>;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await member(server, 'harbourmaster');
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves anonymous visitors one rendered copy, with no CSRF token or cookie, and the same headers', async () => {
    const image = await upload(server, owner.key, 'Cached harbour');
    const first = new WebClient(server.url);
    const second = new WebClient(server.url);
    const a = await first.get(image.path_viewer);
    const b = await second.get(image.path_viewer);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    // The copy is shared: the second visitor sees the views figure of the first render (it lags by the TTL).
    expect(viewsOf(a.text)).toBe('1');
    expect(viewsOf(b.text)).toBe('1');
    expect(b.text).toBe(a.text);
    // The page's only forms (language, NSFW) are checked by origin: no token, no CSRF cookie.
    expect(b.text).not.toContain(CSRF_PLACEHOLDER_PREFIX);
    expect(b.text).not.toContain('name="_csrf"');
    expect(b.headers.getSetCookie().join(';')).not.toContain('shoebox_csrf');
    const switched = await second.post('/language', { language: 'nl', return: image.path_viewer });
    expect(switched.status).toBe(303);
    for (const name of ['content-type', 'cache-control', 'vary', 'content-language', 'content-security-policy', 'etag', 'x-content-type-options']) {
      expect(b.headers.get(name), name).toBe(a.headers.get(name));
    }
    expect(b.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(b.headers.get('cache-control')).toBe('private, no-cache');
    // Another language is its own copy, in that language.
    const dutch = await second.get(image.path_viewer);
    expect(dutch.headers.get('content-language')).toBe('nl');
    expect(dutch.text).toContain('<html lang="nl">');
  });

  it('shows an edit (title, then tags alone) to anonymous visitors at once', async () => {
    const image = await upload(server, owner.key, 'Before edit', 'boats');
    const visitor = new WebClient(server.url);
    expect((await visitor.get(image.path_viewer)).text).toContain('<h1 class="viewer-title">Before edit</h1>');
    const renamed = await edit(owner.browser, image.path_viewer, { title: 'After edit', tags: 'boats' });
    expect(renamed).not.toBe(image.path_viewer);
    expect((await visitor.get(image.path_viewer)).status).toBe(301);
    const after = await visitor.get(renamed);
    expect(after.text).toContain('<h1 class="viewer-title">After edit</h1>');
    expect(after.text).toContain('href="/tag/boats">#boats</a>');
    // Tags live in another table: the page still changes at once.
    await edit(owner.browser, renamed, { title: 'After edit', tags: 'sails' });
    const retagged = await visitor.get(renamed);
    expect(retagged.text).toContain('href="/tag/sails">#sails</a>');
    expect(retagged.text).not.toContain('#boats');
  });

  it('stops serving a file moved into a private album, or whose album turns private, at once', async () => {
    const privateAlbum = await createAlbum(owner.browser, { name: 'Private shelf', privacy: 'private' });
    const moved = await upload(server, owner.key, 'Soon private');
    const visitor = new WebClient(server.url);
    expect((await visitor.get(moved.path_viewer)).status).toBe(200);
    expect((await visitor.get(moved.path_viewer)).status).toBe(200);
    await edit(owner.browser, moved.path_viewer, { title: 'Soon private', album: privateAlbum });
    expect((await visitor.get(moved.path_viewer)).status).toBe(404);

    const publicAlbum = await createAlbum(owner.browser, { name: 'Open shelf', privacy: 'public' });
    const inAlbum = await upload(server, owner.key, 'Album turns private');
    const albumPath = await edit(owner.browser, inAlbum.path_viewer, { title: 'Album turns private', album: publicAlbum });
    expect((await visitor.get(albumPath)).status).toBe(200);
    expect((await visitor.get(albumPath)).status).toBe(200);
    await owner.browser.get(`/album/${publicAlbum}/edit`);
    await owner.browser.post(`/album/${publicAlbum}/edit`, { name: 'Open shelf', description: '', privacy: 'private', password: '', parent: '' });
    expect((await visitor.get(albumPath)).status).toBe(404);
    // Deleted: gone for everyone at once.
    const doomed = await upload(server, owner.key, 'Doomed');
    expect((await visitor.get(doomed.path_viewer)).status).toBe(200);
    await owner.browser.get(doomed.path_viewer);
    expect((await owner.browser.post(`${doomed.path_viewer}/delete`)).status).toBe(303);
    expect((await visitor.get(doomed.path_viewer)).status).toBe(404);
  });

  it('shows a change made through another instance (straight in the database) within a second', async () => {
    const image = await upload(server, owner.key, 'Shared database');
    const id = server.ctx.ids.decode(image.id_encoded)!;
    const visitor = new WebClient(server.url);
    expect((await visitor.get(image.path_viewer)).text).toContain('Shared database');
    // Another instance flips the file's album to private; nothing passes through this process.
    const ownerId = (await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'harbourmaster').executeTakeFirstOrThrow()).id;
    const albumId = (await createAlbumRow(server.ctx.db, { userId: ownerId, name: 'Elsewhere', privacy: 'private' })).id;
    await server.ctx.db.updateTable('images').set({ album_id: albumId, listed: 0 }).where('id', '=', id).execute();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await visitor.get(image.path_viewer)).status).toBe(404);
  });

  it('sends a file link through the delete URL to a 404 at once, cached or not', async () => {
    const res = await uploadFile(server.url, await makeJpeg(300, 200), 'gone.jpg', {}, { 'X-API-Key': owner.key });
    const visitor = new WebClient(server.url);
    expect((await visitor.get(res.body.image.path_viewer ?? new URL(res.body.image.url_viewer).pathname)).status).toBe(200);
    const deleteUrl = new URL(res.body.image.delete_url);
    expect((await fetch(deleteUrl, { redirect: 'manual' })).status).toBe(301);
    expect((await visitor.get(new URL(res.body.image.url_viewer).pathname)).status).toBe(404);
  });

  it('never gives a signed-in visitor the anonymous copy', async () => {
    const image = await upload(server, owner.key, 'Owner tools');
    const visitor = new WebClient(server.url);
    const anonymous = await visitor.get(image.path_viewer);
    expect(anonymous.text).not.toContain('harbourmaster</span>');
    expect(anonymous.text).not.toContain(`${image.path_viewer}/edit`);
    const mine = await owner.browser.get(image.path_viewer);
    expect(mine.status).toBe(200);
    expect(mine.text).toContain('<span class="nav-username">harbourmaster</span>');
    expect(mine.text).toContain(`action="${image.path_viewer}/edit"`);
    const stranger = new WebClient(server.url);
    await stranger.signup('passerby');
    const theirs = await stranger.get(image.path_viewer);
    expect(theirs.text).toContain('<span class="nav-username">passerby</span>');
    expect(theirs.text).not.toContain(`action="${image.path_viewer}/edit"`);
    // And the anonymous copy did not pick up anything of theirs.
    const again = await new WebClient(server.url).get(image.path_viewer);
    expect(again.text).not.toContain('nav-username');
  });

  it('still counts every view: written to the database within a few seconds', async () => {
    const image = await upload(server, owner.key, 'Counted');
    for (let i = 0; i < 5; i++) expect((await new WebClient(server.url).get(image.path_viewer)).status).toBe(200);
    await owner.browser.get(image.path_viewer); // the owner's own views do not count
    const deadline = Date.now() + 8000;
    while ((await viewsInDatabase(server, image.id_encoded)) < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await viewsInDatabase(server, image.id_encoded)).toBe(5);
    // The owner (never cached) sees the count at once.
    expect(viewsOf((await owner.browser.get(image.path_viewer)).text)).toBe('5');
  });
});

describe('viewer pages without the page cache (SHOEBOX_PAGE_CACHE_SIZE=0)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_PAGE_CACHE_SIZE: '0' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('renders every view, and the views written when the server closes are not lost', async () => {
    const { key } = await server.createUserWithKey('solo');
    const image = await upload(server, key, 'Uncached');
    const visitor = new WebClient(server.url);
    expect(viewsOf((await visitor.get(image.path_viewer)).text)).toBe('1');
    expect(viewsOf((await visitor.get(image.path_viewer)).text)).toBe('2');
    expect(viewsOf((await visitor.get(image.path_viewer)).text)).toBe('3');
    // Closing the server writes the counted views before the database closes.
    const id = server.ctx.ids.decode(image.id_encoded)!;
    server.app.server.closeAllConnections();
    await server.app.close();
    const row = await server.ctx.db.selectFrom('images').select('views').where('id', '=', id).executeTakeFirstOrThrow();
    expect(Number(row.views)).toBe(3);
  });
});

describe('PageCache', () => {
  const facts = (version: string, extra: Partial<PageFacts> = {}): PageFacts => ({
    version,
    path: '/image/x.1',
    fileExpires: null,
    openToAll: true,
    changesBefore: localChangeCount(),
    ...extra,
  });
  const token = (t: string) => () => t;

  it('keeps at most maxEntries pages, least recently used out first', () => {
    const cache = new PageCache(3);
    for (const key of ['a', 'b', 'c']) cache.set(key, facts('v1'), `<p>${key}</p>`, 'PH');
    expect(cache.get('a', facts('v1'), token('t'))?.toString()).toBe('<p>a</p>'); // a is now the most recent
    cache.set('d', facts('v1'), '<p>d</p>', 'PH');
    expect(cache.size).toBe(3);
    expect(cache.get('b', facts('v1'), token('t'))).toBeNull();
    expect(cache.get('a', facts('v1'), token('t'))?.toString()).toBe('<p>a</p>');
    for (let i = 0; i < 100; i++) cache.set(`k${i}`, facts('v1'), 'x', 'PH');
    expect(cache.size).toBe(3);
  });

  it('misses on another version, after the TTL, and fills in the token', () => {
    let now = 1000;
    const cache = new PageCache(10, 5000, () => now);
    cache.set('k', facts('v1'), '<input value="PH"><input value="PH">', 'PH');
    expect(cache.get('k', facts('v1'), token('tok'))?.toString()).toBe('<input value="tok"><input value="tok">');
    expect(cache.get('k', facts('v2'), token('tok'))).toBeNull();
    cache.set('k', facts('v2'), 'page', 'PH');
    now += 4999;
    expect(cache.get('k', facts('v2'), token('tok'))?.toString()).toBe('page');
    now += 1;
    expect(cache.get('k', facts('v2'), token('tok'))).toBeNull();
  });

  it('asks for a token only when the page has a place for one', () => {
    const cache = new PageCache(10);
    cache.set('k', facts('v1'), '<p>no forms</p>', 'PH');
    let asked = 0;
    const counting = () => {
      asked++;
      return 'tok';
    };
    expect(cache.get('k', facts('v1'), counting)?.toString()).toBe('<p>no forms</p>');
    expect(cache.fresh('k', '/image/x.1', counting)?.toString()).toBe('<p>no forms</p>');
    expect(asked).toBe(0);
  });

  it('serves without a row check only within the recheck window, for the same path, with nothing changed here since', () => {
    let now = 1000;
    const cache = new PageCache(10, 5000, () => now, 1000);
    cache.set('k', facts('v1'), 'page', 'PH');
    expect(cache.fresh('k', '/image/x.1', token('t'))?.toString()).toBe('page');
    expect(cache.fresh('k', '/image/old-slug.1', token('t'))).toBeNull();
    now += 1000;
    expect(cache.fresh('k', '/image/x.1', token('t'))).toBeNull();
    // A row check that still matches opens a new window.
    expect(cache.get('k', facts('v1'), token('t'))?.toString()).toBe('page');
    expect(cache.fresh('k', '/image/x.1', token('t'))?.toString()).toBe('page');
    noteLocalChange();
    expect(cache.fresh('k', '/image/x.1', token('t'))).toBeNull();
  });

  it('never serves without a row check a page that not everyone may see, or a file that has expired', () => {
    let now = 1000;
    const cache = new PageCache(10, 5000, () => now, 1000);
    cache.set('unlocked', facts('v1', { openToAll: false }), 'password album page', 'PH');
    expect(cache.fresh('unlocked', '/image/x.1', token('t'))).toBeNull();
    cache.set('expiring', facts('v1', { fileExpires: 1500 }), 'page', 'PH');
    expect(cache.fresh('expiring', '/image/x.1', token('t'))?.toString()).toBe('page');
    now = 1500;
    expect(cache.fresh('expiring', '/image/x.1', token('t'))).toBeNull();
  });

  it('is off at size 0', () => {
    const cache = new PageCache(0);
    cache.set('k', facts('v'), 'page', 'PH');
    expect(cache.enabled).toBe(false);
    expect(cache.get('k', facts('v'), token('t'))).toBeNull();
  });

  it('follows a size that changes while the site runs (SHOEBOX_PAGE_CACHE_SIZE from the dashboard)', () => {
    let size = 2;
    const cache = new PageCache(() => size);
    for (const key of ['a', 'b']) cache.set(key, facts('v1'), `<p>${key}</p>`, 'PH');
    expect(cache.size).toBe(2);
    size = 4;
    for (const key of ['c', 'd']) cache.set(key, facts('v1'), `<p>${key}</p>`, 'PH');
    expect(cache.size).toBe(4);
    size = 1;
    expect(cache.enabled).toBe(true);
    expect(cache.size).toBe(1);
    expect(cache.get('d', facts('v1'), token('t'))?.toString()).toBe('<p>d</p>');
    size = 0;
    expect(cache.enabled).toBe(false);
    expect(cache.size).toBe(0);
    cache.set('e', facts('v1'), '<p>e</p>', 'PH');
    expect(cache.size).toBe(0);
  });
});
