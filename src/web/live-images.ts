import type { AppContext } from '../context.js';
import { formatUtc } from '../core/dates.js';
import { findImageById, findImageWithTagIds } from '../db/repositories/images.js';
import type { ImageRow } from '../db/schema.js';

/**
 * The files a URL may still show: known and not expired. An expired file is never shown or
 * served, even before the sweep has deleted it (jobs/expiry-sweep.ts).
 */

export function isExpired(image: Pick<ImageRow, 'expires_at'>, now = new Date()): boolean {
  return image.expires_at !== null && image.expires_at <= formatUtc(now);
}

/** `slug.id` or a bare `id` from a viewer path segment. */
export function encodedIdOf(segment: string): string {
  const dot = segment.lastIndexOf('.');
  return dot >= 0 ? segment.slice(dot + 1) : segment;
}

/** The image of a viewer URL segment, unless it is unknown or expired. */
export async function findLiveImage(ctx: AppContext, segment: string): Promise<ImageRow | null> {
  const id = ctx.ids.decode(encodedIdOf(segment));
  if (id === null) return null;
  const image = await findImageById(ctx.db, id);
  return image && !isExpired(image) ? image : null;
}

/** The same, with the ids of its tags (for the page cache's version), in one query. */
export async function findLiveImageWithTagIds(ctx: AppContext, segment: string): Promise<{ image: ImageRow; tagIds: string } | null> {
  const id = ctx.ids.decode(encodedIdOf(segment));
  if (id === null) return null;
  const found = await findImageWithTagIds(ctx.db, ctx.database.dialect, id);
  return found && !isExpired(found.image) ? found : null;
}
