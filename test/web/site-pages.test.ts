import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePng } from '../support/media.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { WebClient } from './web-client.js';

/** Pages admins write in Markdown, shown in the footer and rendered without any way to run script; the logo and favicon. */
describe('site pages, logo and favicon', () => {
  let server: TestServer;
  let admin: WebClient;

  beforeAll(async () => {
    server = await startTestServer();
    admin = new WebClient(server.url);
    await admin.signup('boss');
  });
  afterAll(() => server.close());

  it('publishes a Markdown page at /page/<slug>, linked from every footer', async () => {
    await admin.get('/dashboard/pages/new');
    const res = await admin.post('/dashboard/pages', { title: 'Terms of use', slug: 'terms', body: '# Rules\n\nBe **kind**. See [the FAQ](https://example.com/faq).', in_footer: '1', position: '1' });
    expect(res.location).toBe('/dashboard/pages?done=page-saved');
    const page = await fetch(`${server.url}/page/terms`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('<h1>Rules</h1>');
    expect(html).toContain('<strong>kind</strong>');
    expect(html).toContain('<a href="https://example.com/faq" rel="nofollow noopener noreferrer">the FAQ</a>');
    const home = await (await fetch(`${server.url}/explore`)).text();
    expect(home).toContain('<a href="/page/terms">Terms of use</a>');
  });

  it('lets no script through: raw HTML is text, javascript: and data: links are not links', async () => {
    await admin.get('/dashboard/pages/new');
    const body = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(2)>',
      '[click](javascript:alert(3))',
      '[click2](JAVASCRIPT:alert(4))',
      '[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg1KTwvc2NyaXB0Pg==)',
      '[vb](vbscript:msgbox(6))',
      '![img](javascript:alert(7))',
    ].join('\n\n');
    await admin.post('/dashboard/pages', { title: 'Evil', slug: 'evil', body, in_footer: '1', position: '2' });
    const html = await (await fetch(`${server.url}/page/evil`)).text();
    const article = html.slice(html.indexOf('<article'), html.indexOf('</article>'));
    expect(article).not.toMatch(/<script/i);
    expect(article).not.toMatch(/<img[^>]*onerror/i);
    expect(article).not.toMatch(/href="(javascript|data|vbscript):/i);
    expect(article).not.toMatch(/src="javascript:/i);
    expect(article).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    // The page is also under the site's CSP: no inline script could run anyway.
    expect((await fetch(`${server.url}/page/evil`)).headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('refuses a bad or taken slug, edits and deletes a page', async () => {
    await admin.get('/dashboard/pages/new');
    expect((await admin.post('/dashboard/pages', { title: 'X', slug: 'Bad Slug!', body: '' })).status).toBe(400);
    expect((await admin.post('/dashboard/pages', { title: 'Again', slug: 'terms', body: '' })).status).toBe(409);
    const row = await server.ctx.db.selectFrom('site_pages').selectAll().where('slug', '=', 'evil').executeTakeFirstOrThrow();
    await admin.get(`/dashboard/pages/${row.id}`);
    await admin.post(`/dashboard/pages/${row.id}`, { title: 'Not evil', slug: 'fine', body: 'ok', position: '3' });
    expect((await fetch(`${server.url}/page/evil`)).status).toBe(404);
    expect(await (await fetch(`${server.url}/page/fine`)).text()).toContain('Not evil');
    const footer = await (await fetch(`${server.url}/explore`)).text();
    expect(footer).not.toContain('/page/fine'); // not ticked for the footer this time
    await admin.post(`/dashboard/pages/${row.id}/delete`, { confirm: 'yes' });
    expect((await fetch(`${server.url}/page/fine`)).status).toBe(404);
  });

  it('takes a logo and a favicon (images only), shows them on every page, and removes them', async () => {
    await admin.get('/dashboard/settings');
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(await makePng(64, 32))]), 'logo.png');
    const cookie = [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const post = (body: FormData, origin = server.url) =>
      fetch(`${server.url}/dashboard/settings/asset/logo`, { method: 'POST', body, headers: { cookie, origin }, redirect: 'manual' });
    expect((await post(form, 'https://evil.example')).status).toBe(403); // another site's form
    const saved = await post(form);
    expect(saved.status).toBe(303);
    const home = await (await fetch(`${server.url}/explore`)).text();
    const logo = /<img class="brand-logo" src="([^"]+)"/.exec(home)![1];
    const served = await fetch(`${server.url}${logo}`);
    expect(served.headers.get('content-type')).toBe('image/png');
    const svg = new FormData();
    svg.append('file', new Blob(['<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>']), 'logo.svg');
    const refused = await post(svg);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('PNG, JPEG, GIF, WebP or ICO');
    await admin.get('/dashboard/settings');
    await admin.post('/dashboard/settings/asset/logo/remove');
    expect(await (await fetch(`${server.url}/explore`)).text()).not.toContain('brand-logo');
  });
  it('an uploaded favicon replaces the default: /favicon.ico serves it and pages link only it; removing it brings the default back', async () => {
    const before = await (await fetch(`${server.url}/favicon.ico`)).arrayBuffer();
    await admin.get('/dashboard/settings');
    const cookie = [...admin.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const icon = await makePng(32, 32);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(icon)]), 'favicon.png');
    const saved = await fetch(`${server.url}/dashboard/settings/asset/favicon`, { method: 'POST', body: form, headers: { cookie, origin: server.url }, redirect: 'manual' });
    expect(saved.status).toBe(303);

    const ico = await fetch(`${server.url}/favicon.ico`);
    expect(ico.status).toBe(200);
    expect(ico.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await ico.arrayBuffer()).equals(icon)).toBe(true);
    const page = await (await fetch(`${server.url}/explore`)).text();
    const links = [...page.matchAll(/<link rel="icon" href="([^"]+)"/g)].map((m) => m[1]);
    expect(links).toHaveLength(1);
    expect(links[0]).toMatch(/^\/site\/favicon\?v=/);
    expect(page).not.toContain('/static/favicon.svg');

    await admin.get('/dashboard/settings');
    expect((await admin.post('/dashboard/settings/asset/favicon/remove')).status).toBe(303);
    const back = await fetch(`${server.url}/favicon.ico`);
    expect(back.headers.get('content-type')).toBe('image/x-icon');
    expect(Buffer.from(await back.arrayBuffer()).equals(Buffer.from(before))).toBe(true);
    const plain = await (await fetch(`${server.url}/explore`)).text();
    expect([...plain.matchAll(/<link rel="icon" href="([^"]+)"/g)].map((m) => m[1])).toEqual(['/favicon.ico', '/static/favicon.svg']);
  });
});
