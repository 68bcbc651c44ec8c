import type { FastifyInstance } from 'fastify';
import { countListing } from '../../db/repositories/browse.js';
import { COUNT_CAP, countText } from './browse-routes.js';
import { countSearch, findPublicTagByName, isCjkPair, listAlbums, listImages, listImagesWithTag, MIN_TITLE_SEARCH } from '../../db/repositories/listings.js';
import { findUserByUsername } from '../../db/repositories/users.js';
import { findCategoryBySlug } from '../../db/repositories/categories.js';
import { listAllAlbumsOfUser } from '../../db/repositories/album-edits.js';
import type { ImageRow, UserRow } from '../../db/schema.js';
import { bulkBarFor, markSelectable } from '../bulk-selection.js';
import { albumTile, imageTile } from '../cards.js';
import { viewerFromOf } from './viewer-page.js';
import { pageLinks, pageRequestOf } from '../pagination.js';
import { checkKeptPage, field, pageCacheKey, publicUrlOf, renderError, renderPage, sendFreshPage, sitePath, visitorOf, type WebKit } from '../web-kit.js';
import { localChangeCount } from '../page-cache.js';
import { countProfileContent } from '../../db/repositories/profiles.js';
import { publicProfileOf } from '../accounts/profile-routes.js';

const MAX_QUERY = 100;

