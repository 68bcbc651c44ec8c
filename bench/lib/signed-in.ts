/**
 * Signed-in visitors for the page benchmarks: signing in through the web form (as a browser
 * does), a form's CSRF token, an album made through the web site and files uploaded into it.
 */
import { cli } from './shoebox.js';

const cookiesOf = (res: Response) => res.headers.getSetCookie().map((c) => c.split(';')[0]);

/** Signs in through the web form and returns the Cookie header of the session. */
export async function signIn(origin: string, login: string, password: string): Promise<string> {
  const form = await fetch(`${origin}/login`);
  const csrfCookies = cookiesOf(form);
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!token) throw new Error('no CSRF token on /login');
  const res = await fetch(`${origin}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: csrfCookies.join('; ') },
    body: new URLSearchParams({ login, password, _csrf: token }),
  });
  const session = cookiesOf(res).find((c) => c.startsWith('shoebox_session='));
  if (res.status !== 303 || !session) throw new Error(`signing in answered ${res.status}`);
  return [...csrfCookies, session].join('; ');
}

/** A member without admin rights, made with the CLI as an operator would. */
export async function createMember(env: NodeJS.ProcessEnv, username: string, password: string): Promise<void> {
  await cli(env, ['user', 'create', username, '--password', password]);
}

/** Makes an album through the web form; returns its path (/album/<id>) and encoded id. */
export async function createAlbum(origin: string, cookie: string, name: string): Promise<{ path: string; id: string }> {
  const form = await fetch(`${origin}/albums/new`, { headers: { cookie } });
  const token = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
  if (!token) throw new Error('no CSRF token on /albums/new');
  const res = await fetch(`${origin}/albums`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({ name, description: '', privacy: 'public', _csrf: token }),
  });
  const location = res.headers.get('location') ?? '';
  const path = new URL(location, origin).pathname;
  const id = /\/album\/(?:[^/]*\.)?([^/.?]+)$/.exec(path)?.[1];
  if (res.status !== 303 || !id) throw new Error(`creating an album answered ${res.status} ${location}`);
  return { path, id };
}

/** One upload through the API into an album (Chevereto's album_id). */
export async function uploadToAlbum(origin: string, key: string, file: Buffer, filename: string, albumId: string): Promise<string> {
  const body = new FormData();
  body.set('album_id', albumId);
  body.set('source', new Blob([new Uint8Array(file)], { type: 'image/jpeg' }), filename);
  const res = await fetch(`${origin}/api/1/upload`, { method: 'POST', headers: { 'X-API-Key': key }, body });
  const parsed = (await res.json()) as { status_code?: number; image?: { url_viewer: string } };
  if (res.status !== 200 || !parsed.image) throw new Error(`upload into the album answered ${res.status}`);
  return parsed.image.url_viewer;
}
