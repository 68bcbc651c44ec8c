import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import { errors, type ShoeboxError } from '../core/errors.js';
import { secretsEqual } from '../core/secrets.js';
import { authenticateApiKey } from '../db/repositories/named-api-keys.js';
import type { Database } from '../db/schema.js';
import type { Uploader } from '../ingest/ingest-upload.js';

export interface UploaderServices {
  settings: Pick<Settings, 'guestApiKey'>;
  db: Kysely<Database>;
}

/**
 * Who uploads with this API key: the site's guest key is a guest, any other key its user's,
 * an unknown (expired, disabled) key `invalidKey`, a key without the `upload` scope `missingScope`. Without a key, a guest when the door's guest rule allows it,
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
  if (services.settings.guestApiKey && secretsEqual(trimmed, services.settings.guestApiKey)) return { user: null, ip };
  // Any key of the user's that carries the `upload` scope (a named key, or their single key).
  const { user } = await authenticateApiKey(services.db, trimmed, 'upload', ip);
  return { user, ip };
}

/** The `X-API-Key` header, first value, trimmed; undefined when absent or blank. */
export function apiKeyHeader(headers: Record<string, string | string[] | undefined>): string | undefined {
  const value = headers['x-api-key'];
  const key = Array.isArray(value) ? value[0] : value;
  return key?.trim() || undefined;
}
