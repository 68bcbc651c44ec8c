import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepExpiredImages } from '../../src/jobs/expiry-sweep.js';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, memberWithKey, WebClient } from './web-client.js';

/**
 * /tags reads running counts (tags.uses, 0019_tag_use_counts) that the database keeps on every
 * write: each step below goes through the site's own doors and the page must say what a count of
 * the public files' tags says, at once (the page no longer keeps its answer).
 */
describe('/tags follows every change to public files', () => {
  let server: TestServer;
  let keeper: { browser: WebClient; key: string };
  let n = 0;

  const upload = async (key: string, tags: string, fields: Record<string, string> = {}) => {
    const res = await uploadFile(server.url, await makePng(20 + n++, 20), 'f.png', { tags, ...fields }, { 'X-API-Key': key });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.image as { path_viewer: string; id_encoded: string };
  };
  /** The tags the page shows, in its order, each with the number of files it says. */
  const tagsPage = async (): Promise<[string, number][]> => {
    const page = await new WebClient(server.url).get('/tags');
    expect(page.status).toBe(200);
    return [...page.text.matchAll(/<a href="\/tag\/([^"]+)">#[^<]*<\/a> <span class="muted small">(\d+) files?<\/span>/g)].map((m) => [decodeURIComponent(m[1]), Number(m[2])]);
  };
  /** The page shows exactly these (in its alphabetical order), and they are what a recount of the rows finds. */
  const expectTags = async (expected: Record<string, number>) => {
    const shown = await tagsPage();
    expect(shown).toEqual(Object.entries(expected).sort(([a], [b]) => a.localeCompare(b)));
    const recounted = await server.ctx.db
      .selectFrom('image_tags')
      .innerJoin('images', 'images.id', 'image_tags.image_id')
      .innerJoin('tags', 'tags.id', 'image_tags.tag_id')
      .where('images.listed', '=', 1)
      .select((eb) => ['tags.name', eb.fn.countAll<number>().as('n')])
      .groupBy('tags.name')
      .execute();
    expect(Object.fromEntries(recounted.map((r) => [r.name, Number(r.n)]))).toEqual(expected);
  };
  const editAlbum = async (id: string, fields: Record<string, string>) => {
    await keeper.browser.get(`/album/${id}/edit`);
    const res = await keeper.browser.post(`/album/${id}/edit`, { description: '', password: '', parent: '', ...fields });
    expect(res.status, res.text).toBe(303);
  };

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0' });
    keeper = await memberWithKey(server.url, 'keeper');
  });
  afterAll(async () => {
    await server.close();
  });

  it('counts uploads, tag edits, album privacy down the tree and back, deletions of files, albums and accounts, and the expiry sweep', async () => {
    const a = await upload(keeper.key, 'sky,sea');
    const b = await upload(keeper.key, 'sky');
    const parent = await createAlbum(keeper.browser, { name: 'Parent', privacy: 'public' });
    const child = await createAlbum(keeper.browser, { name: 'Child', privacy: 'public', parent });
    await upload(keeper.key, 'sky,tree', { album_id: child });
    await upload(keeper.key, 'tree', { album_id: parent });
    await expectTags({ sea: 1, sky: 3, tree: 2 });

    // The owner edits a file's tags on its viewer page.
    await keeper.browser.get(a.path_viewer);
    const edited = await keeper.browser.post(`${a.path_viewer}/edit`, { title: 'a', description: '', tags: 'sea,sun', album: '' });
    expect(edited.status, edited.text).toBe(303);
    await expectTags({ sea: 1, sky: 2, sun: 1, tree: 2 });

    // A private parent hides its files and its public sub-album's; public again, they count again.
    await editAlbum(parent, { name: 'Parent', privacy: 'private' });
    await expectTags({ sea: 1, sky: 1, sun: 1 });
    await editAlbum(parent, { name: 'Parent', privacy: 'public' });
    await expectTags({ sea: 1, sky: 2, sun: 1, tree: 2 });

    // The owner deletes a file, then the parent album with its files (the sub-album moves up with its file).
    await keeper.browser.get(b.path_viewer);
    expect((await keeper.browser.post(`${b.path_viewer}/delete`)).status).toBe(303);
    await expectTags({ sea: 1, sky: 1, sun: 1, tree: 2 });
    await keeper.browser.get(`/album/${parent}`);
    expect((await keeper.browser.post(`/album/${parent}/delete`, { files: 'delete' })).status).toBe(303);
    await expectTags({ sea: 1, sky: 1, sun: 1, tree: 1 });

    // Another member's files count while the account lasts; a private album's do not.
    const leaver = await memberWithKey(server.url, 'leaver');
    const hidden = await createAlbum(leaver.browser, { name: 'Mine', privacy: 'private' });
    await upload(leaver.key, 'sky,leaving');
    await upload(leaver.key, 'sky,leaving', { album_id: hidden });
    await expectTags({ leaving: 1, sea: 1, sky: 2, sun: 1, tree: 1 });
    await leaver.browser.get('/settings/security');
    const gone = await leaver.browser.post('/settings/delete', { confirm: 'leaver', password: 'correct horse battery' });
    expect(gone.status, gone.text).toBe(303);
    await expectTags({ sea: 1, sky: 1, sun: 1, tree: 1 });

    // An expiring file counts until the sweep deletes it.
    await upload(keeper.key, 'fleeting,sky', { expiration: 'P3D' });
    await expectTags({ fleeting: 1, sea: 1, sky: 2, sun: 1, tree: 1 });
    expect(await sweepExpiredImages(server.ctx.db, server.ctx.storage, new Date(Date.now() + 4 * 24 * 3600_000))).toBe(1);
    await expectTags({ sea: 1, sky: 1, sun: 1, tree: 1 });
  });
});
