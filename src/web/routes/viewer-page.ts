import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkTagsText, checkTextLength, TEXT_LIMITS } from '../../core/text-limits.js';
import { buildImageObject, type ImageObject } from '../../uploads/image-object.js';
import { parseUtc } from '../../core/dates.js';
import { decodeUriComponentOrNull } from '../../core/uri.js';
import { listCategories } from '../../db/repositories/categories.js';
import { findAlbumById } from '../../db/repositories/albums.js';
import { listAllAlbumsOfUser, setAlbumCover } from '../../db/repositories/album-edits.js';
import { isModerator } from '../../moderation/moderation.js';
import { editImage } from '../../library/image-edits.js';
import { findImageById, findTagsOfImage } from '../../db/repositories/images.js';
import { findUserById, findUserByUsername } from '../../db/repositories/users.js';
import { neighboursIn, type ViewerContext } from '../../db/repositories/listings.js';
import type { AlbumRow, ImageRow } from '../../db/schema.js';
import { parseTags } from '../../ingest/ingest-upload.js';
import { truncateTitle } from '../../ingest/naming.js';
import { removeImage } from '../../ingest/remove-image.js';
import { imageAccess, isOwnerOrAdmin, type Access } from '../access.js';
import { albumPath } from '../cards.js';
import { encodedIdOf, findLiveImage, findLiveImageWithTagIds } from '../live-images.js';
import { VIEWER_ROUTE_SEGMENTS } from '../live-routes.js';
import { localChangeCount, type PageFacts } from '../page-cache.js';
import { buildEmbedCodes } from '../embed-codes.js';
import { qrSvgOf } from '../share.js';
import { exifSummaryOf } from '../exif-summary.js';
import { csrfAttributeFor, field, publicUrlOf, redirectTo, redirectWithNotice, renderError, renderPage, sendPage, visitorOf, type WebKit } from '../web-kit.js';
import { formRoute } from '../form-schemas.js';


export function imageObjectOf(kit: WebKit, image: ImageRow, tags: Awaited<ReturnType<typeof findTagsOfImage>>): ImageObject {
  return buildImageObject(image, tags, null, { settings: kit.ctx.settings, urls: kit.ctx.urls });
}

/** The password form of a password-protected album, shown in place of the album or one of its files. */
export function renderPasswordPage(kit: WebKit, request: FastifyRequest, reply: FastifyReply, album: AlbumRow, error: string | null, status = 403) {
  const { t } = visitorOf(request);
  return renderPage(kit, request, reply, 'album-password', {
    title: t('album.locked-title'),
    action: `${albumPath(kit, album)}/unlock`,
    returnTo: request.method === 'GET' ? publicUrlOf(kit, request) : albumPath(kit, album),
    error,
    noindex: true,
  }, status);
}

/** Sends the page that fits an access refusal; null when access is allowed. */
export function refuse(kit: WebKit, request: FastifyRequest, reply: FastifyReply, access: Access) {
  if (access.kind === 'allowed') return null;
  if (access.kind === 'password') return renderPasswordPage(kit, request, reply, access.album, null);
  return renderError(kit, request, reply, 404, 'error.not-found');
}

/** Previous/next on a viewer page: plain links, computed by the server within the listing the page was opened from. */
export interface ViewerNav {
  prev: { href: string; title: string } | null;
  next: { href: string; title: string } | null;
  /** The listing, to go back to it. */
  listing: { href: string; label: string };
}

/** `?from=album:<id>` or `?from=user:<name>`: the value the tiles of an album or a profile link with. */
export function viewerFromOf(kind: 'album' | 'user', key: string): string {
  return `from=${encodeURIComponent(`${kind}:${key}`)}`;
}

/**
 * The listing named by `?from=`, when this file is in it and the visitor may see that listing
 * the way its page shows it (the same filters: a profile's unlisted files only for its owner or
 * an admin, an album's waiting files only for their uploader or a moderator); else null.
 */
