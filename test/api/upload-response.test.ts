import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeJpeg, makePng } from '../support/media.js';
import { uploadFile } from '../support/api.js';

const reference = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/reference/${name}`, import.meta.url), 'utf8'));
const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

describe('upload response: field for field as Chevereto', () => {
  let server: TestServer;
  let key: string;
  beforeAll(async () => {
    server = await startTestServer({ SHOEBOX_TIMEZONE: 'America/Sao_Paulo' });
    ({ key } = await server.createUserWithKey('alice'));
  });
  afterAll(() => server.close());

  it('has every key of both reference responses, with the same types, in the same order', async () => {
    const jpeg = await makeJpeg(1200, 800);
    const res = await uploadFile(server.url, jpeg, 'Badgers _ animated music video _ MrWeebl.jpg', {}, { 'X-API-Key': key });
    expect(res.status).toBe(200);
    const { image } = res.body;
    for (const name of ['upload-response.v4.0.example.json', 'upload-response.v4.x-checksum.example.json']) {
      const ref = reference(name);
      expect(Object.keys(res.body)).toEqual(Object.keys(ref));
      expect(res.body.success).toEqual(ref.success);
      expect(res.body.status_txt).toBe('OK');
      for (const [k, v] of Object.entries(ref.image)) {
        expect(image, `missing ${k}`).toHaveProperty(k);
        if (v !== null && image[k] !== null && !['frame', 'url_frame', 'medium', 'source_md5', 'source_checksum', 'expiration_date_gmt', 'duration_time'].includes(k)) {
          expect(typeOf(image[k]), k).toBe(typeOf(v));
        }
      }
      const refOrder = Object.keys(ref.image);
      const ours = Object.keys(image).filter((k) => refOrder.includes(k));
      expect(ours).toEqual(refOrder);
    }
  });

  it('fills the fields with real values', async () => {
    const jpeg = await makeJpeg(1200, 800);
    const md5 = createHash('md5').update(jpeg).digest('hex');
    const res = await uploadFile(server.url, jpeg, 'Badgers _ animated music video _ MrWeebl.jpg', {}, { 'X-API-Key': key });
    const image = res.body.image;
    expect(image.name).toMatch(/^Badgers-animated-music-video(-[A-Za-z0-9]{5})?$/);
    expect(image.title).toBe('Badgers animated music video MrWeebl');
    expect(image.extension).toBe('jpg');
    expect(image.original_filename).toBe('Badgers _ animated music video _ MrWeebl.jpg');
    expect(image.size).toBe(jpeg.length);
    expect(image.size_formatted).toMatch(/^\d+(\.\d)? KB$/);
    expect([image.width, image.height, image.ratio]).toEqual([1200, 800, 1.5]);
    expect(image.md5).toBe(md5);
    expect(image.checksum).toBe(md5);
    expect(image.source_md5).toBeNull();
    expect(image.mime).toBe('image/jpeg');
    expect(image.type).toBe('image');
    expect(image.chain).toBe(7);
    expect(image.duration).toBe(0);
    expect(image.duration_time).toBe('');
    expect(image.url_frame).toBe('');
    expect(image.frame).toEqual({ filename: null, name: null, mime: null, extension: null, url: null });
    expect(image.date_gmt).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // São Paulo is UTC-3 all year (no DST since 2019).
    const gmt = new Date(image.date_gmt.replace(' ', 'T') + 'Z');
    expect(image.date).toBe(new Date(gmt.getTime() - 3 * 3600_000).toISOString().slice(0, 19).replace('T', ' '));
    expect(image.date_fixed_peer).toBe(image.date_gmt);
    const folder = image.date_gmt.slice(0, 10).replace(/-/g, '/');
    expect(image.url).toBe(`${server.url}/images/${folder}/${image.name}.jpg`);
    expect(image.thumb.url).toBe(`${server.url}/images/${folder}/${image.name}.th.jpg`);
    expect(image.medium.url).toBe(`${server.url}/images/${folder}/${image.name}.md.jpg`);
    expect(image.display_url).toBe(image.medium.url);
    expect([image.display_width, image.display_height]).toEqual([500, 333]);
    expect(image.url_viewer).toBe(`${server.url}/image/Badgers-animated-music-video-MrWeebl.${image.id_encoded}`);
    expect(image.path_viewer).toBe(`/image/Badgers-animated-music-video-MrWeebl.${image.id_encoded}`);
    expect(image.url_short).toBe(`${server.url}/image/${image.id_encoded}`);
    expect(image.delete_url).toMatch(new RegExp(`^${server.url}/image/${image.id_encoded}/delete/[0-9a-f]{48}$`));
    expect(image.title_truncated).toBe('Badgers animated music vi...');
    expect(image.display_title).toBe(image.title);
    // A busy machine can take a second or two between storing and answering.
    expect(image.how_long_ago).toMatch(/^(moments ago|\d+ seconds? ago)$/);
    expect(image.is_use_loader).toBe(false);
    expect(image.file).toEqual({ resource: { type: 'url' } });

    // Every URL in the response serves the real file.
    for (const url of [image.url, image.thumb.url, image.medium.url]) {
      const file = await fetch(url);
      expect(file.status, url).toBe(200);
      expect(file.headers.get('content-type')).toBe('image/jpeg');
    }
    const thumb = Buffer.from(await (await fetch(image.thumb.url)).arrayBuffer());
    expect(thumb.length).toBe(image.thumb_size);
  });

  it('makes no medium for an image narrower than the medium width, and a centre-cropped thumb of at most 320x320', async () => {
    const png = await makePng(300, 900);
    const res = await uploadFile(server.url, png, 'tall.png', {}, { 'X-API-Key': key });
    const image = res.body.image;
    expect(image.chain).toBe(5);
    expect(image.medium).toEqual({ filename: null, name: null, mime: null, extension: null, url: null });
    expect(image.medium_size).toBe(0);
    const sharp = (await import('sharp')).default;
    const meta = await sharp(Buffer.from(await (await fetch(image.thumb.url)).arrayBuffer())).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([300, 320, 'png']);
  });

  it('can send only md5 (v4.0) or only checksum (v4.x) when the site says so', async () => {
    const md5Only = await startTestServer({ SHOEBOX_CHECKSUM_FIELDS: 'md5' });
    try {
      const { key: k } = await md5Only.createUserWithKey('bob');
      const res = await uploadFile(md5Only.url, await makePng(), 'a.png', {}, { 'X-API-Key': k });
      expect(res.body.image).toHaveProperty('md5');
      expect(res.body.image).not.toHaveProperty('checksum');
    } finally {
      await md5Only.close();
    }
  });
});
