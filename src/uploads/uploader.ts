import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import { errors, type ShoeboxError } from '../core/errors.js';
import { findUserByApiKey } from '../db/repositories/api-keys.js';
import type { Database } from '../db/schema.js';
import type { Uploader } from '../ingest/ingest-upload.js';

export interface UploaderServices {
  settings: Pick<Settings, 'guestApiKey'>;
  db: Kysely<Database>;
}

/**
 * Who uploads with this API key: the site's guest key is a guest, any other key its user's,
 * an unknown key `invalidKey`. Without a key, a guest when the door's guest rule allows it,
 * else the door's refusal (`noKey` for the API, `signInToUpload` for the web uploader).
 */
export async function uploaderFromKey(
  services: UploaderServices,
  key: string | undefined,
  ip: string,
  withoutKey: { guestsAllowed: boolean; refusal: () => ShoeboxError },
): Promise<Uploader> {
  const trimmed = key?.trim();
  if (!trimmed) {
    if (withoutKey.guestsAllowed) return { user: null, ip };
    throw withoutKey.refusal();
  }
  if (services.settings.guestApiKey && trimmed === services.settings.guestApiKey) return { user: null, ip };
  const user = await findUserByApiKey(services.db, trimmed);
  if (!user) throw errors.invalidKey();
  return { user, ip };
}

/** The `X-API-Key` header, first value, trimmed; undefined when absent or blank. */
export function apiKeyHeader(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers['x-api-key'];
  const key = Array.isArray(value) ? value[0] : value;
  return key?.trim() || undefined;
}
