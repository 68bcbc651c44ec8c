import { durationTime } from '../core/text.js';
import type { AlbumCard } from '../db/repositories/listings.js';
import type { AlbumRow, ImageRow } from '../db/schema.js';
import { objectKey } from '../storage/object-keys.js';
import { previewRoleOf } from '../storage/image-files.js';
import type { WebKit } from './web-kit.js';

/** What a grid tile of a listing shows for a file or an album. */
export interface ImageTile {
  id: number;
  idEncoded: string;
  href: string;
  thumbUrl: string;
  title: string;
  nsfw: boolean;
  isVideo: boolean;
  duration: string;
  /** The owner's user id (selection: only what the visitor may manage gets a checkbox). */
  userId: number | null;
  /** For the lightbox: the medium (when there is one) and the original, and the absolute viewer URL for copy-link. */
  mediumUrl: string | null;
  fullUrl: string;
  viewerUrl: string;
  width: number;
  height: number;
}

export interface AlbumTile {
  href: string;
  name: string;
  thumbUrl: string | null;
  fileCount: number;
  privacy: string;
}

export function thumbUrlOf(kit: WebKit, image: ImageRow): string {
  return kit.ctx.urls.fileUrl(objectKey(image, previewRoleOf(image)));
}

/** `from`: the query naming the listing (`from=album:<id>`, see viewer-page.ts), so the viewer links previous/next within it. */
export function imageTile(kit: WebKit, image: ImageRow, from: string | null = null): ImageTile {
  return {
    id: image.id,
    idEncoded: kit.ctx.ids.encode(image.id),
    href: from ? `${kit.ctx.urls.viewerPath(image)}?${from}` : kit.ctx.urls.viewerPath(image),
    thumbUrl: thumbUrlOf(kit, image),
    title: image.title ?? `${image.name}.${image.extension}`,
    nsfw: image.nsfw === 1,
    isVideo: image.type === 'video',
    duration: durationTime(image.duration),
    userId: image.user_id,
    mediumUrl: image.chain & 2 ? kit.ctx.urls.fileUrl(objectKey(image, 'medium')) : null,
    fullUrl: kit.ctx.urls.fileUrl(objectKey(image, 'image')),
    viewerUrl: kit.ctx.urls.viewerUrl(image),
    width: image.width,
    height: image.height,
  };
}

export function albumPath(kit: WebKit, album: Pick<AlbumRow, 'id'>): string {
  return `${kit.ctx.urls.basePath}/album/${kit.ctx.ids.encode(album.id)}`;
}

export function albumTile(kit: WebKit, card: AlbumCard): AlbumTile {
  return {
    href: albumPath(kit, card.album),
    name: card.album.name,
    thumbUrl: card.cover ? thumbUrlOf(kit, card.cover) : null,
    fileCount: card.fileCount,
    privacy: card.album.privacy,
  };
}
