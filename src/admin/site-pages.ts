import type { Kysely } from 'kysely';
import { deleteSitePage, saveSitePage, type SitePageInput } from '../db/repositories/site-settings.js';
import type { Database, SitePageRow } from '../db/schema.js';
import { recordAdminAction, type AuditWho } from './audit.js';
import type { LiveSite } from './live-settings.js';

/** The site's own pages (/page/<slug>) from the dashboard: saved, applied live on every instance, and audited. */
export interface SitePageServices {
  db: Kysely<Database>;
  live: LiveSite;
}

/** Creates (`existing` null) or edits a page; the caller has checked the input. */
export async function saveSitePageAsAdmin(services: SitePageServices, who: AuditWho, existing: SitePageRow | null, page: SitePageInput): Promise<number> {
  const id = await saveSitePage(services.db, existing?.id ?? null, page);
  await services.live.reload();
  const renamed = existing && existing.slug !== page.slug ? `was /page/${existing.slug}; ` : '';
  await recordAdminAction(services.db, who, existing ? 'page.edit' : 'page.create', `/page/${page.slug}`, `${renamed}${page.title}`);
  return id;
}

export async function deleteSitePageAsAdmin(services: SitePageServices, who: AuditWho, page: SitePageRow): Promise<void> {
  await deleteSitePage(services.db, page.id);
  await services.live.reload();
  await recordAdminAction(services.db, who, 'page.delete', `/page/${page.slug}`, page.title);
}
