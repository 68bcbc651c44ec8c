import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { decodeEntities, inputValue, makeMp4, metaContent, tileLinks, WebClient } from './web-client.js';

const XSS = '<script>alert(1)</script>';

describe('viewer pages: embed codes, OpenGraph, oEmbed, escaping, owner tools', () => {
  let server: TestServer;
  let key: string;
  let image: any;
  let viewerHtml: string;
  beforeAll(async () => {
    server = await startTestServer();
    ({ key } = await server.createUserWithKey('photographer'));
    const res = await uploadFile(server.url, await makeJpeg(1000, 500, '#a53'), 'harbour.jpg', {
      title: 'Harbour at dusk', description: 'Boats "and" <b>lights</b>', tags: 'sea,boats',
    }, { 'X-API-Key': key });
    image = res.body.image;
    viewerHtml = (await new WebClient(server.url).get(image.path_viewer)).text;
  });
  afterAll(async () => {
    await server.close();
  });

  it('shows the file, its title, description, tags, owner, views, date and size', () => {
    // The browser picks the medium or the original (srcset, issue 19).
    expect(viewerHtml).toContain(`<img src="${image.url}" srcset="${image.medium.url} 500w, ${image.url} 1000w" sizes="(max-width: 640px) 100vw, min(100vw, 1168px)" alt="Harbour at dusk" width="1000" height="500">`);
    expect(viewerHtml).toContain('<h1 class="viewer-title">Harbour at dusk</h1>');
    expect(viewerHtml).toContain('Boats &quot;and&quot; &lt;b&gt;lights&lt;/b&gt;');
    expect(viewerHtml).toContain('href="/tag/sea">#sea</a>');
    expect(viewerHtml).toContain('href="/photographer"');
    expect(viewerHtml).toContain('1 view<');
    expect(viewerHtml).toMatch(/<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">/);
    expect(viewerHtml).toContain(`>${(image.size / 1000).toFixed(1).replace(/\.0$/, '')} kB<`);
    expect(viewerHtml).toContain('1000 × 500');
  });

  it('gives the embed codes Chevereto users know, with the right URLs', () => {
    const viewer = image.url_viewer;
    const medium = image.medium.url;
    const thumb = image.thumb.url;
    const expected: Record<string, string> = {
      'viewer-links': viewer,
      'direct-links': image.url,
      'thumbnail-links': thumb,
      'medium-links': medium,
      'html-full': `<img src="${image.url}" alt="harbour.jpg" border="0">`,
      'html-full-linked': `<a href="${viewer}"><img src="${image.url}" alt="harbour.jpg" border="0"></a>`,
      'html-medium-linked': `<a href="${viewer}"><img src="${medium}" alt="harbour.jpg" border="0"></a>`,
      'html-thumbnail-linked': `<a href="${viewer}"><img src="${thumb}" alt="harbour.jpg" border="0"></a>`,
      'bbcode-full': `[img]${image.url}[/img]`,
      'bbcode-full-linked': `[url=${viewer}][img]${image.url}[/img][/url]`,
      'bbcode-medium-linked': `[url=${viewer}][img]${medium}[/img][/url]`,
      'bbcode-thumbnail-linked': `[url=${viewer}][img]${thumb}[/img][/url]`,
      'markdown-full': `![harbour.jpg](${image.url})`,
      'markdown-full-linked': `[![harbour.jpg](${image.url})](${viewer})`,
      'markdown-medium-linked': `[![harbour.jpg](${medium})](${viewer})`,
      'markdown-thumbnail-linked': `[![harbour.jpg](${thumb})](${viewer})`,
    };
    for (const [id, value] of Object.entries(expected)) expect(inputValue(viewerHtml, `embed-${id}`), id).toBe(value);
    for (const group of ['links', 'html', 'bbcode', 'markdown']) expect(viewerHtml).toContain(`data-group="${group}"`);
    expect(viewerHtml).toContain('data-copy="embed-markdown-full-linked"');
  });

  it('has OpenGraph and Twitter card tags with the image, its size, title and description', () => {
    expect(metaContent(viewerHtml, 'og:image')).toBe(image.url);
    expect(metaContent(viewerHtml, 'og:image:width')).toBe('1000');
    expect(metaContent(viewerHtml, 'og:image:height')).toBe('500');
    expect(metaContent(viewerHtml, 'og:title')).toBe('Harbour at dusk');
    expect(decodeEntities(metaContent(viewerHtml, 'og:description')!)).toBe('Boats "and" <b>lights</b>');
    expect(metaContent(viewerHtml, 'og:url')).toBe(image.url_viewer);
    expect(metaContent(viewerHtml, 'og:type')).toBe('article');
    expect(metaContent(viewerHtml, 'twitter:card')).toBe('summary_large_image');
    expect(metaContent(viewerHtml, 'twitter:image')).toBe(image.url);
    expect(metaContent(viewerHtml, 'twitter:title')).toBe('Harbour at dusk');
  });

  it('answers oEmbed in JSON and XML, and viewer pages link to it', async () => {
    const discovery = /<link rel="alternate" type="application\/json\+oembed" href="([^"]+)"/.exec(viewerHtml)![1];
    const jsonUrl = decodeEntities(discovery);
    expect(jsonUrl).toBe(`${server.url}/oembed?url=${encodeURIComponent(image.url_viewer)}&format=json`);
    expect(viewerHtml).toContain('type="text/xml+oembed"');
    const json = await (await fetch(jsonUrl)).json();
    expect(json).toEqual({
      version: '1.0', type: 'photo', title: 'Harbour at dusk', provider_name: 'Shoebox', provider_url: `${server.url}/`,
      author_name: 'photographer', author_url: `${server.url}/photographer`,
      url: image.url, width: 1000, height: 500,
      thumbnail_url: image.thumb.url, thumbnail_width: 320, thumbnail_height: 320,
    });
    const small = await (await fetch(`${server.url}/oembed?url=${encodeURIComponent(image.url_viewer)}&maxwidth=400`)).json();
    expect(small).toMatchObject({ url: image.medium.url, width: 400, height: 200 });

    const xml = await fetch(`${server.url}/oembed?url=${encodeURIComponent(image.url_short)}&format=xml`);
    expect(xml.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const text = await xml.text();
    expect(text).toContain('<type>photo</type>');
    expect(text).toContain(`<url>${image.url}</url>`);
    expect(text).toContain('<width>1000</width>');

    expect((await fetch(`${server.url}/oembed?url=${encodeURIComponent(image.url_viewer)}&format=yaml`)).status).toBe(501);
    expect((await fetch(`${server.url}/oembed?url=${encodeURIComponent('https://elsewhere.example/image/x.AB')}`)).status).toBe(404);
    expect((await fetch(`${server.url}/oembed?url=nonsense`)).status).toBe(404);
    expect((await fetch(`${server.url}/oembed?url=${encodeURIComponent(`${server.url}/image/nope.zzzzzz`)}`)).status).toBe(404);
  });

  it('escapes a title like <script>alert(1)</script> on every page and in oEmbed XML', async () => {
    const res = await uploadFile(server.url, await makeJpeg(300, 200), 'x.jpg', { title: XSS, description: XSS, tags: `${XSS},ok` }, { 'X-API-Key': key });
    const evil = res.body.image;
    const browser = new WebClient(server.url);
    const pages = [evil.path_viewer, '/', '/explore', '/photographer', `/search?q=${encodeURIComponent(XSS)}`, '/tag/ok', `/tag/${encodeURIComponent(XSS)}`];
    for (const path of pages) {
      const page = await browser.get(path);
      expect(page.status, path).toBe(200);
      expect(page.text, path).not.toContain(XSS);
      expect(page.text, path).not.toMatch(/<script>alert/);
    }
    const viewer = (await browser.get(evil.path_viewer)).text;
    expect(viewer).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(metaContent(viewer, 'og:title')).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(tileLinks((await browser.get(`/search?q=${encodeURIComponent('alert(1)')}`)).text)).toEqual([evil.path_viewer]);
    const xml = await (await fetch(`${server.url}/oembed?url=${encodeURIComponent(evil.url_viewer)}&format=xml`)).text();
    expect(xml).not.toContain(XSS);
    expect(xml).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>');
    // Scripts could not run anyway: the pages forbid inline script.
    expect((await fetch(`${server.url}${evil.path_viewer}`)).headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('gives videos video embed codes and OpenGraph video tags', async () => {
    const res = await uploadFile(server.url, await makeMp4(320, 240), 'clip.mp4', { title: 'A clip' }, { 'X-API-Key': key });
    expect(res.status, res.text).toBe(200);
    const video = res.body.image;
    const html = (await new WebClient(server.url).get(video.path_viewer)).text;
    expect(html).toContain(`<source src="${video.url}" type="video/mp4">`);
    expect(metaContent(html, 'og:type')).toBe('video.other');
    expect(metaContent(html, 'og:video')).toBe(video.url);
    expect(metaContent(html, 'og:video:type')).toBe('video/mp4');
    expect(metaContent(html, 'og:video:width')).toBe('320');
    expect(metaContent(html, 'og:video:height')).toBe('240');
    expect(metaContent(html, 'og:image')).toBe(video.frame.url);
    expect(inputValue(html, 'embed-html-video')).toBe(
      `<video controls preload="metadata" width="320" height="240" poster="${video.frame.url}"><source src="${video.url}" type="video/mp4"></video>`,
    );
    expect(inputValue(html, 'embed-frame-links')).toBe(video.frame.url);
    expect(inputValue(html, 'embed-markdown-full-linked')).toBe(`[![clip.mp4](${video.frame.url})](${video.url_viewer})`);
    const oembed = await (await fetch(`${server.url}/oembed?url=${encodeURIComponent(video.url_viewer)}`)).json();
    expect(oembed.type).toBe('video');
    expect(oembed.html).toContain(`<source src="${video.url}" type="video/mp4">`);
  });

  it('lets the owner edit title, description, tags, NSFW and album, and delete; nobody else', async () => {
    const res = await uploadFile(server.url, await makeJpeg(300, 200), 'editable.jpg', { title: 'Before' }, { 'X-API-Key': key });
    const file = res.body.image;
    const stranger = new WebClient(server.url);
    await stranger.signup('stranger');
    const strangerView = await stranger.get(file.path_viewer);
    expect(strangerView.text).not.toContain('/edit"');
    expect((await stranger.post(`${file.path_viewer}/edit`, { title: 'Hacked' })).status).toBe(404);
    expect((await stranger.post(`${file.path_viewer}/delete`)).status).toBe(404);

    const owner = new WebClient(server.url);
    await owner.login('photographer', 'password123');
    await owner.get('/albums/new');
    const album = /\/album\/([A-Za-z0-9]+)/.exec((await owner.post('/albums', { name: 'Edits', privacy: 'public' })).location!)![1];
    const page = await owner.get(file.path_viewer);
    expect(page.text).toContain(`action="${file.path_viewer}/edit"`);
    const saved = await owner.post(`${file.path_viewer}/edit`, { title: 'After', description: 'New words', tags: 'one, two', nsfw: '1', album });
    expect(saved.status).toBe(303);
    const newPath = saved.location!.replace(/\?notice=file-saved$/, '');
    expect(newPath).toBe(`/image/After.${file.id_encoded}`);
    const after = await stranger.get(newPath);
    expect(after.text).toContain('<h1 class="viewer-title">After</h1>');
    expect(after.text).toContain('New words');
    expect(after.text).toContain('#one</a>');
    expect(after.text).toContain('#two</a>');
    expect(after.text).toContain(`href="/album/${album}"`);
    // NSFW files are blurred in listings until the visitor opts in.
    const listing = await stranger.get('/explore');
    expect(listing.text).toMatch(new RegExp(`<li class="tile is-blurred"[^>]*>\\s*(?:<label[\\s\\S]*?</label>\\s*)?<a href="${newPath.replace(/[.]/g, '\\.')}"`));
    await stranger.post('/nsfw', { show: '1', return: '/explore' });
    expect((await stranger.get('/explore')).text).not.toContain('is-blurred');

    const deleted = await owner.post(`${newPath}/delete`);
    expect(deleted.location).toBe('/photographer?notice=file-deleted');
    expect((await stranger.get(newPath)).status).toBe(404);
    expect((await fetch(file.url)).status).toBe(404);
  });

  it('keeps the delete URL as the API documents it: GET deletes, 301 to ?deleted, wrong secret 404', async () => {
    const res = await uploadFile(server.url, await makeJpeg(300, 200), 'delete-me.jpg', {}, { 'X-API-Key': key });
    const file = res.body.image;
    const wrong = await fetch(file.delete_url.replace(/[0-9a-f]{48}$/, '0'.repeat(48)), { redirect: 'manual' });
    expect(wrong.status).toBe(404);
    const del = await fetch(file.delete_url, { redirect: 'manual' });
    expect(del.status).toBe(301);
    expect(del.headers.get('location')).toBe(`${file.path_viewer}?deleted`);
    const after = await new WebClient(server.url).get(`${file.path_viewer}?deleted`);
    expect(after.status).toBe(404);
    expect(after.text).toContain('This file has been deleted');
  });
});
