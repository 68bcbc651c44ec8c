import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sharp } from '../media/sharp.js';
import { errors } from '../core/errors.js';
import { setAvatarKey } from '../db/repositories/profiles.js';
import type { AccountStorageServices } from './account-services.js';

/** Avatars: any image sharp reads, made a 256×256 WebP centre crop, stored through the storage driver under `avatars/`. */
export const AVATAR_SIZE = 256;
export const AVATAR_MAX_BYTES = 5_000_000;
const AVATAR_MAX_PIXELS = 50_000_000;

export function isAvatarKey(key: string): boolean {
  return /^avatars\/[0-9]+-[A-Za-z0-9_-]{8,32}\.webp$/.test(key);
}

/**
 * The avatar every account gets from a picture: a 256×256 WebP centre crop (faces and detail
 * kept in frame). A file sharp can't read is a 400. The Chevereto import makes imported
 * avatars with this too, so they are what an upload here would have made.
 */
export async function renderAvatar(input: Buffer | string): Promise<Buffer> {
  try {
    return await sharp(input, { limitInputPixels: AVATAR_MAX_PIXELS, failOn: 'error' })
      .autoOrient()
      .resize(AVATAR_SIZE, AVATAR_SIZE, { fit: 'cover', position: 'attention' })
      .webp({ quality: 82 })
      .toBuffer();
  } catch {
    throw errors.badRequest('The avatar is not an image this site can read');
  }
}

/** A fresh storage key for a user's avatar (a new key each time, so caches never show the old one). */
export function newAvatarKey(userId: number): string {
  return `avatars/${userId}-${randomBytes(9).toString('base64url')}.webp`;
}

/**
 * Makes and stores the avatar, then points the account at it and deletes the previous one.
 * A file sharp can't read is a 400 and stores nothing.
 */
export async function storeAvatar(services: AccountStorageServices & { tempDir: string }, userId: number, upload: Buffer): Promise<string> {
  const webp = await renderAvatar(upload);
  const key = newAvatarKey(userId);
  const work = await mkdtemp(path.join(services.tempDir, 'avatar-'));
  try {
    const file = path.join(work, 'avatar.webp');
    await writeFile(file, webp);
    await services.storage.moveIn(key, file, 'image/webp');
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  let previous: string | null;
  try {
    previous = await setAvatarKey(services.db, userId, key);
  } catch (error) {
    await services.storage.delete([key]);
    throw error;
  }
  if (previous) await services.storage.delete([previous]);
  return key;
}

export async function removeAvatar(services: AccountStorageServices, userId: number): Promise<void> {
  const previous = await setAvatarKey(services.db, userId, null);
  if (previous) await services.storage.delete([previous]);
}
