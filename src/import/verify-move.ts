import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import type { PublicIdCodec } from '../core/public-id.js';
import { importedAlbumIds, importedImagesPage, importedUsernames } from '../db/repositories/chevereto-import.js';
import type { Database } from '../db/schema.js';
import { objectKeysOf } from '../storage/object-keys.js';

/**
 * `shoebox import-chevereto --verify --old-base URL`: for every imported file and page, asks
 * the old site and this one for the same path and compares what a visitor gets: the status
 * after redirects and, for files, the md5 of the bytes. Any difference is listed.
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
  const checks: { path: string; file: boolean }[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  for (let after = 0; checks.length < limit; ) {
    const page = await importedImagesPage(services.db, after, 500);
    if (page.length === 0) break;
    after = Number(page[page.length - 1].id);
    for (const image of page) {
      for (const key of objectKeysOf({ ...image, chain: Number(image.chain) })) checks.push({ path: `/${key}`, file: true });
      const route = image.type === 'video' ? services.settings.videoRoute : services.settings.imageRoute;
      checks.push({ path: `/${route}/${services.ids.encode(Number(image.id))}`, file: false });
    }
  }
  for (const id of await importedAlbumIds(services.db)) checks.push({ path: `/album/${services.ids.encode(id)}`, file: false });
  for (const username of await importedUsernames(services.db)) checks.push({ path: `/${encodeURIComponent(username)}`, file: false });
  const selected = checks.slice(0, limit);

  const differences: VerifyDifference[] = [];
  let next = 0;
  const worker = async () => {
    while (next < selected.length) {
      const check = selected[next++];
      const [before, after] = await Promise.all([fetchAnswer(oldBase + check.path, check.file), fetchAnswer(newBase + check.path, check.file)]);
      const same = before.status === after.status && before.md5 === after.md5;
      if (!same) differences.push({ path: check.path, old: describe(before), new: describe(after) });
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, selected.length) }, worker));
  differences.sort((a, b) => a.path.localeCompare(b.path));
  return { oldBase, checked: selected.length, differences };
}
