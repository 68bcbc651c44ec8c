import { randomUUID, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import { formatUtc } from '../core/dates.js';
import type { SiteUrls } from '../core/site-urls.js';
import { findTagsOfImage } from '../db/repositories/images.js';
import { findUserById } from '../db/repositories/users.js';
import { hooksFor, queueDeliveries } from '../db/repositories/webhooks.js';
import type { Database } from '../db/schema.js';
import { onChange, type ChangeEvent } from '../ingest/change-events.js';
import { buildAlbumObject } from '../library/album-object.js';
import { buildImageObject, type ResponseContext } from '../uploads/image-object.js';

/** How long a delivery is retried before it is given up. */
export const RETRY_FOR_SECONDS = 86_400;

export interface WebhookServices {
  db: Kysely<Database>;
  settings: ResponseContext['settings'] & Pick<Settings, 'allowPrivateUrls' | 'urlFetchTimeoutMs'>;
  urls: SiteUrls;
}

/** A new hook's signing secret: shown to its owner, sent with nothing. */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

/** The JSON body of a delivery (its bytes are what the signature covers). */
export async function payloadOf(services: WebhookServices, event: ChangeEvent, now: Date) {
  const ownerId = 'image' in event ? event.image.user_id : event.album.user_id;
  const owner = ownerId === null ? undefined : await findUserById(services.db, ownerId);
  const data =
    'image' in event
      ? {
          image: buildImageObject(
            event.image,
            event.type === 'image.deleted' ? [] : await findTagsOfImage(services.db, event.image.id),
            null,
            { settings: services.settings, urls: services.urls, now },
          ),
          album_id_encoded: event.image.album_id === null ? null : services.urls.ids.encode(event.image.album_id),
        }
      : { album: buildAlbumObject(event.album, services.urls) };
  return {
    id: randomUUID(),
    event: event.type,
    created_at: formatUtc(now),
    user: owner ? { username: owner.username } : null,
    data,
  };
}

/** Queues one delivery per hook that listens (the owner's, and the site-wide ones). */
export async function queueChange(services: WebhookServices, event: ChangeEvent, now = new Date()): Promise<number> {
  const ownerId = 'image' in event ? event.image.user_id : event.album.user_id;
  const hooks = await hooksFor(services.db, event.type, ownerId);
  if (hooks.length === 0) return 0;
  const payload = JSON.stringify(await payloadOf(services, event, now));
  const giveUpAt = new Date(now.getTime() + RETRY_FOR_SECONDS * 1000);
  await queueDeliveries(services.db, hooks.map((hook) => ({ webhookId: hook.id, event: event.type, payload, now, giveUpAt })));
  return hooks.length;
}

/**
 * Listens to the site's changes and queues their deliveries. `afterQueue` (the server's
 * prompt delivery) runs once something was queued.
 */
export function listenForChanges(services: WebhookServices, afterQueue?: () => void): () => void {
  return onChange(services.db, async (event) => {
    if ((await queueChange(services, event)) > 0) afterQueue?.();
  });
}
