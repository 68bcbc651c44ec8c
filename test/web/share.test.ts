import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { createAlbum, decodeEntities, inputValue, memberWithKey, WebClient } from './web-client.js';

/** Sharing (issue 19): the share box with its link and server-drawn QR code on viewer and album pages, an album's embed codes. */
describe('share: viewer and album pages', () => {
  let server: TestServer;
  let owner: WebClient;
  let key: string;
  let albumId: string;
  let files: any[];
  beforeAll(async () => {
    server = await startTestServer();
    ({ browser: owner, key } = await memberWithKey(server.url, 'sharer'));
    albumId = await createAlbum(owner, { name: 'Shared trip', privacy: 'public' });
    files = [];
    for (const title of ['First', 'Second']) {
      files.push((await uploadFile(server.url, await makePng(60, 40), `${title}.png`, { title, album_id: albumId }, { 'X-API-Key': key })).body.image);
    }
  });
  afterAll(async () => {
    await server.close();
  });

  const qrPaths = (svg: string) => [...svg.matchAll(/ d="([^"]+)"/g)].map((m) => m[1]);

  it('gives a visitor of a viewer page a share button, the link to copy and the QR code of that link', async () => {
    const page = await new WebClient(server.url).get(files[0].path_viewer);
    expect(page.text).toContain(`data-share data-share-url="${files[0].url_viewer}"`);
    expect(inputValue(page.text, 'share-url')).toBe(files[0].url_viewer);
    const svg = /<svg role="img" aria-label="QR code of this page’s link" class="qr-code"[\s\S]*?<\/svg>/.exec(page.text)![0];
    // The modules drawn are those of the viewer URL (the qrcode package's own encoding of it).
    const expected = await QRCode.toString(files[0].url_viewer, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
    expect(qrPaths(svg)).toEqual(qrPaths(expected));
    // Served from the page cache the second time, still with the same QR code.
    const again = await new WebClient(server.url).get(files[0].path_viewer);
    expect(again.text).toContain(svg);
  });

  it('gives an album page a share box with its link, QR code and every file’s embed codes', async () => {
    const page = await new WebClient(server.url).get(`/album/${albumId}`);
    expect(inputValue(page.text, 'share-url')).toBe(`${server.url}/album/${albumId}`);
    expect(page.text).toContain('class="qr-code"');
    expect(page.text).toContain(`href="/album/${albumId}/embed"`);
    const codes = await new WebClient(server.url).get(`/album/${albumId}/embed`);
    expect(codes.status).toBe(200);
    const links = decodeEntities(/<textarea id="embed-direct-links"[^>]*>([\s\S]*?)<\/textarea>/.exec(codes.text)![1]).split('\n');
    expect(links.sort()).toEqual(files.map((f) => f.url).sort());
  });

  it('keeps a private album’s codes private', async () => {
    const hidden = await createAlbum(owner, { name: 'Secret', privacy: 'private' });
    await uploadFile(server.url, await makePng(), 'secret.png', { album_id: hidden }, { 'X-API-Key': key });
    expect((await new WebClient(server.url).get(`/album/${hidden}/embed`)).status).toBe(404);
    expect((await owner.get(`/album/${hidden}/embed`)).status).toBe(200);
  });
});
