import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeVariedImage } from '../support/varied-images.js';
import { memberWithKey, WebClient } from '../web/web-client.js';

let seed = 4700;
const picture = () => makeVariedImage(seed++, { width: 160, height: 120 });

/**
 * Issue 17: stop words hold on every door that changes a text, not only uploads: the
 * management API (V4), the site's bulk selection, album forms, sign-up and the profile's
 * display name. Admins are exempt (as from flood limits); a username is checked whoever creates it.
 */
describe('stop words on edits, through every door', () => {
  let server: TestServer;
  let key: string;
  let adminKey: string;
  let member: WebClient;
  let memberKey: string;

  const v4 = async (method: string, path: string, body: unknown, apiKey = key) => {
    const res = await fetch(`${server.url}/api/4${path}`, {
      method, headers: { 'Content-Type': 'application/json', 'X-API-Key': apiKey }, body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const upload = async (apiKey: string, title: string) => (await uploadFile(server.url, await picture(), 'p.jpg', { title }, { 'X-API-Key': apiKey })).body.image;
  const rowOf = (encoded: string) => server.ctx.db.selectFrom('images').selectAll().where('id', '=', server.ctx.ids.decode(encoded)!).executeTakeFirstOrThrow();
  const tagsOf = async (encoded: string) =>
    (await server.ctx.db.selectFrom('image_tags').innerJoin('tags', 'tags.id', 'image_tags.tag_id').select('tags.name').where('image_tags.image_id', '=', server.ctx.ids.decode(encoded)!).execute()).map((r) => r.name).sort();
  const albumNamed = (name: string) => server.ctx.db.selectFrom('albums').selectAll().where('name', '=', name).executeTakeFirst();

  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_FLOOD_LIMIT: '0' });
    ({ key } = await server.createUserWithKey('alice'));
    ({ key: adminKey } = await server.createUserWithKey('boss', { admin: true }));
    ({ browser: member, key: memberKey } = await memberWithKey(server.url, 'maya'));
    await server.ctx.moderation.stopWords.add('viagra', 'refuse');
    await server.ctx.moderation.stopWords.add('crypto giveaway', 'hold');
  });
  afterAll(async () => {
    await server.close();
  });

  it('V4: a refused word in a title, tags, an album name or description, or a new username is a 400 naming the field; nothing is saved', async () => {
    const file = await upload(key, 'Plain');
    for (const [patch, field] of [[{ title: 'buy viagra' }, 'title'], [{ tags: ['cats', 'VIAGRA'] }, 'tags'], [{ description: 'cheap viagra here' }, 'description']] as const) {
      const out = await v4('PATCH', `/user/images/${file.id_encoded}/`, patch);
      expect(out.status, JSON.stringify(patch)).toBe(400);
      expect(out.body.status_code).toBe(400);
      expect(out.body.error.message).toBe(`Invalid ${field}: this text contains a word that is not allowed on this site`);
    }
    const row = await rowOf(file.id_encoded);
    expect(row.title).toBe('Plain');
    expect(row.description).toBeNull();
    expect(await tagsOf(file.id_encoded)).toEqual([]);
    // The bulk PATCH too, before any file is touched.
    const bulk = await v4('PATCH', '/user/images/bulk/', { ids: [file.id_encoded], changes: { tags: ['viagra'] } });
    expect(bulk.status).toBe(400);
    expect(await tagsOf(file.id_encoded)).toEqual([]);

    const album = await v4('POST', '/user/albums/', { name: 'viagra deals' });
    expect(album.status).toBe(400);
    expect(album.body.error.message).toContain('Invalid name');
    expect(await albumNamed('viagra deals')).toBeUndefined();
    const fine = await v4('POST', '/user/albums/', { name: 'Holidays' });
    expect(fine.status).toBe(200);
    const described = await v4('PATCH', `/user/albums/${fine.body.album.id_encoded}/`, { description: 'all about viagra' });
    expect(described.status).toBe(400);
    expect(described.body.error.message).toContain('Invalid description');
    expect((await albumNamed('Holidays'))!.description).toBeNull();
    // A `hold` word has no queue on albums: refused too.
    expect((await v4('POST', '/user/albums/', { name: 'Crypto Giveaway' })).status).toBe(400);

    // A username is checked whoever creates the account, an admin key included.
    const user = await v4('POST', '/admin/users/', { username: 'viagrakid', password: 'secret123' }, adminKey);
    expect(user.status).toBe(400);
    expect(user.body.error.message).toContain('Invalid username');
    // A username has no spaces: the word counts anywhere in it, on sign-up too.
    const signup = await new WebClient(server.url).signup('viagra_kid');
    expect(signup.status).toBe(400);
    expect(signup.text).toContain('This text contains a word that is not allowed on this site.');
    expect(await server.ctx.db.selectFrom('users').select('id').where('username', '=', 'viagrakid').executeTakeFirst()).toBeUndefined();
    // Clean text still goes through.
    expect((await v4('PATCH', `/user/images/${file.id_encoded}/`, { title: 'Occasional sunsets', tags: ['sea'] })).status).toBe(200);
  });

  it('V4: a hold word in an edit sends the file back to the approval queue; an old word never blocks an unrelated edit', async () => {
    const file = await upload(key, 'Nice');
    expect((await rowOf(file.id_encoded)).is_approved).toBe(1);
    const out = await v4('PATCH', `/user/images/${file.id_encoded}/`, { description: 'huge crypto giveaway' });
    expect(out.status).toBe(200);
    expect(out.body.image.is_approved ?? (await rowOf(file.id_encoded)).is_approved).toBe(0);
    const row = await rowOf(file.id_encoded);
    expect(row.is_approved).toBe(0);
    expect(row.listed).toBe(0);
  });

  it('admins are exempt on their own edits (as from flood limits)', async () => {
    const file = await upload(adminKey, 'Admin file');
    const out = await v4('PATCH', `/user/images/${file.id_encoded}/`, { title: 'viagra warning', tags: ['viagra'] }, adminKey);
    expect(out.status).toBe(200);
    expect((await rowOf(file.id_encoded)).title).toBe('viagra warning');
    expect((await v4('POST', '/user/albums/', { name: 'viagra spam examples' }, adminKey)).status).toBe(200);
  });

  it('web bulk selection: add-tags and new-album refuse with the translated page; nothing is made', async () => {
    const a = await upload(memberKey, 'Bulk A');
    const b = await upload(memberKey, 'Bulk B');
    await member.get('/maya');
    const both = [a.id_encoded, b.id_encoded];
    const tagged = await member.post('/files/bulk', { action: 'add-tags', tags: 'sea, viagra', image: both, return: '/maya' });
    expect(tagged.status).toBe(400);
    expect(tagged.text).toContain('This text contains a word that is not allowed on this site.');
    expect(await tagsOf(a.id_encoded)).toEqual([]);
    expect(await tagsOf(b.id_encoded)).toEqual([]);

    await member.get('/maya');
    const made = await member.post('/files/bulk', { action: 'new-album', album_name: 'viagra stash', image: both, return: '/maya' });
    expect(made.status).toBe(400);
    expect(made.text).toContain('This text contains a word that is not allowed on this site.');
    expect(await albumNamed('viagra stash')).toBeUndefined();
    expect((await rowOf(a.id_encoded)).album_id).toBeNull();

    // The page is in the visitor's language.
    member.headers['Accept-Language'] = 'ko';
    await member.get('/maya');
    const korean = await member.post('/files/bulk', { action: 'add-tags', tags: 'viagra', image: both, return: '/maya' });
    member.headers['Accept-Language'] = 'en';
    expect(korean.status).toBe(400);
    expect(korean.text).toContain('이 사이트에서 허용되지 않는 단어가 포함되어 있습니다.');

    // A hold word in bulk tags sends the files to the approval queue.
    await member.get('/maya');
    const held = await member.post('/files/bulk', { action: 'add-tags', tags: 'crypto giveaway', image: both, return: '/maya' });
    expect(held.status).toBe(303);
    expect((await rowOf(a.id_encoded)).is_approved).toBe(0);
    expect((await rowOf(b.id_encoded)).is_approved).toBe(0);
  });

  it('web: the album edit form and the profile display name refuse a listed word', async () => {
    await member.get('/albums/new');
    const created = await member.post('/albums', { name: 'Summer', description: '', privacy: 'public', password: '', parent: '' });
    expect(created.status).toBe(303);
    const id = /\/album\/([A-Za-z0-9]+)/.exec(created.location!)![1];
    await member.get(`/album/${id}/edit`);
    const edited = await member.post(`/album/${id}/edit`, { name: 'Summer viagra', description: '', privacy: 'public', password: '', parent: '' });
    expect(edited.status).toBe(400);
    expect(edited.text).toContain('This text contains a word that is not allowed on this site.');
    expect((await albumNamed('Summer'))).toBeDefined();

    await member.get('/settings/profile');
    const profile = await member.post('/settings/profile', { display_name: 'Viagra King', bio: '', website: '' });
    expect(profile.status).toBe(400);
    expect(profile.text).toContain('This text contains a word that is not allowed on this site.');
    const user = await server.ctx.db.selectFrom('users').select('display_name').where('username', '=', 'maya').executeTakeFirstOrThrow();
    expect(user.display_name).toBeNull();
  });
});
