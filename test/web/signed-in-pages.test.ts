import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, memberWithKey, tileLinks, WebClient } from './web-client.js';

/**
 * Signed-in people's pages come from the page cache (page-cache.ts): one copy per account, with
 * each session's CSRF token put in per response, checked against the rows it shows.
 */

async function upload(server: TestServer, key: string, title: string, fields: Record<string, string> = {}) {
  const res = await uploadFile(server.url, await makeJpeg(400, 300, '#468'), `${title}.jpg`, { title, ...fields }, { 'X-API-Key': key });
  expect(res.status, res.text).toBe(200);
  return res.body.image as { id_encoded: string; path_viewer: string };
}

const tokenOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? null;
const withoutTokens = (html: string) => html.replace(/name="_csrf" value="[^"]+"/g, 'name="_csrf" value=""');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('signed-in pages from the page cache', () => {
  let server: TestServer;
  let owner: Awaited<ReturnType<typeof memberWithKey>>;
  let member: WebClient;
  beforeAll(async () => {
    server = await startTestServer();
    owner = await memberWithKey(server.url, 'lighthouse');
    member = new WebClient(server.url);
    await member.signup('deckhand');
  });
  afterAll(async () => {
    await server.close();
  });

  it('gives every session its own CSRF token in the same kept page, and only that session\'s token is taken', async () => {
    const image = await upload(server, owner.key, 'Two sessions');
    const other = new WebClient(server.url);
    expect((await other.login('lighthouse', 'correct horse battery')).status).toBe(303);
    const first = await owner.browser.get(image.path_viewer);
    const again = await owner.browser.get(image.path_viewer);
    const second = await other.get(image.path_viewer);
    for (const page of [first, again, second]) expect(page.status).toBe(200);
    const [a, b] = [tokenOf(again.text), tokenOf(second.text)];
    expect(a).not.toBeNull();
    expect(b).not.toBeNull();
    expect(a).not.toBe(b);
    // The same page otherwise, owner's tools included.
    expect(withoutTokens(second.text)).toBe(withoutTokens(again.text));
    expect(again.text).toContain(`action="${image.path_viewer}/edit"`);
    // One session's token with the other's cookies is refused; its own goes through.
    const crossed = await owner.browser.post(`${image.path_viewer}/edit`, { title: 'Crossed', description: '', tags: '', album: '', _csrf: b! });
    expect(crossed.status).toBe(403);
    const own = await owner.browser.post(`${image.path_viewer}/edit`, { title: 'Own token', description: '', tags: '', album: '', _csrf: a! });
    expect(own.status, own.text).toBe(303);
  });

  it('shows the owner\'s tools only to the owner, and each person their own menu', async () => {
    const image = await upload(server, owner.key, 'Whose tools');
    for (let i = 0; i < 2; i++) {
      const mine = await owner.browser.get(image.path_viewer);
      expect(mine.text).toContain('<span class="nav-username">lighthouse</span>');
      expect(mine.text).toContain(`action="${image.path_viewer}/edit"`);
      const theirs = await member.get(image.path_viewer);
      expect(theirs.text).toContain('<span class="nav-username">deckhand</span>');
      expect(theirs.text).not.toContain('lighthouse</span>');
      expect(theirs.text).not.toContain(`action="${image.path_viewer}/edit"`);
      const anonymous = await new WebClient(server.url).get(image.path_viewer);
      expect(anonymous.text).not.toContain('nav-username');
    }
  });

  it('shows an edit at once on a kept viewer page, to its owner and to a member', async () => {
    const image = await upload(server, owner.key, 'Before');
    for (let i = 0; i < 2; i++) {
      expect((await member.get(image.path_viewer)).text).toContain('<h1 class="viewer-title">Before</h1>');
      expect((await owner.browser.get(image.path_viewer)).text).toContain('<h1 class="viewer-title">Before</h1>');
    }
    const res = await owner.browser.post(`${image.path_viewer}/edit`, { title: 'After', description: '', tags: '', album: '' });
    expect(res.status).toBe(303);
    const renamed = res.location!.split('?')[0];
    expect((await member.get(renamed)).text).toContain('<h1 class="viewer-title">After</h1>');
    expect((await owner.browser.get(renamed)).text).toContain('<h1 class="viewer-title">After</h1>');
  });

  it('shows a new file and a renamed album at once on a member\'s kept home and album pages', async () => {
    const albumId = await createAlbum(owner.browser, { name: 'Jetty', privacy: 'public' });
    const albumPath = `/album/${albumId}`;
    const first = await upload(server, owner.key, 'First in album', { album_id: albumId });
    for (let i = 0; i < 2; i++) {
      const album = await member.get(albumPath);
      expect(album.status).toBe(200);
      expect(album.text).toContain('<h1>Jetty ');
      expect(tileLinks(album.text)).toEqual([first.path_viewer]);
      expect(tileLinks((await member.get('/')).text)[0]).toBe(first.path_viewer);
    }
    // A member sees no owner's tools on someone else's album; the owner does.
    expect((await member.get(albumPath)).text).not.toContain(`action="${albumPath}/move"`);
    expect((await owner.browser.get(albumPath)).text).toContain(`${albumPath}/edit`);

    const second = await upload(server, owner.key, 'Second in album', { album_id: albumId });
    expect(tileLinks((await member.get(albumPath)).text)).toEqual([second.path_viewer, first.path_viewer]);
    expect(tileLinks((await member.get('/')).text)[0]).toBe(second.path_viewer);

    await owner.browser.get(`${albumPath}/edit`);
    const edited = await owner.browser.post(`${albumPath}/edit`, { name: 'Pier', description: '', privacy: 'public', password: '', parent: '' });
    expect(edited.status).toBe(303);
    expect((await member.get(albumPath)).text).toContain('<h1>Pier ');
    // Made private: gone for the member at once, still there for the owner.
    await owner.browser.get(`${albumPath}/edit`);
    await owner.browser.post(`${albumPath}/edit`, { name: 'Pier', description: '', privacy: 'private', password: '', parent: '' });
    expect((await member.get(albumPath)).status).toBe(404);
    expect((await owner.browser.get(albumPath)).status).toBe(200);
  });

  it('serves a kept page without reading its rows for at most a second: another instance\'s change shows after it', async () => {
    const albumId = await createAlbum(owner.browser, { name: 'Quay', privacy: 'public' });
    const albumPath = `/album/${albumId}`;
    expect((await member.get(albumPath)).text).toContain('<h1>Quay ');
    // Another instance renames it: the same database, nothing through this process (no plugin notes the write).
    await server.ctx.db.withoutPlugins().updateTable('albums').set({ name: 'Wharf' }).where('id', '=', server.ctx.ids.decode(albumId)!).execute();
    expect((await member.get(albumPath)).text).toContain('<h1>Quay ');
    await sleep(1100);
    expect((await member.get(albumPath)).text).toContain('<h1>Wharf ');
  });

  it('ends a session at once when signing out here, and within a second when another instance ends it', async () => {
    const leaving = new WebClient(server.url);
    await leaving.signup('passenger');
    expect((await leaving.get('/')).text).toContain('<span class="nav-username">passenger</span>');
    expect((await leaving.get('/')).text).toContain('<span class="nav-username">passenger</span>');
    const cookies = new Map(leaving.cookies);
    expect((await leaving.post('/logout')).status).toBe(303);
    // The old cookie, brought back after signing out, is no session any more.
    const replay = new WebClient(server.url);
    for (const [k, v] of cookies) replay.cookies.set(k, v);
    expect((await replay.get('/')).text).not.toContain('nav-username');

    const revoked = new WebClient(server.url);
    await revoked.signup('stowaway');
    expect((await revoked.get('/')).text).toContain('<span class="nav-username">stowaway</span>');
    const userId = (await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'stowaway').executeTakeFirstOrThrow()).id;
    await server.ctx.db.withoutPlugins().deleteFrom('sessions').where('user_id', '=', userId).execute();
    await sleep(1100);
    expect((await revoked.get('/')).text).not.toContain('nav-username');
  });
});
