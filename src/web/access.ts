import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import type { PublicIdCodec } from '../core/public-id.js';
import { findAlbumById } from '../db/repositories/albums.js';
import type { AlbumRow, ImageRow, UserRow } from '../db/schema.js';
import { baseCookieOptions, getSessionUser, readCookie } from './session.js';
import { safeEqual, type WebKit } from './web-kit.js';
import { webSecretOf } from './web-secret.js';

/**
 * Who may see an album and the files in it:
 * - public: everyone; listed on the owner's profile, explore, tags and search;
 * - unlisted: everyone with the link; never listed;
 * - password: everyone who typed the album's password (remembered by a cookie); never listed;
 * - private: the owner only; everyone else gets a 404, as if it did not exist.
 * The owner and admins see everything. An album's privacy is its own: a public sub-album of a
 * private album is public.
 */
export type Access = { kind: 'allowed' } | { kind: 'hidden' } | { kind: 'password'; album: AlbumRow };

const ALLOWED: Access = { kind: 'allowed' };

export function isOwnerOrAdmin(user: UserRow | null, ownerId: number | null): boolean {
  return user !== null && (user.is_admin === 1 || (ownerId !== null && user.id === ownerId));
}

function unlockCookieName(ids: PublicIdCodec, album: AlbumRow): string {
  return `shoebox_album_${ids.encode(album.id)}`;
}

/** Bound to the password hash: changing the password locks out everyone who had the old one. */
function unlockValue(secret: string, album: AlbumRow): string {
  return createHmac('sha256', secret).update(`album-unlock:${album.id}:${album.password_hash ?? ''}`).digest('base64url');
}

function hasUnlockCookie(secret: string, ids: PublicIdCodec, request: FastifyRequest, album: AlbumRow): boolean {
  const cookie = readCookie(request, unlockCookieName(ids, album));
  return cookie !== undefined && album.password_hash !== null && safeEqual(cookie, unlockValue(secret, album));
}

export function isUnlocked(kit: WebKit, request: FastifyRequest, album: AlbumRow): boolean {
  return hasUnlockCookie(kit.secret, kit.ctx.ids, request, album);
}

export function rememberUnlock(kit: WebKit, reply: FastifyReply, album: AlbumRow): void {
  reply.setCookie(unlockCookieName(kit.ctx.ids, album), unlockValue(kit.secret, album), { ...baseCookieOptions(kit.ctx), maxAge: 86_400 });
}

export function albumAccess(kit: WebKit, request: FastifyRequest, album: AlbumRow, user: UserRow | null): Access {
  if (isOwnerOrAdmin(user, album.user_id)) return ALLOWED;
  switch (album.privacy) {
    case 'public':
    case 'unlisted':
      return ALLOWED;
    case 'password':
      return album.password_hash && isUnlocked(kit, request, album) ? ALLOWED : { kind: 'password', album };
    default:
      return { kind: 'hidden' };
  }
}

/** Access to a file follows its album; a file in no album is public. */
export async function imageAccess(kit: WebKit, request: FastifyRequest, image: ImageRow, user: UserRow | null): Promise<{ access: Access; album: AlbumRow | null }> {
  const album = image.album_id ? (await findAlbumById(kit.ctx.db, image.album_id)) ?? null : null;
  if (!album) return { access: ALLOWED, album: null };
  return { access: albumAccess(kit, request, album, user), album };
}

/**
 * Whether a request may have a file's bytes (media-files.ts): `public` (anyone; caches may
 * share it), `restricted` (this visitor only: the owner, an admin, or who unlocked the album;
 * caches must not share it) or `refused`. Only files of private and password albums cost a
 * lookup; everything listed is public at once.
 */
export async function fileAccess(ctx: AppContext, request: FastifyRequest, image: ImageRow): Promise<'public' | 'restricted' | 'refused'> {
  if (image.listed === 1 || image.album_id === null) return 'public';
  const album = await findAlbumById(ctx.db, image.album_id);
  if (!album || album.privacy === 'public' || album.privacy === 'unlisted') return 'public';
  if (isOwnerOrAdmin(await getSessionUser(ctx, request), album.user_id)) return 'restricted';
  if (album.privacy === 'password' && hasUnlockCookie(await webSecretOf(ctx), ctx.ids, request, album)) return 'restricted';
  return 'refused';
}
