import type { Kysely } from 'kysely';
import { applyEditable, resolveSettings } from '../config/runtime-settings.js';
import type { Settings } from '../config/settings.js';
import { listSitePages, readSiteAssets, readStoredSettings, settingsVersion, type SiteAsset } from '../db/repositories/site-settings.js';
import type { Database } from '../db/schema.js';

/**
 * What the dashboard changes while the site runs, as every instance sees it: the settings
 * (applied in place to the shared Settings object), the logo and favicon, and the footer's
 * pages. Each instance polls `variables.settings_version` (one indexed read) every
 * POLL_MS and reloads when it changed, so a change made on one instance shows on all within
 * a few seconds, without a restart.
 */
export const POLL_MS = 2000;

export interface FooterPage {
  slug: string;
  title: string;
}

export class LiveSite {
  version = '';
  assets = new Map<string, SiteAsset>();
  footerPages: FooterPage[] = [];
  /** The last stored settings that did not apply (e.g. after an environment change), for the dashboard. */
  problem: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Kysely<Database>, readonly settings: Settings, private readonly onError: (error: unknown) => void = () => {}) {}

  /** Reads everything now. */
  async reload(): Promise<void> {
    const version = await settingsVersion(this.db);
    const [stored, assets, pages] = await Promise.all([readStoredSettings(this.db), readSiteAssets(this.db), listSitePages(this.db)]);
    try {
      applyEditable(this.settings, resolveSettings(this.settings, stored));
      this.problem = null;
    } catch (error) {
      // A stored value that no longer parses (the dashboard never saves one): keep what runs.
      this.problem = (error as Error).message;
      this.onError(error);
    }
    this.assets = new Map(assets.map((a) => [a.name, a]));
    this.footerPages = pages.filter((p) => p.in_footer === 1).map((p) => ({ slug: p.slug, title: p.title }));
    this.version = version;
  }

  /** Reloads when another instance (or this one) changed something. */
  async check(): Promise<boolean> {
    if ((await settingsVersion(this.db)) === this.version) return false;
    await this.reload();
    return true;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.check().catch(this.onError);
    }, POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
