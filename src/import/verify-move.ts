import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import type { PublicIdCodec } from '../core/public-id.js';
import { ancestorsOf } from '../db/repositories/album-edits.js';
import { findAlbumById } from '../db/repositories/albums.js';
import { importedAlbumIds, importedImagesPage, importedUsernames } from '../db/repositories/chevereto-import.js';
import { findUserById } from '../db/repositories/users.js';
import { getVariable } from '../db/repositories/variables.js';
import type { Database } from '../db/schema.js';
import { objectKeysOf } from '../storage/object-keys.js';

/**
 * `shoebox import-chevereto --verify --old-base URL`: for every imported file and page, asks
 * the old site and this one for the same path and compares what a visitor gets: the status
 * after redirects and, for files, the md5 of the bytes. Any difference is listed.
 *
 * One kind of difference is expected and listed apart: content in a private or password
 * album, or of a private profile, that the old site answered with 200 (Chevereto serves files
 * as static files, whatever their album) and Shoebox withholds (403/404).
 */

export interface VerifyServices {
  db: Kysely<Database>;
  ids: PublicIdCodec;
  urls: unknown;
  settings: Pick<Settings, 'imageRoute' | 'videoRoute'>;
}

export interface VerifyDifference {
  path: string;
  old: string;
  new: string;
}

export interface VerifyReport {
  oldBase: string;
  checked: number;
  differences: VerifyDifference[];
  /** Old 200, new 403/404, for content that is private or password-protected here. */
  withheld: VerifyDifference[];
}

interface Answer {
  status: number;
  md5: string | null;
}

async function fetchAnswer(url: string, withBody: boolean): Promise<Answer> {
  try {
    const response = await fetch(url, { redirect: 'follow', headers: { 'user-agent': 'shoebox-import-verify' } });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, md5: withBody && response.ok ? createHash('md5').update(body).digest('hex') : null };
  } catch (error) {
    return { status: 0, md5: `unreachable (${(error as Error).message})` };
  }
}

function describe(answer: Answer): string {
  return answer.md5 ? `${answer.status} md5 ${answer.md5}` : String(answer.status);
}

export async function verifyMove(
  services: VerifyServices,
  options: { oldBase: string; newBase: string; limit?: number; concurrency?: number },
): Promise<VerifyReport> {
  const oldBase = options.oldBase.replace(/\/+$/, '');
  const newBase = options.newBase.replace(/\/+$/, '');
  // The paths the old site handed out: its own route names (Shoebox redirects them to its routes).
  const routes = {
    image: (await getVariable(services.db, 'chevereto_route_image')) || services.settings.imageRoute,
    video: (await getVariable(services.db, 'chevereto_route_video')) || services.settings.videoRoute,
    album: (await getVariable(services.db, 'chevereto_route_album')) || 'album',
  };
  const checks: { path: string; file: boolean; guarded: boolean }[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const guardedAlbums = new Map<number, boolean>();
  /** Whether an album, or one above it, is private or password-protected. */
  const albumGuarded = async (albumId: number | null): Promise<boolean> => {
    if (albumId === null) return false;
    const known = guardedAlbums.get(albumId);
    if (known !== undefined) return known;
    const album = await findAlbumById(services.db, albumId);
    const chain = album ? [...(await ancestorsOf(services.db, album)), album] : [];
    const guarded = chain.some((a) => a.privacy === 'private' || a.privacy === 'password');
    guardedAlbums.set(albumId, guarded);
    return guarded;
  };
  const privateUsers = new Map<number, boolean>();
  const userPrivate = async (userId: number | null): Promise<boolean> => {
    if (userId === null) return false;
    if (!privateUsers.has(userId)) privateUsers.set(userId, (await findUserById(services.db, userId))?.is_private === 1);
    return privateUsers.get(userId)!;
  };
  for (let after = 0; checks.length < limit; ) {
    const page = await importedImagesPage(services.db, after, 500);
    if (page.length === 0) break;
    after = Number(page[page.length - 1].id);
    for (const image of page) {
      const guarded = await albumGuarded(image.album_id === null ? null : Number(image.album_id));
      for (const key of objectKeysOf({ ...image, chain: Number(image.chain) })) checks.push({ path: `/${key}`, file: true, guarded });
      const route = image.type === 'video' ? routes.video : routes.image;
      checks.push({ path: `/${route}/${services.ids.encode(Number(image.id))}`, file: false, guarded });
    }
  }
  for (const id of await importedAlbumIds(services.db)) checks.push({ path: `/${routes.album}/${services.ids.encode(id)}`, file: false, guarded: await albumGuarded(id) });
  for (const user of await importedUsernames(services.db)) {
    checks.push({ path: `/${encodeURIComponent(user.username)}`, file: false, guarded: await userPrivate(user.id) });
  }
  const selected = checks.slice(0, limit);

  const differences: VerifyDifference[] = [];
  const withheld: VerifyDifference[] = [];
  let next = 0;
  const worker = async () => {
    while (next < selected.length) {
      const check = selected[next++];
      const [before, after] = await Promise.all([fetchAnswer(oldBase + check.path, check.file), fetchAnswer(newBase + check.path, check.file)]);
      const same = before.status === after.status && before.md5 === after.md5;
      if (same) continue;
      const difference = { path: check.path, old: describe(before), new: describe(after) };
      if (check.guarded && before.status === 200 && (after.status === 403 || after.status === 404)) withheld.push(difference);
      else differences.push(difference);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, selected.length) }, worker));
  differences.sort((a, b) => a.path.localeCompare(b.path));
  withheld.sort((a, b) => a.path.localeCompare(b.path));
  return { oldBase, checked: selected.length, differences, withheld };
}