/** The home page, explore, tag pages, search and user profiles: public files, newest first, a page at a time. */
export async function registerListingRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  /**
   * Tiles of a listing, with a checkbox on those the signed-in visitor may manage, and the
   * bulk bar when there is one (albums offered: `albumOwnerId`'s, else the visitor's own).
   * Visitors without an account get the plain tiles: no query more than before.
   */
  async function selectableTiles(user: UserRow | null, items: ImageRow[], returnTo: string, albumOwnerId: number | null = null, from: string | null = null) {
    const files = markSelectable(items.map((image) => imageTile(kit, image, from)), user);
    if (!user || !files.some((f) => f.selectable)) return { files, bulk: null };
    return { files, bulk: bulkBarFor(kit, returnTo, await listAllAlbumsOfUser(ctx.db, albumOwnerId ?? user.id)) };
  }

  app.get('/', async (request, reply) => {
    const { t } = visitorOf(request);
    // Kept in the page cache, checked against the newest files (page-cache.ts).
    const key = pageCacheKey(kit, request, 'home');
    const recent = sendFreshPage(kit, request, reply, key);
    if (recent) return recent;
    const changesBefore = localChangeCount();
    const page = await listImages(ctx.db, { kind: 'explore' }, pageRequestOf(kit, {}));
    const kept = checkKeptPage(kit, request, reply, key, changesBefore, [page.items, page.newerCursor, page.olderCursor]);
    if (kept.sent) return kept.sent;
    return renderPage(kit, request, reply, 'home', {
      title: t('home.title'),
      files: page.items.map((image) => imageTile(kit, image)),
      links: pageLinks(kit, sitePath(kit, '/explore'), page),
      apiUrl: ctx.urls.absolute('/api/1/upload'),
    }, 200, kept.keep);
  });

  // /explore and /tags: browse-routes.ts.

  app.get<{ Params: { name: string } }>('/tag/:name', async (request, reply) => {
    const { t, user } = visitorOf(request);
    const tag = await findPublicTagByName(ctx.db, request.params.name);
    if (!tag) return renderError(kit, request, reply, 404, 'tag.unknown');
    const [page, total] = await Promise.all([
      listImagesWithTag(ctx.db, tag.id, pageRequestOf(kit, request.query)),
      countListing(ctx.db, { kind: 'tag', tagId: tag.id }, COUNT_CAP),
    ]);
    return renderPage(kit, request, reply, 'listing', {
      title: t('tag.title', { tag: tag.name }),
      heading: t('tag.title', { tag: tag.name }),
      total: { n: total, text: countText((n) => visitorOf(request).formats.count(n), total) },
      ...(await selectableTiles(user, page.items, publicUrlOf(kit, request))),
      links: pageLinks(kit, sitePath(kit, `/tag/${encodeURIComponent(tag.name)}`), page),
      empty: t('explore.empty'),
    });
  });

  // Chevereto's category URL: /category/<url_key>, the category's public files newest first.
  app.get<{ Params: { slug: string } }>('/category/:slug', async (request, reply) => {
    const { t, user, formats } = visitorOf(request);
    const category = await findCategoryBySlug(ctx.db, request.params.slug);
    if (!category) return renderError(kit, request, reply, 404, 'categories.unknown');
    const listing = { kind: 'explore' as const, categoryId: category.id };
    const [page, total] = await Promise.all([
      listImages(ctx.db, listing, pageRequestOf(kit, request.query)),
      countListing(ctx.db, listing, COUNT_CAP),
    ]);
    return renderPage(kit, request, reply, 'listing', {
      title: t('categories.page-title', { name: category.name }),
      heading: category.name,
      intro: category.description,
      total: { n: total, text: countText((n) => formats.count(n), total) },
      ...(await selectableTiles(user, page.items, publicUrlOf(kit, request))),
      links: pageLinks(kit, sitePath(kit, `/category/${encodeURIComponent(category.url_key)}`), page),
      empty: t('categories.empty'),
    });
  });

  app.get('/search', async (request, reply) => {
    const { t, user, formats } = visitorOf(request);
    const query = field(request.query, 'q').trim().slice(0, MAX_QUERY);
    const typeText = field(request.query, 'type');
    const type = typeText === 'image' || typeText === 'video' ? typeText : undefined;
    const [page, found] = query
      ? await Promise.all([
        listImages(ctx.db, { kind: 'search', text: query, type }, pageRequestOf(kit, request.query)),
        countSearch(ctx.db, query, COUNT_CAP, type),
      ])
      : [null, 0];
    return renderPage(kit, request, reply, 'listing', {
      title: query ? t('search.title', { query }) : t('search.heading'),
      heading: query ? t('search.title', { query }) : t('search.heading'),
      query,
      ...(await selectableTiles(user, page ? page.items : [], publicUrlOf(kit, request))),
      links: page ? pageLinks(kit, sitePath(kit, `/search?q=${encodeURIComponent(query)}${type ? `&type=${type}` : ''}`), page) : { newer: null, older: null },
      searchType: type ?? '',
      resultCount: query ? t('search.count', { count: found, formatted: countText((n) => formats.count(n), found) }) : null,
      empty: query ? t('search.empty') : t('search.hint'),
      showSearchForm: true,
      // 1–2 characters match whole tag names only (trigram indexes need 3): say so, found or not.
      searchNote: query && [...query].length < MIN_TITLE_SEARCH && !isCjkPair(query) ? t('search.short', { count: MIN_TITLE_SEARCH }) : null,
    });
  });

  app.get<{ Params: { username: string } }>('/:username', async (request, reply) => {
    const { user: visitor, t } = visitorOf(request);
    const profile = await findUserByUsername(ctx.db, request.params.username);
    if (!profile) return renderError(kit, request, reply, 404, 'error.not-found');
    const isOwner = visitor !== null && (visitor.id === profile.id || visitor.is_admin === 1);
    // A private profile (brought over from Chevereto, users.is_private) is not there for anyone else.
    if (profile.is_private === 1 && !isOwner) return renderError(kit, request, reply, 404, 'error.not-found');
    const tab = field(request.query, 'tab') === 'albums' ? 'albums' : 'files';
    const base = sitePath(kit, `/${profile.username}`);
    const data = {
      title: profile.username,
      profile: { username: profile.username, since: profile.created_at, href: base, ...publicProfileOf(kit, profile) },
      counts: await countProfileContent(ctx.db, profile.id, isOwner),
      isOwner,
      // "New album" makes an album for whoever is signed in: only on their own profile.
      isOwnProfile: visitor !== null && visitor.id === profile.id,
      tab,
      tabs: { files: base, albums: `${base}?tab=albums` },
    };
    if (tab === 'albums') {
      const page = await listAlbums(ctx.db, { kind: 'user', userId: profile.id, includeHidden: isOwner }, pageRequestOf(kit, request.query));
      return renderPage(kit, request, reply, 'profile', {
        ...data,
        albums: page.items.map((card) => albumTile(kit, card)),
        files: [],
        links: pageLinks(kit, `${base}?tab=albums`, page),
        empty: t('profile.no-albums'),
      });
    }
    const [page, total] = await Promise.all([
      listImages(ctx.db, { kind: 'user', userId: profile.id, includeUnlisted: isOwner }, pageRequestOf(kit, request.query)),
      countListing(ctx.db, { kind: 'user', userId: profile.id, includeUnlisted: isOwner }, COUNT_CAP),
    ]);
    return renderPage(kit, request, reply, 'profile', {
      ...data,
      albums: [],
      total: { n: total, text: countText((n) => visitorOf(request).formats.count(n), total) },
      ...(await selectableTiles(visitor, page.items, publicUrlOf(kit, request), profile.id, viewerFromOf('user', profile.username))),
      links: pageLinks(kit, base, page),
      empty: t('profile.no-files'),
    });
  });
}
