import sharp from 'sharp';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPostgres } from '../../src/db/dialect.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg, makePng } from '../support/media.js';

import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, makeMp4, memberWithKey, tileLinks, WebClient } from './web-client.js';

/** Browsing (issue 19): explore tabs, /tags, search filters and counts, two-character CJK titles, totals, the viewer's srcset and EXIF. */
describe('browse', () => {
  let server: TestServer;
  let owner: WebClient;
  let key: string;
  const files: Record<string, any> = {};
  const guest = () => new WebClient(server.url);
  const upload = async (name: string, buffer: Buffer, fields: Record<string, string> = {}) =>
    (files[name] = (await uploadFile(server.url, buffer, `${name}.${fields.ext ?? 'png'}`, { title: name, ...fields }, { 'X-API-Key': key })).body.image);

  beforeAll(async () => {
    server = await startTestServer();
    ({ browser: owner, key } = await memberWithKey(server.url, 'browser'));
    await upload('서울 야경', await makePng(), { tags: 'night' });
    await upload('東京タワー', await makePng(), { tags: 'night,tower' });
    await upload('Quiet clip', await makeMp4(), { ext: 'mp4', tags: 'night' });
    await upload('Popular one', await makeJpeg(1200, 800), { ext: 'jpg' });
    const hidden = await createAlbum(owner, { name: 'Hidden', privacy: 'private' });
    await upload('秘密東京', await makePng(), { album_id: hidden, tags: 'secret-tag' });
    await server.ctx.db.updateTable('images').set({ views: 500 }).where('id', '=', server.ctx.ids.decode(files['Popular one'].id_encoded)!).execute();
    await createAlbum(owner, { name: 'Public album', privacy: 'public' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('finds titles from two Chinese, Japanese or Korean characters, and follows title edits and deletes', async () => {
    const search = async (q: string) => tileLinks((await guest().get(`/search?q=${encodeURIComponent(q)}`)).text);
    expect(await search('서울')).toEqual([files['서울 야경'].path_viewer]);
    expect(await search('야경')).toEqual([files['서울 야경'].path_viewer]);
    expect(await search('東京')).toEqual([files['東京タワー'].path_viewer]);
    expect(await search('タワ')).toEqual([files['東京タワー'].path_viewer]);
    // Privacy as everywhere: the private album's "秘密東京" is not found.
    expect(await search('秘密')).toEqual([]);
    // An edit of the title moves its pairs.
    await owner.get(files['東京タワー'].path_viewer);
    await owner.post(`${files['東京タワー'].path_viewer}/edit`, { title: '大阪城', description: '', tags: '', album: '' });
    expect(await search('東京')).toEqual([]);
    expect(await search('大阪')).toHaveLength(1);
    const id = server.ctx.ids.decode(files['東京タワー'].id_encoded)!;
    expect((await server.ctx.db.selectFrom('cjk_title_grams').select('gram').where('image_id', '=', id).orderBy('gram').execute()).map((r) => r.gram)).toEqual(['大阪', '阪城']);
    await owner.post(`${files['東京タワー'].path_viewer}/delete`);
    expect(await server.ctx.db.selectFrom('cjk_title_grams').select('gram').where('image_id', '=', id).execute()).toEqual([]);
    await upload('東京タワー', await makePng(), { tags: 'night,tower' });
  });

  it('walks an index for two-character search and for explore by type', async () => {
    if (isPostgres(server.ctx.db)) {
      const plan = (await sql<{ 'QUERY PLAN': string }>`explain select image_id from cjk_title_grams where gram = '東京' order by image_id desc limit 25`.execute(server.ctx.db)).rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index/);
      return;
    }
    const planOf = async (query: string) => (await sql.raw<{ detail: string }>(`explain query plan ${query}`).execute(server.ctx.db)).rows.map((r) => r.detail).join('\n');
    expect(await planOf(`select images.* from cjk_title_grams join images on images.id = cjk_title_grams.image_id where gram = '東京' and images.listed = 1 order by cjk_title_grams.image_id desc limit 25`))
      .toMatch(/SEARCH cjk_title_grams USING (PRIMARY KEY|COVERING INDEX sqlite_autoindex_cjk_title_grams_1) \(gram=\?\)/);
    expect(await planOf(`select * from images where type = 'video' and listed = 1 order by id desc limit 25`)).toMatch(/USING (COVERING )?INDEX images_type_listed_id/);
    expect(await planOf(`select * from images where listed = 1 order by listed desc, views desc, id desc limit 25`)).toMatch(/images_listed_views_id/);
  });

  it('filters search by type and says how many it found', async () => {
    const all = await guest().get('/search?q=night');
    expect(all.text).toContain('3 files found');
    const videos = await guest().get('/search?q=night&type=video');
    expect(tileLinks(videos.text)).toEqual([files['Quiet clip'].path_viewer]);
    expect(videos.text).toContain('1 file found');
    expect(videos.text).toContain('<option value="video" selected>');
    const korean = await new WebClient(server.url, { 'Accept-Language': 'ko' }).get('/search?q=night&type=image');
    expect(korean.text).toContain('2개 찾음');
  });

  it('has explore tabs: recent, popular by views, random; images, videos, albums', async () => {
    const recent = await guest().get('/explore');
    expect(recent.text).toContain('aria-current="page">Recent</a>');
    expect(recent.text).toMatch(/<p class="listing-total" data-total="4">4 files<\/p>/);
    const popular = tileLinks((await guest().get('/explore?sort=popular')).text);
    expect(popular[0]).toBe(files['Popular one'].path_viewer);
    expect(tileLinks((await guest().get('/explore?type=video')).text)).toEqual([files['Quiet clip'].path_viewer]);
    const images = tileLinks((await guest().get('/explore?type=image')).text);
    expect(images).not.toContain(files['Quiet clip'].path_viewer);
    expect(images).toHaveLength(3);
    const random = await guest().get('/explore?sort=random');
    expect(tileLinks(random.text).sort()).toEqual(tileLinks(recent.text).sort());
    const albums = await guest().get('/explore?type=albums');
    expect(albums.text).toContain('Public album');
    expect(albums.text).not.toContain('Hidden');
  });

  it('shows the total on every explore tab, popular, random and albums too', async () => {
    const totalOf = async (path: string, lang = 'en') =>
      /<p class="listing-total" data-total="(\d+)">([^<]+)<\/p>/.exec((await new WebClient(server.url, { 'Accept-Language': lang }).get(path)).text)?.slice(1);
    expect(await totalOf('/explore?sort=popular')).toEqual(['4', '4 files']);
    expect(await totalOf('/explore?sort=random')).toEqual(['4', '4 files']);
    expect(await totalOf('/explore?sort=popular&type=video')).toEqual(['1', '1 file']);
    // The albums tab counts public albums (not the private "Hidden").
    expect(await totalOf('/explore?type=albums')).toEqual(['1', '1 album']);
    expect(await totalOf('/explore?type=albums', 'ko')).toEqual(['1', '앨범 1개']);
  });

  it('walks an index for popular (all types and one type, from a cursor), public albums and their count', async () => {
    const explain = async (query: string) => {
      if (!isPostgres(server.ctx.db)) return (await sql.raw<{ detail: string }>(`explain query plan ${query}`).execute(server.ctx.db)).rows.map((r) => r.detail).join('\n');
      // A handful of rows: tell the planner a scan is dear, as it is at a million (one transaction, one connection).
      return server.ctx.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        return (await sql.raw<{ 'QUERY PLAN': string }>(`explain ${query}`).execute(trx)).rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    };
    const pg = isPostgres(server.ctx.db);
    const popular = await explain(`select * from images where listed = 1 and (views, id) < (500, 99) order by listed desc, views desc, id desc limit 25`);
    expect(popular).toMatch(pg ? /Index Scan Backward using images_listed_views_id/ : /SEARCH images USING INDEX images_listed_views_id \(listed=\? AND views<\?\)/);
    expect(popular).not.toMatch(/Sort|TEMP B-TREE/);
    const byType = await explain(`select * from images where listed = 1 and type = 'video' and (views, id) < (500, 99) order by type desc, listed desc, views desc, id desc limit 25`);
    expect(byType).toMatch(pg ? /Index Scan Backward using images_type_listed_views_id/ : /SEARCH images USING INDEX images_type_listed_views_id \(type=\? AND listed=\? AND views<\?\)/);
    expect(byType).not.toMatch(/Sort|TEMP B-TREE/);
    const albums = await explain(`select * from albums where listed = 1 and id < 99 order by id desc limit 25`);
    expect(albums).toMatch(pg ? /Index Scan Backward using albums_listed_id/ : /SEARCH albums USING (COVERING )?INDEX albums_listed_id/);
  });

  it('lists the most used public tags on /tags, linking to each', async () => {
    const page = await guest().get('/tags');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/<a href="\/tag\/night">#night<\/a> <span class="muted small">3 files<\/span>/);
    expect(page.text).toContain('href="/tag/tower"');
    // A tag only a private file carries stays private.
    expect(page.text).not.toContain('secret-tag');
  });

  it('gives the viewer a srcset of medium and original, and the camera’s EXIF summary', async () => {
    const wide = await guest().get(files['Popular one'].path_viewer);
    expect(wide.text).toContain(`srcset="${files['Popular one'].medium.url} 500w, ${files['Popular one'].url} 1200w"`);
    const camera = await sharp({ create: { width: 900, height: 600, channels: 3, background: '#456' } })
      .jpeg()
      .withExif({ IFD0: { Make: 'Canon', Model: 'Canon EOS R5' }, IFD2: { DateTimeOriginal: '2021:07:14 18:30:05', ExposureTime: '1/250', FNumber: '28/10', ISOSpeedRatings: '200', FocalLength: '35/1', LensModel: 'RF 35mm F1.8' } })
      .toBuffer();
    const shot = await upload('Camera shot', camera, { ext: 'jpg' });
    const page = await guest().get(shot.path_viewer);
    expect(page.text).toContain('<dt>Camera</dt><dd>Canon EOS R5</dd>');
    expect(page.text).toContain('<dt>Lens</dt><dd>RF 35mm F1.8</dd>');
    expect(page.text).toContain('<dt>Exposure</dt><dd>1/250 s · f/2.8 · ISO 200 · 35 mm</dd>');
    expect(page.text).toContain('<time datetime="2021-07-14T18:30:05">July 14, 2021 at 6:30 PM</time>');
    // A file without EXIF shows none of it.
    expect((await guest().get(files['Popular one'].path_viewer)).text).not.toContain('<dt>Camera</dt>');
  });

  it('strips nothing it should not show: with SHOEBOX_STRIP_METADATA=all no EXIF summary', async () => {
    const stripped = await startTestServer({ SHOEBOX_STRIP_METADATA: 'all' });
    try {
      const { key: k } = await stripped.createUserWithKey('stripper');
      const camera = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#456' } }).jpeg().withExif({ IFD0: { Make: 'Canon', Model: 'Canon EOS R5' } }).toBuffer();
      const image = (await uploadFile(stripped.url, camera, 'c.jpg', {}, { 'X-API-Key': k })).body.image;
      expect((await new WebClient(stripped.url).get(image.path_viewer)).text).not.toContain('Canon EOS R5');
    } finally {
      await stripped.close();
    }
  });
});
