import type { Page, PageRequest } from '../db/repositories/listings.js';
import { field, type WebKit } from './web-kit.js';

export const PAGE_SIZE = 24;

/** `?before=<id>` / `?after=<id>` (public ids, like every id in a URL) as a page request. */
export function pageRequestOf(kit: WebKit, query: unknown, limit = PAGE_SIZE): PageRequest {
  const before = field(query, 'before');
  const after = field(query, 'after');
  return {
    before: before ? kit.ctx.ids.decode(before) : null,
    after: after ? kit.ctx.ids.decode(after) : null,
    limit,
  };
}

export interface PageLinks {
  newer: string | null;
  older: string | null;
}

/** Links to the pages either side; `path` may already carry a query (`/search?q=cat`). */
export function pageLinks(kit: WebKit, path: string, page: Page<unknown>): PageLinks {
  const join = path.includes('?') ? '&' : '?';
  return {
    newer: page.newerCursor !== null ? `${path}${join}after=${kit.ctx.ids.encode(page.newerCursor)}` : null,
    older: page.olderCursor !== null ? `${path}${join}before=${kit.ctx.ids.encode(page.olderCursor)}` : null,
  };
}
