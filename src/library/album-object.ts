import type { SiteUrls } from '../core/site-urls.js';
import type { AlbumRow } from '../db/schema.js';

/**
 * The album object of the management API and the webhooks: ids encoded as everywhere in the
 * API (`id_encoded`), never the password hash. Shared by every door, owned by none.
 */
export function buildAlbumObject(album: AlbumRow, urls: SiteUrls, extra: { image_count?: number } = {}) {
  return {
    id_encoded: urls.ids.encode(album.id),
    name: album.name,
    description: album.description,
    privacy: album.privacy as 'public' | 'private' | 'unlisted' | 'password',
    parent_id_encoded: album.parent_id === null ? null : urls.ids.encode(album.parent_id),
    cover_id_encoded: album.cover_image_id === null ? null : urls.ids.encode(album.cover_image_id),
    date_gmt: album.created_at,
    url: urls.albumUrl(album.id),
    ...(extra.image_count !== undefined ? { image_count: extra.image_count } : {}),
  };
}

export type AlbumObject = ReturnType<typeof buildAlbumObject>;
