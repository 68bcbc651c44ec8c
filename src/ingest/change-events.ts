import type { AlbumRow, ImageRow } from '../db/schema.js';

/**
 * Changes to a user's library, reported from the one place each happens: `ingestUpload`
 * (image.created), `removeImage` (image.deleted) and the edit services of `src/library/`
 * (image.updated, album.*). The webhooks (src/webhooks/) listen and queue deliveries.
 */
export type ChangeEvent =
  | { type: 'image.created' | 'image.updated' | 'image.deleted'; image: ImageRow }
  | { type: 'album.created' | 'album.updated' | 'album.deleted'; album: AlbumRow };

export type ChangeEventName = ChangeEvent['type'];
export const CHANGE_EVENTS: readonly ChangeEventName[] = [
  'image.created', 'image.updated', 'image.deleted', 'album.created', 'album.updated', 'album.deleted',
];

export type ChangeListener = (event: ChangeEvent) => Promise<void>;

/** Listeners per site, known by its database handle (as upload-events.ts), so two sites in one process never mix. */
const listenersBySite = new WeakMap<object, Set<ChangeListener>>();

export function onChange(site: object, listener: ChangeListener): () => void {
  let listeners = listenersBySite.get(site);
  if (!listeners) listenersBySite.set(site, (listeners = new Set()));
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Tells every listener and waits for them (queuing a delivery is one insert), so when the
 * request that made the change answers, its deliveries are queued. A failing listener never
 * fails the change, which has already been committed.
 */
export async function reportChange(site: object, event: ChangeEvent): Promise<void> {
  const listeners = listenersBySite.get(site);
  if (!listeners) return;
  await Promise.all([...listeners].map((listener) => listener(event).catch(() => undefined)));
}
