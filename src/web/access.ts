import { createHmac } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { isModerator } from '../moderation/moderation.js';
import type { PublicIdCodec } from '../core/public-id.js';
import { ancestorsOf } from '../db/repositories/album-edits.js';
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
 * The owner and admins see everything. Privacy is inherited down the album tree: an album (and
 * each file in it) is never more visible than the albums above it. Its effective privacy is the
 * most restrictive along the chain (private > password > unlisted > public), and every
 * password-protected album above asks for its own password (its unlock cookie) first.
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

const PRIVACY_RANK: Record<string, number> = { public: 0, unlisted: 1, password: 2, private: 3 };

/** The most restrictive privacy along a chain of albums (top-level first), and the album that sets it. */
export function effectivePrivacy(chain: AlbumRow[]): { privacy: string; from: AlbumRow } {
  let from = chain[chain.length - 1];
  for (const album of chain) if ((PRIVACY_RANK[album.privacy] ?? 3) > (PRIVACY_RANK[from.privacy] ?? 3)) from = album;
  return { privacy: from.privacy, from };
}

/** Anyone at all may see what is in the last album of the chain: no private album, no password on the way. */
function openToAll(chain: AlbumRow[]): boolean {
  return chain.every((a) => a.privacy === 'public' || a.privacy === 'unlisted');
}

/** The most restrictive answer along a chain of albums (top-level first): hidden, then the topmost locked password album. */
function chainAccess(chain: AlbumRow[], user: UserRow | null, unlocked: (album: AlbumRow) => boolean): Access {
  if (isOwnerOrAdmin(user, chain[chain.length - 1].user_id)) return ALLOWED;
  if (chain.some((a) => a.privacy !== 'public' && a.privacy !== 'unlisted' && a.privacy !== 'password')) return { kind: 'hidden' };
  const locked = chain.find((a) => a.privacy === 'password' && !(a.password_hash && unlocked(a)));
  return locked ? { kind: 'password', album: locked } : ALLOWED;
}

/**
 * Access to an album, given the albums above it (top-level first, as ancestorsOf returns them;
 * callers that have not loaded them use albumChainAccess).
 */
export function albumAccess(kit: WebKit, request: FastifyRequest, album: AlbumRow, user: UserRow | null, ancestors: AlbumRow[] = []): Access {
  return chainAccess([...ancestors, album], user, (a) => isUnlocked(kit, request, a));
}

/** Access to an album, inherited from every album above it. */
export async function albumChainAccess(kit: WebKit, request: FastifyRequest, album: AlbumRow, user: UserRow | null): Promise<Access> {
  return albumAccess(kit, request, album, user, await ancestorsOf(kit.ctx.db, album));
}

/**
 * Access to a file follows its album (and the albums above it); a file in no album is public.
 * `openToAll`: anyone at all may see it (no private album above, no password to type), so a
 * page of it may be shared between visitors without asking again (page-cache.ts).
 */
export async function imageAccess(kit: WebKit, request: FastifyRequest, image: ImageRow, user: UserRow | null): Promise<{ access: Access; album: AlbumRow | null; openToAll: boolean }> {
  // Waiting for approval: only its uploader and moderators (docs/MODERATION.md), never a shared cached page.
  if (image.is_approved === 0) {
    if (!isOwnerOrAdmin(user, image.user_id) && !isModerator(user)) return { access: { kind: 'hidden' }, album: null, openToAll: false };
    const album = image.album_id ? (await findAlbumById(kit.ctx.db, image.album_id)) ?? null : null;
    return { access: ALLOWED, album, openToAll: false };
  }
  const album = image.album_id ? (await findAlbumById(kit.ctx.db, image.album_id)) ?? null : null;
  if (!album) return { access: ALLOWED, album: null, openToAll: true };
  const chain = [...(await ancestorsOf(kit.ctx.db, album)), album];
  return {
    access: chainAccess(chain, user, (a) => isUnlocked(kit, request, a)),
    album,
    openToAll: openToAll(chain),
  };
}

/**
 * A file anyone may have, known from its row alone (approved, and listed or in no album): what
 * fileAccess answers first, for callers that want no promise for the common case (media-files.ts).
 */
export function fileIsPublicAtOnce(image: ImageRow): boolean {
  return image.is_approved !== 0 && (image.listed === 1 || image.album_id === null);
}

/**
 * Whether a request may have a file's bytes (media-files.ts): `public` (anyone; caches may
 * share it), `restricted` (this visitor only: the owner, an admin, or who unlocked the album;
 * caches must not share it) or `refused`. Only files of private and password albums cost a
 * lookup; everything listed is public at once.
 */
export async function fileAccess(ctx: AppContext, request: FastifyRequest, image: ImageRow): Promise<'public' | 'restricted' | 'refused'> {
  if (image.is_approved === 0) {
    const user = await getSessionUser(ctx, request);
    return isOwnerOrAdmin(user, image.user_id) || isModerator(user) ? 'restricted' : 'refused';
  }
  if (fileIsPublicAtOnce(image) || image.album_id === null) return 'public';
  const album = await findAlbumById(ctx.db, image.album_id);
  if (!album) return 'public';
  const chain = [...(await ancestorsOf(ctx.db, album)), album];
  if (openToAll(chain)) return 'public';
  const user = await getSessionUser(ctx, request);
  if (isOwnerOrAdmin(user, album.user_id)) return 'restricted';
  const secret = await webSecretOf(ctx);
  return chainAccess(chain, user, (a) => hasUnlockCookie(secret, ctx.ids, request, a)).kind === 'allowed' ? 'restricted' : 'refused';
}
