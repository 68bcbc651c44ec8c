import type { FastifyInstance } from 'fastify';
import { listAllAlbumsOfUser } from '../../db/repositories/album-edits.js';
import { countListing, listPopular, listPublicAlbums, listRandom, mostUsedTags, type PopularCursor } from '../../db/repositories/browse.js';
import { listImages, type MediaType } from '../../db/repositories/listings.js';
import { findCategoryBySlug, listCategories } from '../../db/repositories/categories.js';
import type { ImageRow, UserRow } from '../../db/schema.js';
import { bulkBarFor, markSelectable } from '../bulk-selection.js';
import { albumTile, imageTile } from '../cards.js';
import { PAGE_SIZE, pageLinks, pageRequestOf } from '../pagination.js';
import { field, publicUrlOf, renderPage, sitePath, visitorOf, type WebKit } from '../web-kit.js';

/** Counts stop here; past it a listing says "1,000+". */
export const COUNT_CAP = 1000;
const TAGS_SHOWN = 200;

export const EXPLORE_SORTS = ['recent', 'popular', 'random'] as const;
export const EXPLORE_TYPES = ['all', 'image', 'video', 'albums'] as const;
type Sort = (typeof EXPLORE_SORTS)[number];
type Kind = (typeof EXPLORE_TYPES)[number];

function oneOf<T extends string>(value: string, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly string[]).includes(value) ? (value as T) : fallback;
}

/** `<views>.<public id>`: a place in the popular tab (`?before=` / `?after=`); null when it is not one. */
function popularCursorOfText(text: string, decode: (id: string) => number | null): PopularCursor | null {
  const match = /^(\d{1,15})\.([A-Za-z0-9]{1,32})$/.exec(text);
  if (!match) return null;
  const id = decode(match[2]);
  return id === null ? null : { views: Number(match[1]), id };
}

/** A count as the page shows it: "1,234" or "1,000+". */
export function countText(formatted: (n: number) => string, n: number): string {
  return n > COUNT_CAP ? `${formatted(COUNT_CAP)}+` : formatted(n);
}