async function viewerNavOf(kit: WebKit, request: FastifyRequest, image: ImageRow, album: AlbumRow | null): Promise<ViewerNav | null> {
  const { ctx } = kit;
  const { user, t } = visitorOf(request);
  const from = field(request.query, 'from');
  const colon = from.indexOf(':');
  if (colon < 1) return null;
  const kind = from.slice(0, colon);
  const key = from.slice(colon + 1);
  let listing: ViewerContext;
  let back: ViewerNav['listing'];
  if (kind === 'album') {
    // The file's own album (its access was checked with the file): any other album is not where it is.
    if (!album || ctx.ids.encode(album.id) !== key) return null;
    listing = { kind: 'album', albumId: album.id, waitingOf: isModerator(user) ? 'all' : user?.id ?? null };
    back = { href: albumPath(kit, album), label: t('viewer.context-album', { name: album.name }) };
  } else if (kind === 'user') {
    const profile = image.user_id === null ? undefined : await findUserByUsername(ctx.db, key);
    if (!profile || profile.id !== image.user_id) return null;
    const isOwner = isOwnerOrAdmin(user, profile.id);
    if (profile.is_private === 1 && !isOwner) return null;
    // A file the profile does not list (in a private album) has no place among the visitor's neighbours.
    if (!isOwner && image.listed !== 1) return null;
    listing = { kind: 'user', userId: profile.id, includeUnlisted: isOwner };
    back = { href: `${ctx.urls.basePath}/${profile.username}`, label: t('viewer.context-profile', { name: profile.username }) };
  } else {
    return null;
  }
  const query = viewerFromOf(kind, key);
  const { newer, older } = await neighboursIn(ctx.db, listing, image.id);
  const link = (row: ImageRow | null) => (row ? { href: `${ctx.urls.viewerPath(row)}?${query}`, title: row.title ?? `${row.name}.${row.extension}` } : null);
  return { prev: link(newer), next: link(older), listing: back };
}

