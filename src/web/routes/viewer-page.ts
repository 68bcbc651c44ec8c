import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildImageObject, type ImageObject } from '../../api/image-response.js';
import { formatUtc } from '../../core/dates.js';
import { findAlbumById } from '../../db/repositories/albums.js';
import { listAllAlbumsOfUser, setAlbumCover } from '../../db/repositories/album-edits.js';
import { updateImageDetails } from '../../db/repositories/image-edits.js';
import { findImageById, findTagsOfImage, incrementViews } from '../../db/repositories/images.js';
import { findUserById } from '../../db/repositories/users.js';
import type { AlbumRow, ImageRow } from '../../db/schema.js';
import { parseTags } from '../../ingest/ingest-upload.js';
import { truncateTitle } from '../../ingest/naming.js';
import { removeImage } from '../../ingest/remove-image.js';
import { imageAccess, isOwnerOrAdmin, type Access } from '../access.js';
import { albumPath } from '../cards.js';
import { buildEmbedCodes } from '../embed-codes.js';
import { field, publicUrlOf, redirectTo, redirectWithNotice, renderError, renderPage, visitorOf, type WebKit } from '../web-kit.js';

const MAX_DESCRIPTION = 5000;

/** `slug.id` or a bare `id` from a viewer path segment. */
export function encodedIdOf(segment: string): string {
  const dot = segment.lastIndexOf('.');
  return dot >= 0 ? segment.slice(dot + 1) : segment;
}

/** The image of a viewer URL, unless it is unknown or expired. */
export async function findLiveImage(kit: WebKit, segment: string): Promise<ImageRow | null> {
  const id = kit.ctx.ids.decode(encodedIdOf(segment));
  if (id === null) return null;
  const image = await findImageById(kit.ctx.db, id);
  if (!image) return null;
  if (image.expires_at && image.expires_at <= formatUtc(new Date())) return null;
  return image;
}

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

export async function registerViewerPage(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const routes = [...new Set([ctx.settings.imageRoute, ctx.settings.videoRoute])];

  /** The file of a form post, when the visitor may change it. */
  async function ownedImage(request: FastifyRequest<{ Params: { segment: string } }>) {
    const { user } = visitorOf(request);
    const image = await findLiveImage(kit, request.params.segment);
    if (!image || !isOwnerOrAdmin(user, image.user_id)) return null;
    return image;
  }

  for (const route of routes) {
    app.get<{ Params: { segment: string }; Querystring: { deleted?: string } }>(`/${route}/:segment`, async (request, reply) => {
      const { user, t, formats } = visitorOf(request);
      const image = await findLiveImage(kit, request.params.segment);
      if (!image) return renderError(kit, request, reply, 404, request.query.deleted !== undefined ? 'viewer.deleted' : 'error.not-found');
      const { access, album } = await imageAccess(kit, request, image, user);
      const refused = refuse(kit, request, reply, access);
      if (refused) return refused;

      const tags = await findTagsOfImage(ctx.db, image.id);
      const object = imageObjectOf(kit, image, tags);
      // Short URLs and wrong slugs or routes redirect to the canonical viewer URL.
      const requestedPath = decodeURIComponent(publicUrlOf(kit, request).split('?')[0]);
      if (requestedPath !== object.path_viewer) return reply.redirect(object.path_viewer, 301);

      const isOwner = isOwnerOrAdmin(user, image.user_id);
      if (!isOwner) await incrementViews(ctx.db, image.id);
      const owner = image.user_id ? await findUserById(ctx.db, image.user_id) : undefined;
      const ownerAlbums = isOwner && image.user_id ? await listAllAlbumsOfUser(ctx.db, image.user_id) : [];
      const views = isOwner ? image.views : image.views + 1;
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

      return renderPage(kit, request, reply, 'viewer', {
        title: object.display_title,
        image,
        object,
        tags: object.tags.map((tag) => ({ name: tag.name, href: new URL(tag.url).pathname })),
        owner: owner ? { username: owner.username, href: `${ctx.urls.basePath}/${owner.username}` } : null,
        album: album ? { name: album.name, href: albumPath(kit, album), id: ctx.ids.encode(album.id), isCover: album.cover_image_id === image.id } : null,
        views,
        embed,
        isOwner,
        ownerAlbums: ownerAlbums.map((a) => ({ id: ctx.ids.encode(a.id), name: a.name, selected: a.id === image.album_id })),
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
        noindex: album !== null && album.privacy !== 'public',
      });
    });

    app.post<{ Params: { segment: string } }>(`/${route}/:segment/edit`, async (request, reply) => {
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
      const description = field(request.body, 'description').trim().slice(0, MAX_DESCRIPTION);
      await updateImageDetails(ctx.db, image.id, {
        title: title ? truncateTitle(title) : null,
        description: description || null,
        nsfw: field(request.body, 'nsfw') === '1',
        tags: parseTags(field(request.body, 'tags')),
        album,
      });
      const updated = (await findImageById(ctx.db, image.id))!;
      return redirectWithNotice(reply, ctx.urls.viewerPath(updated), 'file-saved');
    });

    app.post<{ Params: { segment: string } }>(`/${route}/:segment/delete`, async (request, reply) => {
      const image = await ownedImage(request);
      if (!image) return renderError(kit, request, reply, 404, 'error.not-found');
      await removeImage(ctx.db, ctx.storage, image);
      request.log.info({ imageId: image.id }, 'deleted from the viewer page');
      const owner = image.user_id ? await findUserById(ctx.db, image.user_id) : undefined;
      return redirectTo(kit, reply, owner ? `/${owner.username}` : '/', 'file-deleted');
    });

    app.post<{ Params: { segment: string } }>(`/${route}/:segment/cover`, async (request, reply) => {
      const image = await ownedImage(request);
      if (!image || image.album_id === null) return renderError(kit, request, reply, 404, 'error.not-found');
      await setAlbumCover(ctx.db, image.album_id, image.id);
      return redirectWithNotice(reply, albumPath(kit, { id: image.album_id }), 'cover-set');
    });
  }
}