/** Explore with its tabs (recent, popular by views, random; all, images, videos, albums) and /tags. */
export async function registerBrowseRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const popularCursorOf = (text: string) => popularCursorOfText(text, (id) => ctx.ids.decode(id));

  async function tilesFor(user: UserRow | null, items: ImageRow[], returnTo: string) {
    // Explore shows everyone's files: only an admin gets checkboxes there.
    const admin = user?.is_admin === 1 ? user : null;
    const files = markSelectable(items.map((image) => imageTile(kit, image)), admin);
    if (!admin || files.length === 0) return { files, bulk: null };
    return { files, bulk: bulkBarFor(kit, returnTo, await listAllAlbumsOfUser(ctx.db, admin.id)) };
  }

  app.get('/explore', async (request, reply) => {
    const { t, user, formats } = visitorOf(request);
    const sort = oneOf<Sort>(field(request.query, 'sort'), EXPLORE_SORTS, 'recent');
    const kind = oneOf<Kind>(field(request.query, 'type'), EXPLORE_TYPES, 'all');
    const type: MediaType | undefined = kind === 'image' || kind === 'video' ? kind : undefined;
    const base = sitePath(kit, '/explore');
    // The category filter (`?category=<url_key>`): files only, along images_category_listed_id.
    const categories = await listCategories(ctx.db);
    const category = field(request.query, 'category') ? await findCategoryBySlug(ctx.db, field(request.query, 'category')) : undefined;
    const categoryId = category?.id;
    const urlOf = (s: Sort, k: Kind) => {
      const params = new URLSearchParams();
      if (s !== 'recent') params.set('sort', s);
      if (k !== 'all') params.set('type', k);
      if (category && k !== 'albums') params.set('category', category.url_key);
      const query = params.toString();
      return query ? `${base}?${query}` : base;
    };
    const here = urlOf(sort, kind);
    const tabs = {
      sorts: EXPLORE_SORTS.map((s) => ({ id: s, label: t(`explore.sort.${s}`), href: urlOf(s, kind), current: s === sort })),
      types: EXPLORE_TYPES.map((k) => ({ id: k, label: t(`explore.type.${k}`), href: urlOf(k === 'albums' ? 'recent' : sort, k), current: k === kind })),
    };
    const categoryFilter = categories.length === 0 || kind === 'albums' ? null : {
      action: base,
      sort: sort === 'recent' ? '' : sort,
      type: kind === 'all' ? '' : kind,
      current: category?.url_key ?? '',
      options: categories.map((c) => ({ value: c.url_key, label: c.name })),
    };
    const common = { title: t('explore.title'), heading: category ? t('categories.explore-heading', { name: category.name }) : t('explore.title'), exploreTabs: tabs, categoryFilter, empty: t('explore.empty') };

    if (kind === 'albums') {
      const before = field(request.query, 'before');
      const [page, total] = await Promise.all([
        listPublicAlbums(ctx.db, before ? ctx.ids.decode(before) : null, PAGE_SIZE),
        countListing(ctx.db, { kind: 'albums' }, COUNT_CAP),
      ]);
      return renderPage(kit, request, reply, 'listing', {
        ...common,
        files: [],
        albums: page.items.map((card) => albumTile(kit, card)),
        albumTotal: { n: total, text: countText((n) => formats.count(n), total) },
        links: { newer: null, older: page.olderCursor !== null ? `${here}${here.includes('?') ? '&' : '?'}before=${ctx.ids.encode(page.olderCursor)}` : null },
      });
    }
    // Popular and random draw from the same public files as recent: the same total (counted beside the page's query).
    const counting = countListing(ctx.db, { kind: 'explore', type, categoryId }, COUNT_CAP);
    const totalOf = async () => {
      const total = await counting;
      return { n: total, text: countText((n) => formats.count(n), total) };
    };
    if (sort === 'popular') {
      const page = await listPopular(ctx.db, { before: popularCursorOf(field(request.query, 'before')), after: popularCursorOf(field(request.query, 'after')), limit: PAGE_SIZE }, type, new Date(), categoryId);
      const join = here.includes('?') ? '&' : '?';
      const cursorText = (c: PopularCursor) => `${c.views}.${ctx.ids.encode(c.id)}`;
      return renderPage(kit, request, reply, 'listing', {
        ...common,
        ...(await tilesFor(user, page.items, publicUrlOf(kit, request))),
        total: await totalOf(),
        links: {
          newer: page.newerCursor ? `${here}${join}after=${cursorText(page.newerCursor)}` : null,
          older: page.olderCursor ? `${here}${join}before=${cursorText(page.olderCursor)}` : null,
        },
      });
    }
    if (sort === 'random') {
      const items = await listRandom(ctx.db, PAGE_SIZE, type, new Date(), categoryId);
      // Another random page: the same link again.
      reply.header('Cache-Control', 'no-store');
      return renderPage(kit, request, reply, 'listing', { ...common, ...(await tilesFor(user, items, here)), total: await totalOf(), links: { newer: null, older: null }, again: here });
    }
    const page = await listImages(ctx.db, { kind: 'explore', type, categoryId }, pageRequestOf(kit, request.query));
    return renderPage(kit, request, reply, 'listing', {
      ...common,
      ...(await tilesFor(user, page.items, publicUrlOf(kit, request))),
      links: pageLinks(kit, here, page),
      total: await totalOf(),
    });
  });

  app.get('/tags', async (request, reply) => {
    const { t, formats } = visitorOf(request);
    // A read of the first TAGS_SHOWN entries of an index over running counts (0019_tag_use_counts): asked each time.
    const tags = await mostUsedTags(ctx.db, TAGS_SHOWN);
    const most = tags[0]?.uses ?? 1;
    return renderPage(kit, request, reply, 'tags', {
      title: t('tags.title'),
      tags: tags.map((tag) => ({
        name: tag.name,
        href: sitePath(kit, `/tag/${encodeURIComponent(tag.name)}`),
        uses: t('tags.uses', { count: tag.uses, formatted: formats.count(tag.uses) }),
        // Five sizes, by use relative to the most used.
        size: 1 + Math.min(4, Math.floor((Math.log(tag.uses) / Math.log(Math.max(most, 2))) * 4)),
      })).sort((a, b) => a.name.localeCompare(b.name)),
    });
  });
}
