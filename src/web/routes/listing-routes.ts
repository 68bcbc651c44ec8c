import type { FastifyInstance } from 'fastify';
import { findPublicTagByName, listAlbums, listImages, listImagesWithTag, MIN_TITLE_SEARCH } from '../../db/repositories/listings.js';
import { findUserByUsername } from '../../db/repositories/users.js';
import { albumTile, imageTile } from '../cards.js';
import { pageLinks, pageRequestOf } from '../pagination.js';
import { field, renderError, renderPage, sitePath, visitorOf, type WebKit } from '../web-kit.js';

const MAX_QUERY = 100;

/** The home page, explore, tag pages, search and user profiles: public files, newest first, a page at a time. */
export async function registerListingRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  app.get('/', async (request, reply) => {
    const { t } = visitorOf(request);
    const page = await listImages(ctx.db, { kind: 'explore' }, pageRequestOf(kit, {}));
    return renderPage(kit, request, reply, 'home', {
      title: t('home.title'),
      files: page.items.map((image) => imageTile(kit, image)),
      links: pageLinks(kit, sitePath(kit, '/explore'), page),
      apiUrl: ctx.urls.absolute('/api/1/upload'),
    });
  });

  app.get('/explore', async (request, reply) => {
    const { t } = visitorOf(request);
    const page = await listImages(ctx.db, { kind: 'explore' }, pageRequestOf(kit, request.query));
    return renderPage(kit, request, reply, 'listing', {
      title: t('explore.title'),
      heading: t('explore.title'),
      files: page.items.map((image) => imageTile(kit, image)),
      links: pageLinks(kit, sitePath(kit, '/explore'), page),
      empty: t('explore.empty'),
    });
  });

  app.get<{ Params: { name: string } }>('/tag/:name', async (request, reply) => {
    const { t } = visitorOf(request);
    const tag = await findPublicTagByName(ctx.db, request.params.name);
    if (!tag) return renderError(kit, request, reply, 404, 'tag.unknown');
    const page = await listImagesWithTag(ctx.db, tag.id, pageRequestOf(kit, request.query));
    return renderPage(kit, request, reply, 'listing', {
      title: t('tag.title', { tag: tag.name }),
      heading: t('tag.title', { tag: tag.name }),
      files: page.items.map((image) => imageTile(kit, image)),
      links: pageLinks(kit, sitePath(kit, `/tag/${encodeURIComponent(tag.name)}`), page),
      empty: t('explore.empty'),
    });
  });

  app.get('/search', async (request, reply) => {
    const { t } = visitorOf(request);
    const query = field(request.query, 'q').trim().slice(0, MAX_QUERY);
    const page = query ? await listImages(ctx.db, { kind: 'search', text: query }, pageRequestOf(kit, request.query)) : null;
    return renderPage(kit, request, reply, 'listing', {
      title: query ? t('search.title', { query }) : t('search.heading'),
      heading: query ? t('search.title', { query }) : t('search.heading'),
      query,
      files: page ? page.items.map((image) => imageTile(kit, image)) : [],
      links: page ? pageLinks(kit, sitePath(kit, `/search?q=${encodeURIComponent(query)}`), page) : { newer: null, older: null },
      empty: query ? t('search.empty') : t('search.hint'),
      showSearchForm: true,
      // 1–2 characters match whole tag names only (trigram indexes need 3): say so, found or not.
      searchNote: query && [...query].length < MIN_TITLE_SEARCH ? t('search.short', { count: MIN_TITLE_SEARCH }) : null,
    });
  });

  app.get<{ Params: { username: string } }>('/:username', async (request, reply) => {
    const { user: visitor, t } = visitorOf(request);
    const profile = await findUserByUsername(ctx.db, request.params.username);
    if (!profile) return renderError(kit, request, reply, 404, 'error.not-found');
    const isOwner = visitor !== null && (visitor.id === profile.id || visitor.is_admin === 1);
    const tab = field(request.query, 'tab') === 'albums' ? 'albums' : 'files';
    const base = sitePath(kit, `/${profile.username}`);
    const data = {
      title: profile.username,
      profile: { username: profile.username, since: profile.created_at, href: base },
      isOwner,
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
    const page = await listImages(ctx.db, { kind: 'user', userId: profile.id, includeUnlisted: isOwner }, pageRequestOf(kit, request.query));
    return renderPage(kit, request, reply, 'profile', {
      ...data,
      albums: [],
      files: page.items.map((image) => imageTile(kit, image)),
      links: pageLinks(kit, base, page),
      empty: t('profile.no-files'),
    });
  });
}
