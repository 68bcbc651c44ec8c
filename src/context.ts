import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Settings } from './config/settings.js';
import { LiveSite } from './admin/live-settings.js';
import { PublicIdCodec } from './core/public-id.js';
import { SiteUrls } from './core/site-urls.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { migrateToLatest } from './db/migrate.js';
import { loadSiteSecrets } from './db/repositories/variables.js';
import type { Database } from './db/schema.js';
import { createMailer, mailSenderOf, type Mailer } from './mail/mailer.js';
import { resolveMediaBinaries, type MediaBinaries } from './media/binaries.js';
import { Moderation } from './moderation/moderation.js';
import { createHitCounter } from './shared-state/create-hit-counter.js';
import type { HitCounter } from './shared-state/hit-counter.js';
import { createStorage } from './storage/create-storage.js';
import type { Storage } from './storage/storage.js';

/** Everything a running Shoebox shares between its front doors (server, CLI, jobs). */
export interface AppContext {
  settings: Settings;
  database: DatabaseHandle;
  db: Kysely<Database>;
  storage: Storage;
  ids: PublicIdCodec;
  urls: SiteUrls;
  hits: HitCounter;
  binaries: MediaBinaries;
  /** Bans, flood limits, stop words and the takedown blocklist (src/moderation/). */
  moderation: Moderation;
  /** Settings, logo, favicon and pages changed in the dashboard, kept current on every instance (admin/live-settings.ts). */
  live: LiveSite;
  /** Outgoing email (mail/mailer.ts); `enabled` is false without SHOEBOX_SMTP_URL. */
  mailer: Mailer;
  close(): Promise<void>;
}

export async function createAppContext(settings: Settings, options: { migrate?: boolean } = {}): Promise<AppContext> {
  await mkdir(path.join(settings.dataDir, 'tmp'), { recursive: true });
  const database = openDatabase(settings.databaseUrl);
  try {
    if (options.migrate !== false) await migrateToLatest(database);
    const secrets = await loadSiteSecrets(database.db, { cryptSalt: settings.cryptSalt, idPadding: settings.idPadding });
    const ids = new PublicIdCodec(secrets.cryptSalt, secrets.idPadding);
    // Settings stored by the dashboard apply before anything reads them.
    const live = new LiveSite(database.db, settings);
    if (options.migrate !== false) await live.reload();
    const storage = await createStorage(settings);
    const hits = await createHitCounter(settings);
    const mailer = createMailer({ smtpUrl: settings.smtpUrl, from: () => mailSenderOf(settings) });
    return {
      settings,
      database,
      db: database.db,
      storage,
      ids,
      urls: new SiteUrls(settings, ids),
      hits,
      binaries: resolveMediaBinaries({ ffmpegPath: settings.ffmpegPath, ffprobePath: settings.ffprobePath }),
      moderation: new Moderation(database.db, hits, settings),
      live,
      mailer,
      async close() {
        live.stop();
        mailer.close();
        await hits.close();
        await storage.close();
        await database.close();
      },
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}
