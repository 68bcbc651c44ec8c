import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { resolveMediaBinaries } from '../../src/media/binaries.js';

/**
 * A browser without a browser, for the web site's HTTP tests: it keeps cookies the way a
 * browser does (per name, dropped on Max-Age=0), remembers the last CSRF token a page gave
 * it, and posts forms as application/x-www-form-urlencoded.
 */
export interface Page {
  status: number;
  text: string;
  headers: Headers;
  location: string | null;
}

export class WebClient {
  readonly cookies = new Map<string, string>();
  /** Raw Set-Cookie lines of the last response, for attribute checks. */
  lastSetCookies: string[] = [];
  csrf: string | null = null;

  constructor(readonly baseUrl: string, readonly headers: Record<string, string> = { 'Accept-Language': 'en' }) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  private async read(res: Response): Promise<Page> {
    this.lastSetCookies = res.headers.getSetCookie();
    for (const line of this.lastSetCookies) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || (/^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now()));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const text = await res.text();
    const token = /name="_csrf" value="([^"]+)"/.exec(text);
    if (token) this.csrf = token[1];
    return { status: res.status, text, headers: res.headers, location: res.headers.get('location') };
  }

  url(pathname: string): string {
    return pathname.startsWith('http') ? pathname : `${this.baseUrl}${pathname}`;
  }

  async get(pathname: string, headers: Record<string, string> = {}): Promise<Page> {
    const res = await fetch(this.url(pathname), { headers: { ...this.headers, cookie: this.cookieHeader(), ...headers }, redirect: 'manual' });
    return this.read(res);
  }

  /**
   * Posts a form; the last CSRF token seen is added unless the fields carry their own `_csrf` (or `csrf: false`).
   * Like a browser, it sends the page's Origin (`origin` names another, or null sends none).
   */
  async post(pathname: string, fields: Record<string, string | string[]> = {}, options: { csrf?: boolean; origin?: string | null } = {}): Promise<Page> {
    const body = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) for (const v of Array.isArray(value) ? value : [value]) body.append(key, v);
    if (options.csrf !== false && !('_csrf' in fields) && this.csrf) body.append('_csrf', this.csrf);
    const res = await fetch(this.url(pathname), {
      method: 'POST',
      body,
      headers: {
        ...this.headers,
        cookie: this.cookieHeader(),
        'content-type': 'application/x-www-form-urlencoded',
        ...(options.origin === null ? {} : { origin: options.origin ?? new URL(this.baseUrl).origin }),
      },
      redirect: 'manual',
    });
    return this.read(res);
  }

  async signup(username: string, password = 'correct horse battery', email = ''): Promise<Page> {
    await this.get('/signup');
    return this.post('/signup', { username, email, password, password2: password });
  }

  async login(login: string, password: string): Promise<Page> {
    await this.get('/login');
    return this.post('/login', { login, password });
  }
}

/** The content of `<meta property|name="key" content="...">`, entities left as they are. */
export function metaContent(html: string, key: string): string | null {
  const match = new RegExp(`<meta (?:property|name)="${key.replace(/[:.]/g, '\\$&')}" content="([^"]*)">`).exec(html);
  return match ? match[1] : null;
}

/** The value of the input with this id, HTML entities decoded (as a browser would). */
export function inputValue(html: string, id: string): string | null {
  const match = new RegExp(`id="${id}"[^>]*value="([^"]*)"`).exec(html) ?? new RegExp(`value="([^"]*)"[^>]*id="${id}"`).exec(html);
  return match ? decodeEntities(match[1]) : null;
}

export function decodeEntities(text: string): string {
  return text
    .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** Viewer paths of the file tiles (not album tiles) on a listing page, in order. */
export function tileLinks(html: string, { withContext = false } = {}): string[] {
  const links = [...html.matchAll(/<li class="tile(?: is-blurred)?"[^>]*>\s*(?:<label[\s\S]*?<\/label>\s*)?<a href="([^"]+)"/g)].map((m) => m[1]);
  // Tiles of albums and profiles name their listing (`?from=`, the viewer's previous/next): the file's page is the path.
  return withContext ? links : links.map((href) => href.replace(/\?from=[^"&]*$/, ''));
}

/** A one-second H.264 MP4 made by ffmpeg. */
export async function makeMp4(width = 320, height = 240): Promise<Buffer> {
  const { ffmpeg } = resolveMediaBinaries({});
  if (!ffmpeg) throw new Error('ffmpeg is needed to make a test video');
  const dir = await mkdtemp(path.join(tmpdir(), 'shoebox-video-'));
  try {
    const out = path.join(dir, 'clip.mp4');
    await promisify(execFile)(ffmpeg, ['-v', 'error', '-f', 'lavfi', '-i', `testsrc=size=${width}x${height}:rate=10`, '-t', '1', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', out]);
    return await readFile(out);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A signed-in browser with an API key, as a person who just set up their account. */
export async function memberWithKey(baseUrl: string, username: string): Promise<{ browser: WebClient; key: string }> {
  const browser = new WebClient(baseUrl);
  await browser.signup(username);
  await browser.get('/settings');
  return { browser, key: await createApiKey(browser) };
}

/** Presses "Create a key" on the settings page as `browser` and returns the key the page then shows (once). */
export async function createApiKey(browser: WebClient): Promise<string> {
  const posted = await browser.post('/settings/api-key');
  expect(posted.status, posted.text).toBe(303);
  const page = await browser.get(posted.location!.replace(/#.*$/, ''));
  const key = inputValue(page.text, 'api-key');
  expect(key, 'the settings page shows the new key').not.toBeNull();
  return key!;
}

/** Makes an album through the site's form as `browser` and returns its public id. */
export async function createAlbum(browser: WebClient, fields: Record<string, string>): Promise<string> {
  await browser.get('/albums/new');
  const res = await browser.post('/albums', { description: '', password: '', parent: '', ...fields });
  expect(res.status, res.text).toBe(303);
  return /^\/album\/([A-Za-z0-9]+)\?notice=album-created$/.exec(res.location!)![1];
}
