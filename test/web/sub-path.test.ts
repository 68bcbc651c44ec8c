import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTestServer, type TestServer } from '../support/server.js';
import { uploadFile } from '../support/api.js';
import { makeJpeg } from '../support/media.js';
import { WebClient } from './web-client.js';

describe('the web site under a sub-path (SHOEBOX_BASE_URL=http://host/pics)', () => {
  let server: TestServer;
  let origin: string;
  beforeAll(async () => {
    const port = await freePort();
    origin = `http://127.0.0.1:${port}`;
    server = await startTestServer({ PORT: String(port), SHOEBOX_BASE_URL: `${origin}/pics` });
  });
  afterAll(async () => {
    await server.close();
  });

  it('links, forms, assets and cookies all carry the base path', async () => {
    const browser = new WebClient(server.url);
    const home = await browser.get('/');
    expect(home.status).toBe(200);
    expect(home.text).toContain('href="/pics/explore"');
    expect(home.text).toMatch(/<link rel="stylesheet" href="\/pics\/static\/site\.css\?v=[0-9a-f]+">/);
    const css = await fetch(`${origin}/pics/static/site.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toContain('text/css');

    const signup = await browser.signup('subpath');
    // The first account is the site's admin: welcomed on the dashboard.
    expect(signup.location).toBe('/pics/dashboard?welcome=1');
    expect(browser.lastSetCookies.find((c) => c.startsWith('shoebox_session='))).toMatch(/Path=\/pics/);
    const settings = await browser.get('/settings');
    expect(settings.status).toBe(200);
    expect(settings.text).toContain('action="/pics/settings/api-key"');
  });

  it('serves viewer pages behind a proxy that strips the path, without a redirect loop', async () => {
    const { key } = await server.createUserWithKey('poster');
    const res = await uploadFile(server.url, await makeJpeg(300, 200), 'sub.jpg', { title: 'Sub' }, { 'X-API-Key': key });
    const image = res.body.image;
    expect(image.path_viewer).toMatch(/^\/pics\/image\//);
    expect((await fetch(image.url_viewer, { redirect: 'manual' })).status).toBe(200);
    // The same page asked for without the prefix, as a stripping proxy passes it on.
    const stripped = await fetch(`${origin}${image.path_viewer.replace(/^\/pics/, '')}`, { redirect: 'manual' });
    expect(stripped.status).toBe(200);
    expect(await stripped.text()).toContain('<h1 class="viewer-title">Sub</h1>');
  });
});