export async function registerViewerPage(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  // SHOEBOX_IMAGE_ROUTE / SHOEBOX_VIDEO_ROUTE as they are now reach these two (live-routes.ts).
  const routes = VIEWER_ROUTE_SEGMENTS;

  /** The file of a form post, when the visitor may change it. */
  async function ownedImage(request: FastifyRequest<{ Params: { segment: string } }>) {
    const { user } = visitorOf(request);
    const image = await findLiveImage(ctx, request.params.segment);
    if (!image || !isOwnerOrAdmin(user, image.user_id)) return null;
    return image;
  }

  for (const route of routes) {
    app.get<{ Params: { segment: string }; Querystring: { deleted?: string } }>(`/${route}/:segment`, async (request, reply) => {
      const visitor = visitorOf(request);
      const { user, t, formats } = visitor;
      // The plain URL (no notice) is rendered once per visitor kind and kept (page-cache.ts): visitors
      // without a session share one copy per language and NSFW choice; a signed-in person has their
      // own (their menu, the owner's tools), with their session's CSRF token put in per response.
      // Its version is the rows the page shows, read on this request: any edit, move or tag change,
      // on any instance, gives a new version.
      const cacheable = kit.pages.enabled && (user !== null || visitor.session === null) && !request.url.includes('?');
      const requestedPath = decodeUriComponentOrNull(publicUrlOf(kit, request).split('?')[0]);
      if (requestedPath === null) return renderError(kit, request, reply, 404, 'error.not-found');
      const csrf = () => csrfAttributeFor(request, reply);
      const keyOf = (imageId: number) => `${imageId}|${visitor.lang}|${visitor.showNsfw ? 1 : 0}|${user?.id ?? ''}`;
      // A page checked against its rows within the last second, with nothing changed through this
      // process since, is served without a query (page-cache.ts, `fresh`).
      const requestedId = cacheable ? ctx.ids.decode(encodedIdOf(request.params.segment)) : null;
      if (requestedId !== null) {
        const key = keyOf(requestedId);
        const recent = kit.pages.fresh(key, requestedPath, csrf);
        if (recent !== null) {
          if (kit.pages.countsView(key)) kit.views.add(requestedId);
          return sendPage(request, reply, recent);
        }
      }
      const changesBefore = localChangeCount();
      const found = cacheable && user === null ? await findLiveImageWithTagIds(ctx, request.params.segment) : null;
      const image = found ? found.image : await findLiveImage(ctx, request.params.segment);
      if (!image) return renderError(kit, request, reply, 404, request.query.deleted !== undefined ? 'viewer.deleted' : 'error.not-found');
      // Access is decided from the rows as they are now, before any cached copy is used.
      const { access, album, openToAll } = await imageAccess(kit, request, image, user);
      const refused = refuse(kit, request, reply, access);
      if (refused) return refused;

      // Short URLs and wrong slugs or routes redirect to the canonical viewer URL (object.path_viewer:
      // the base path is a parsed URL's path, the route, slug and id are plain [A-Za-z0-9-], so it needs no re-encoding).
      const canonicalPath = ctx.urls.viewerPath(image);
      if (requestedPath !== canonicalPath) {
        // The listing it was opened from goes along.
        const from = field(request.query, 'from');
        return reply.redirect(from ? `${canonicalPath}?${new URLSearchParams({ from })}` : canonicalPath, 301);
      }

      const isOwner = isOwnerOrAdmin(user, image.user_id);
      if (!isOwner) kit.views.add(image.id);
      // Views counted on this instance and not yet written (this one included) count already.
      const views = image.views + kit.views.pendingOf(image.id);

      const cacheKey = cacheable ? keyOf(image.id) : '';
      const tagsOfSignedIn = user !== null ? await findTagsOfImage(ctx.db, image.id) : null;
      const owner = image.user_id ? await findUserById(ctx.db, image.user_id) : undefined;
      const ownerAlbums = isOwner && image.user_id ? await listAllAlbumsOfUser(ctx.db, image.user_id) : [];
      // The site's categories, for the owner's edit form.
      const categories = isOwner ? await listCategories(ctx.db) : [];
      const facts: PageFacts = {
        // Anonymous copies leave the views figure out (it may lag by the cache's TTL); a signed-in
        // person's copy has it, with their account row (their name in the menu, time zone, role) and
        // the owner's album list of the owner's tools.
        version: !cacheable ? '' : user === null
          ? JSON.stringify([{ ...image, views: 0 }, found!.tagIds, album, owner?.username, owner?.is_private])
          : JSON.stringify([image, views, tagsOfSignedIn, album, owner?.username, owner?.is_private, ownerAlbums.map((a) => [a.id, a.name]), categories.map((c) => [c.id, c.name]), user]),
        path: canonicalPath,
        fileExpires: image.expires_at ? parseUtc(image.expires_at).getTime() : null,
        // Served within the recheck window without reading the rows again: pages anyone may see, and a
        // file's page for its owner (or an admin), which needs no password either.
        openToAll: openToAll || isOwner,
        countsView: !isOwner,
        changesBefore,
      };
      if (cacheable) {
        const cached = kit.pages.get(cacheKey, facts, csrf);
        if (cached !== null) return sendPage(request, reply, cached);
      }

      const tags = tagsOfSignedIn ?? await findTagsOfImage(ctx.db, image.id);
      const object = imageObjectOf(kit, image, tags);
      const embed = buildEmbedCodes({
        type: image.type,
        filename: object.filename,
        url: object.url,
        url_viewer: object.url_viewer,
        mediumUrl: object.medium.url,
        thumbUrl: object.thumb.url,
        frameUrl: object.frame.url,
        width: image.width,
        height: image.height,
        mime: image.mime,
      });
      const oembed = (format: string) => ctx.urls.absolute(`/oembed?url=${encodeURIComponent(object.url_viewer)}&format=${format}`);
      const description = image.description ?? t('viewer.og-description', { size: formats.size(image.size), width: image.width, height: image.height });

      const exif = image.type === 'video' ? null : exifSummaryOf(image.exifdata);
      // The camera's own clock, shown as written (no time zone to convert from).
      const takenText = exif?.takenAt
        ? new Intl.DateTimeFormat(visitor.lang, { dateStyle: 'long', timeStyle: 'short', timeZone: 'UTC' }).format(new Date(`${exif.takenAt}Z`))
        : null;
      // The browser picks the medium on small screens and the original where it is needed.
      const srcset = image.type !== 'video' && !image.is_animated && object.medium.url
        ? `${object.medium.url} ${ctx.settings.mediumWidth}w, ${object.url} ${image.width}w`
        : null;

      return renderPage(kit, request, reply, 'viewer', {
        title: object.display_title,
        nav: cacheable ? null : await viewerNavOf(kit, request, image, album),
        exif: exif ? { ...exif, takenText } : null,
        srcset,
        image,
        object,
        tags: object.tags.map((tag) => ({ name: tag.name, href: new URL(tag.url).pathname })),
        // The owner of a private profile (users.is_private) stays unnamed to others.
        owner: owner && (owner.is_private !== 1 || isOwner) ? { username: owner.username, href: `${ctx.urls.basePath}/${owner.username}` } : null,
        album: album ? { name: album.name, href: albumPath(kit, album), id: ctx.ids.encode(album.id), isCover: album.cover_image_id === image.id } : null,
        views,
        embed,
        share: {
          url: object.url_viewer,
          title: object.display_title,
          linkLabel: t('share.viewer-link'),
          qrSvg: await qrSvgOf(object.url_viewer, t('share.qr-alt')),
          codesHref: null,
        },
        isOwner,
        // An admin on someone else's file manages it, but it is not "Your file".
        isOwnFile: user !== null && user.id === image.user_id,
        ownerAlbums: ownerAlbums.map((a) => ({ id: ctx.ids.encode(a.id), name: a.name, selected: a.id === image.album_id })),
        categories: categories.map((c) => ({ id: c.id, name: c.name, selected: c.id === image.category_id })),
        actions: {
          edit: `${object.path_viewer}/edit`,
          delete: `${object.path_viewer}/delete`,
          cover: `${object.path_viewer}/cover`,
        },
        meta: {
          description,
          oembedJson: oembed('json'),
          oembedXml: oembed('xml'),
          isVideo: image.type === 'video',
          secure: object.url.startsWith('https:'),
          image: image.type === 'video' ? object.frame.url ?? object.display_url : object.url,
        },
        noindex: album !== null && album.listed !== 1,
      }, 200, cacheable ? (html, placeholder) => kit.pages.set(cacheKey, facts, html, placeholder) : undefined);
    });

    app.post<{ Params: { segment: string } }>(`/${route}/:segment/edit`, formRoute(['album', 'category', 'description', 'nsfw', 'tags', 'title']), async (request, reply) => {
      const image = await ownedImage(request);
      if (!image) return renderError(kit, request, reply, 404, 'error.not-found');
      const albumText = field(request.body, 'album');
      let album: AlbumRow | null = null;
      if (albumText) {
        const albumId = ctx.ids.decode(albumText);
        album = albumId === null ? null : (await findAlbumById(ctx.db, albumId)) ?? null;
        if (!album || album.user_id !== image.user_id) return renderError(kit, request, reply, 400, 'error.bad-request');
      }
      const title = field(request.body, 'title').trim();
      const description = field(request.body, 'description').trim();
      checkTextLength('title', title, TEXT_LIMITS.title);
      checkTextLength('description', description, TEXT_LIMITS.description);
      checkTagsText('tags', field(request.body, 'tags'));
      // Stop words are checked by editImage (a refusal is the site's translated 400 page, a `hold` word sends the file back to the approval queue).
      const updated = await editImage(ctx.db, image, {
        title: title ? truncateTitle(title) : null,
        description: description || null,
        nsfw: field(request.body, 'nsfw') === '1',
        tags: parseTags(field(request.body, 'tags')),
        album,
        // Only when the form had the field (the site has categories); an unknown id is a 400 (errors.unknownCategory).
        ...(request.body && typeof request.body === 'object' && 'category' in request.body
          ? { categoryId: /^[1-9]\d{0,14}$/.test(field(request.body, 'category')) ? Number(field(request.body, 'category')) : null }
          : {}),
      }, ctx.moderation.screenFor(visitorOf(request).user));
      return redirectWithNotice(reply, ctx.urls.viewerPath(updated), 'file-saved');
    });

    app.post<{ Params: { segment: string } }>(`/${route}/:segment/delete`, formRoute([]), async (request, reply) => {
      const image = await ownedImage(request);
      if (!image) return renderError(kit, request, reply, 404, 'error.not-found');
      await removeImage(ctx.db, ctx.storage, image);
      request.log.info({ imageId: image.id }, 'deleted from the viewer page');
      const owner = image.user_id ? await findUserById(ctx.db, image.user_id) : undefined;
      return redirectTo(kit, reply, owner ? `/${owner.username}` : '/', 'file-deleted');
    });

    app.post<{ Params: { segment: string } }>(`/${route}/:segment/cover`, formRoute([]), async (request, reply) => {
      const image = await ownedImage(request);
      if (!image || image.album_id === null) return renderError(kit, request, reply, 404, 'error.not-found');
      await setAlbumCover(ctx.db, image.album_id, image.id);
      return redirectWithNotice(reply, albumPath(kit, { id: image.album_id }), 'cover-set');
    });
  }
}
