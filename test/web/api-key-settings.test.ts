import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadFile } from '../support/api.js';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { decodeEntities, inputValue, WebClient } from './web-client.js';

describe('settings: API key, ShareX uploader, PicGo settings', () => {
  let server: TestServer;
  let browser: WebClient;
  beforeAll(async () => {
    server = await startTestServer();
    browser = new WebClient(server.url);
    await browser.signup('keyholder');
  });
  afterAll(async () => {
    await server.close();
  });

  it('creates a key, shows it once after a redirect (reloading makes no new key), and regenerating it makes the API refuse the old one', async () => {
    const before = await browser.get('/settings');
    expect(before.text).toContain('You have no API key yet.');
    // Post/Redirect/Get: the POST answers with a redirect, the page it leads to shows the key.
    const created = await browser.post('/settings/api-key');
    expect(created.status).toBe(303);
    expect(created.location).toBe('/settings#new-key');
    const shown = await browser.get('/settings');
    expect(shown.headers.get('cache-control')).toBe('no-store');
    const firstKey = inputValue(shown.text, 'api-key')!;
    expect(firstKey).toMatch(/^chv_[A-Za-z0-9]{8}_[A-Za-z0-9]{44}$/);
    // The very first key replaces nothing.
    expect(shown.text).toContain('Copy it now: it is shown only this once.');
    expect(shown.text).not.toContain('The old key no longer works');
    expect((await uploadFile(server.url, await makePng(), 'a.png', {}, { 'X-API-Key': firstKey })).status).toBe(200);

    // Reloading the page: no new key, the pasted one keeps working, and it is not shown again.
    const reloaded = await browser.get('/settings');
    expect(reloaded.text).not.toContain(firstKey);
    expect(reloaded.text).toContain(firstKey.slice(0, 12));
    expect((await uploadFile(server.url, await makePng(), 'a2.png', {}, { 'X-API-Key': firstKey })).status).toBe(200);

    // The sealed cookie opens only for the session that made the key.
    await browser.post('/settings/api-key');
    const sealed = browser.cookies.get('shoebox_new_key')!;
    const other = new WebClient(server.url);
    await other.signup('keythief');
    other.cookies.set('shoebox_new_key', sealed);
    expect(inputValue((await other.get('/settings')).text, 'api-key')).toBeNull();
    const secondKey = inputValue((await browser.get('/settings')).text, 'api-key')!;
    expect(secondKey).not.toBe(firstKey);
    const refused = await uploadFile(server.url, await makePng(), 'b.png', {}, { 'X-API-Key': firstKey });
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe('Invalid API key.');
    expect((await uploadFile(server.url, await makePng(), 'c.png', {}, { 'X-API-Key': secondKey })).status).toBe(200);
    // A replaced key says so.
    await browser.post('/settings/api-key');
    expect((await browser.get('/settings')).text).toContain('The old key no longer works.');
  });

  it('downloads a ready ShareX .sxcu for the key just shown, and the PicGo settings carry it too', async () => {
    await browser.post('/settings/api-key');
    const page = await browser.get('/settings');
    const key = inputValue(page.text, 'api-key')!;
    const picgo = JSON.parse(decodeEntities(/<textarea id="picgo-settings"[^>]*>([\s\S]*?)<\/textarea>/.exec(page.text)![1]));
    expect(picgo).toEqual({ url: `${server.url}/api/1/upload?key=${key}`, paramName: 'source', jsonPath: 'image.url' });

    const download = await browser.post('/settings/sharex.sxcu', { key });
    expect(download.status).toBe(200);
    expect(download.headers.get('content-disposition')).toBe(`attachment; filename="127.0.0.1-${server.port}.sxcu"`);
    const sxcu = JSON.parse(download.text);
    const [major, minor, patch] = String(sxcu.Version).split('.').map(Number);
    // {json:...} response syntax needs a ShareX custom uploader newer than 13.7.1.
    expect(major * 1e6 + minor * 1e3 + patch).toBeGreaterThan(13 * 1e6 + 7 * 1e3 + 1);
    expect(sxcu).toMatchObject({
      RequestMethod: 'POST',
      RequestURL: `${server.url}/api/1/upload`,
      Headers: { 'X-API-Key': key },
      Body: 'MultipartFormData',
      FileFormName: 'source',
      URL: '{json:image.url}',
      ThumbnailURL: '{json:image.thumb.url}',
      DeletionURL: '{json:image.delete_url}',
      ErrorMessage: '{json:error.message}',
    });
    expect(sxcu.DestinationType).toContain('ImageUploader');

    // Doing what ShareX does with that file uploads as this user.
    const form = new FormData();
    form.append(sxcu.FileFormName, new Blob([new Uint8Array(await makePng(30, 20))]), 'sharex.png');
    const res = await fetch(sxcu.RequestURL, { method: sxcu.RequestMethod, headers: sxcu.Headers, body: form });
    const body = await res.json();
    expect(res.status).toBe(200);
    expect(body.image.url).toMatch(/sharex\.png$/);
    expect(body.image.delete_url).toMatch(/\/delete\/[0-9a-f]{48}$/);
  });

  it('will not put a key it did not just issue to this user into a .sxcu', async () => {
    const { key: othersKey } = await server.createUserWithKey('someoneelse');
    await browser.get('/settings');
    const res = await browser.post('/settings/sharex.sxcu', { key: othersKey });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.text).not.toContain(othersKey);
    expect((await browser.post('/settings/sharex.sxcu', { key: 'chv_made_up' })).status).toBe(400);
  });

  it('sends visitors who are not signed in to the sign-in page', async () => {
    const guest = new WebClient(server.url);
    const res = await guest.get('/settings');
    expect(res.status).toBe(303);
    expect(res.location).toBe('/login?next=%2Fsettings');
  });
});
