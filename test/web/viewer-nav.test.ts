import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPostgres } from '../../src/db/dialect.js';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, decodeEntities, memberWithKey, tileLinks, WebClient } from './web-client.js';

/** The viewer page's previous/next (issue 19) as plain links written by the server, within the album or profile it was opened from: no JavaScript, no sessionStorage. */
describe('viewer previous/next from the server', () => {
  let server: TestServer;
  let owner: WebClient;
  let key: string;
  let albumId: string;
  let hiddenId: string;
  const files: Record<string, any> = {};
  const guest = () => new WebClient(server.url);
  const upload = async (title: string, fields: Record<string, string> = {}) =>
    (files[title] = (await uploadFile(server.url, await makePng(30, 20, '#e76f51'), `${title}.png`, { title, ...fields }, { 'X-API-Key': key })).body.image);
  /** The previous and next links of a viewer page, and the listing it names. */
  const navOf = (html: string) => ({
    prev: /<a class="button viewer-prev" rel="prev" href="([^"]+)"/.exec(html)?.[1] ?? null,
    next: /<a class="button viewer-next" rel="next" href="([^"]+)"/.exec(html)?.[1] ?? null,
    listing: /<span class="viewer-context"><a href="([^"]+)">([^<]+)<\/a>/.exec(decodeEntities(html))?.slice(1) ?? null,
  });

  beforeAll(async () => {
    server = await startTestServer();
    ({ browser: owner, key } = await memberWithKey(server.url, 'walker'));
    albumId = await createAlbum(owner, { name: 'Walk', privacy: 'public' });
    hiddenId = await createAlbum(owner, { name: 'Drawer', privacy: 'private' });
    await upload('A1', { album_id: albumId });
    await upload('Loose 1');
    await upload('A2', { album_id: albumId });
    await upload('Secret', { album_id: hiddenId });
    await upload('A3', { album_id: albumId });
  });
  afterAll(async () => {
    await server.close();
  });

  it('links an album’s tiles with the album as context, and walks the album newest first', async () => {
    const album = await guest().get(`/album/${albumId}`);
    const from = `?from=album%3A${albumId}`;
    expect(tileLinks(album.text, { withContext: true })).toEqual(['A3', 'A2', 'A1'].map((t) => `${files[t].path_viewer}${from}`));

    // The middle one: previous is the newer A3, next the older A2 -> A1, skipping the loose file between them.
    const middle = navOf((await guest().get(`${files.A2.path_viewer}${from}`)).text);
    expect(middle.prev).toBe(`${files.A3.path_viewer}${from}`);
    expect(middle.next).toBe(`${files.A1.path_viewer}${from}`);
    expect(middle.listing).toEqual([`/album/${albumId}`, 'Album: Walk']);
    // The ends have one link each.
    expect(navOf((await guest().get(`${files.A3.path_viewer}${from}`)).text)).toMatchObject({ prev: null, next: `${files.A2.path_viewer}${from}` });
    expect(navOf((await guest().get(`${files.A1.path_viewer}${from}`)).text)).toMatchObject({ prev: `${files.A2.path_viewer}${from}`, next: null });
    // Following the links as a person without JavaScript would: A3 -> A2 -> A1.
    let page = await guest().get(`${files.A3.path_viewer}${from}`);
    const seen = [];
    for (let i = 0; i < 5; i++) {
      seen.push(/<h1 class="viewer-title">([^<]+)<\/h1>/.exec(page.text)![1]);
      const next = navOf(page.text).next;
      if (!next) break;
      page = await guest().get(next);
      expect(page.status).toBe(200);
    }
    expect(seen).toEqual(['A3', 'A2', 'A1']);
  });

  it('walks a profile with the profile’s privacy: the private album’s file only for its owner', async () => {
    const profile = await guest().get('/walker');
    const from = '?from=user%3Awalker';
    expect(tileLinks(profile.text, { withContext: true })).toEqual(['A3', 'A2', 'Loose 1', 'A1'].map((t) => `${files[t].path_viewer}${from}`));
    const visitor = navOf((await guest().get(`${files.A3.path_viewer}${from}`)).text);
    // For a visitor the private file between A3 and A2 is not there.
    expect(visitor.next).toBe(`${files.A2.path_viewer}${from}`);
    expect(visitor.listing).toEqual(['/walker', 'Files of walker']);
    expect(navOf((await guest().get(`${files.A2.path_viewer}${from}`)).text).next).toBe(`${files['Loose 1'].path_viewer}${from}`);
    // The owner sees their profile with it, and so steps through it.
    expect(navOf((await owner.get(`${files.A3.path_viewer}${from}`)).text).next).toBe(`${files.Secret.path_viewer}${from}`);
    expect(navOf((await owner.get(`${files.Secret.path_viewer}${from}`)).text)).toMatchObject({ prev: `${files.A3.path_viewer}${from}`, next: `${files.A2.path_viewer}${from}` });
  });

  it('ignores a context the file is not in, and leaves the plain URL as it was (no server links, the cached page)', async () => {
    const noNav = (html: string) => expect(html).not.toContain('data-server-nav');
    noNav((await guest().get(`${files['Loose 1'].path_viewer}?from=album%3A${albumId}`)).text);
    noNav((await guest().get(`${files.A2.path_viewer}?from=album%3A${hiddenId}`)).text);
    noNav((await guest().get(`${files.A2.path_viewer}?from=user%3Anobody`)).text);
    noNav((await guest().get(`${files.A2.path_viewer}?from=nonsense`)).text);
    // A visitor asking for the private file's neighbours gets no page at all.
    expect((await guest().get(`${files.Secret.path_viewer}?from=user%3Awalker`)).status).toBe(404);
    const plain = await guest().get(files.A2.path_viewer);
    noNav(plain.text);
    expect(plain.text).toContain('data-viewer-nav');
    // Korean labels.
    const ko = await new WebClient(server.url, { 'Accept-Language': 'ko' }).get(`${files.A2.path_viewer}?from=album%3A${albumId}`);
    expect(decodeEntities(ko.text)).toContain('← 이전');
    expect(decodeEntities(ko.text)).toContain('앨범: Walk');
  });

  it('finds the neighbours by walking an index, not by scanning', async () => {
    const id = server.ctx.ids.decode(files.A2.id_encoded)!;
    const album = server.ctx.ids.decode(albumId)!;
    if (isPostgres(server.ctx.db)) {
      // A few rows: tell the planner a scan is dear, as it is at a million (one transaction, one connection).
      const plan = await server.ctx.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        return (await sql<{ 'QUERY PLAN': string }>`explain select * from images where album_id = ${album} and id < ${id} order by id desc limit 1`.execute(trx)).rows.map((r) => r['QUERY PLAN']).join('\n');
      });
      expect(plan).toMatch(/Index Scan Backward using images_album_id/);
      return;
    }
    const planOf = async (query: string) => (await sql.raw<{ detail: string }>(`explain query plan ${query}`).execute(server.ctx.db)).rows.map((r) => r.detail).join('\n');
    expect(await planOf(`select * from images where album_id = ${album} and id < ${id} order by id desc limit 1`)).toMatch(/SEARCH images USING INDEX \S+ \(album_id=\? AND id<\?\)/);
    expect(await planOf(`select * from images where user_id = 1 and listed = 1 and id > ${id} order by id asc limit 1`)).toMatch(/SEARCH images USING INDEX \S+ \(user_id=\? AND listed=\? AND id>\?\)/);
  });
});
