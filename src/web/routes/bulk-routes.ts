import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findAlbumById } from '../../db/repositories/albums.js';
import { listAllAlbumsOfUser } from '../../db/repositories/album-edits.js';
import { moveSelected, removeTagsFrom, selectedImages, setNsfwOf } from '../../db/repositories/bulk-edits.js';
import { addTagsToImages } from '../../library/image-edits.js';
import { createAlbumWithFiles } from '../../library/album-edits.js';
import { listImages } from '../../db/repositories/listings.js';
import { findUserById } from '../../db/repositories/users.js';
import type { AlbumRow, ImageRow } from '../../db/schema.js';
import { parseTags } from '../../ingest/ingest-upload.js';
import { removeImage } from '../../ingest/remove-image.js';
import { albumAccess, isOwnerOrAdmin } from '../access.js';
import { ancestorsOf, imagesOfAlbum } from '../../db/repositories/album-edits.js';
import { parseUtc } from '../../core/dates.js';
import { checkTagsText, checkTextLength, TEXT_LIMITS } from '../../core/text-limits.js';
import { renderPasswordPage } from './viewer-page.js';
import { embedCodesOfSelection, isBulkAction, MAX_SELECTION, bulkBarFor, markSelectable, type BulkAction } from '../bulk-selection.js';
import { albumPath, imageTile } from '../cards.js';
import { pageLinks, pageRequestOf } from '../pagination.js';
import { field, fieldList, redirectWithNotice, renderError, renderPage, safeReturnPath, sitePath, visitorOf, type WebKit } from '../web-kit.js';
import { requireUser } from './settings-routes.js';
import { formRoute } from '../form-schemas.js';

/** Most files whose codes an album's share box hands out on one page. */
const MAX_ALBUM_CODES = 1000;

/**
 * The selection on a listing (profile, album, search, tag, explore for admins): one form, one
 * POST, one action on every checked file the visitor may manage. Plain HTML forms: with
 * JavaScript the bar only gets shift-click ranges, "select all" and copying without a page.
 */
export async function registerBulkRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  async function albumOf(encoded: string): Promise<AlbumRow | null> {
    const id = ctx.ids.decode(encoded);
    return id === null ? null : (await findAlbumById(ctx.db, id)) ?? null;
  }

  function backTo(request: FastifyRequest): string {
    return safeReturnPath(kit, field(request.body, 'return')) ?? sitePath(kit, '/');
  }

  app.post('/files/bulk', formRoute(['action', 'album_name', 'code', 'confirm', 'image', 'tags', 'target']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    const action = field(request.body, 'action');
    const returnTo = backTo(request);
    if (!isBulkAction(action)) return renderError(kit, request, reply, 400, 'bulk.unknown-action');
    const ids = [...new Set(fieldList(request.body, 'image').map((text) => ctx.ids.decode(text)).filter((id): id is number => id !== null))];
    if (ids.length > MAX_SELECTION) return renderError(kit, request, reply, 400, 'bulk.too-many');
    // Only files the visitor may manage: their own, or anyone's for an admin.
    const images = await selectedImages(ctx.db, ids, user.is_admin === 1 ? null : user.id);
    if (images.length === 0) return redirectWithNotice(reply, returnTo, 'nothing-selected');
    const imageIds = images.map((i) => i.id);

    switch (action as BulkAction) {
      case 'move':
      case 'new-album': {
        // An album holds one person's files, and a file keeps its owner when it moves (as on
        // the dashboard): the selection must be one owner's, and the target album theirs.
        const targetText = action === 'move' ? field(request.body, 'target') : '';
        const target = targetText ? await albumOf(targetText) : null;
        if (targetText && !target) return renderError(kit, request, reply, 404, 'error.not-found');
        if (target) {
          // An admin selecting on /explore offers their own albums: say which files cannot go there, not a bare 400.
          const foreign = images.filter((i) => i.user_id !== target.user_id);
          if (foreign.length > 0) {
            if (!isOwnerOrAdmin(user, target.user_id)) return renderError(kit, request, reply, 404, 'error.not-found');
            const albumOwner = await findUserById(ctx.db, target.user_id);
            return renderPage(kit, request, reply, 'error', {
              title: t('bulk.other-owner-title'),
              message: t('bulk.other-owner-title'),
              detail: t('bulk.other-owner', { n: foreign.length, album_owner: albumOwner?.username ?? t('bulk.guest') }),
              back: { href: returnTo, label: t('bulk.back') },
              status: 409,
              noindex: true,
            }, 409);
          }
          if (!isOwnerOrAdmin(user, target.user_id)) return renderError(kit, request, reply, 404, 'error.not-found');
          await moveSelected(ctx.db, imageIds, target);
          return redirectWithNotice(reply, returnTo, 'files-moved');
        }
        const owners = new Set(images.map((i) => i.user_id));
        const ownerId = images[0].user_id;
        if (owners.size !== 1 || ownerId === null) return renderError(kit, request, reply, 400, 'bulk.one-owner');
        if (action === 'new-album') {
          const name = field(request.body, 'album_name').trim();
          checkTextLength('album_name', name, TEXT_LIMITS.albumName);
          if (!name) return renderError(kit, request, reply, 400, 'album.name-required');
          // Stop words in the name are checked by the service (a refusal is the site's translated 400 page).
          const album = await createAlbumWithFiles(ctx.db, { userId: ownerId, name, privacy: 'public' }, imageIds, ctx.moderation.screenFor(user));
          request.log.info({ albumId: album.id, files: imageIds.length }, 'new album from a selection');
          return redirectWithNotice(reply, albumPath(kit, album), 'album-created');
        }
        // No target: out of any album.
        await moveSelected(ctx.db, imageIds, null);
        return redirectWithNotice(reply, returnTo, 'files-moved');
      }
      case 'nsfw-on':
      case 'nsfw-off':
        await setNsfwOf(ctx.db, imageIds, action === 'nsfw-on');
        return redirectWithNotice(reply, returnTo, 'files-updated');
      case 'add-tags':
      case 'remove-tags': {
        checkTagsText('tags', field(request.body, 'tags'));
        const tags = parseTags(field(request.body, 'tags'));
        if (tags.length === 0) return renderError(kit, request, reply, 400, 'bulk.tags-required');
        if (action === 'add-tags') await addTagsToImages(ctx.db, imageIds, tags, ctx.moderation.screenFor(user));
        else await removeTagsFrom(ctx.db, imageIds, tags);
        return redirectWithNotice(reply, returnTo, 'files-updated');
      }
      case 'embed':
        return renderEmbedPage(request, reply, images, returnTo);
      case 'delete': {
        // Asked first: a page that names how many (the bar's script asks in a dialog and sends confirm=1).
        if (field(request.body, 'confirm') !== '1') {
          return renderPage(kit, request, reply, 'bulk-confirm', {
            title: t('bulk.delete-title', { count: images.length }),
            count: images.length,
            files: images.map((image) => imageTile(kit, image)),
            action: sitePath(kit, '/files/bulk'),
            returnTo,
            noindex: true,
          });
        }
        // One way to remove a file (row, then files, then the name), file by file.
        for (const image of images) await removeImage(ctx.db, ctx.storage, image);
        request.log.info({ files: imageIds.length }, 'files deleted from a selection');
        return redirectWithNotice(reply, returnTo, 'files-deleted-many');
      }
    }
  });

  async function renderEmbedPage(request: FastifyRequest, reply: FastifyReply, images: ImageRow[], returnTo: string) {
    const { t } = visitorOf(request);
    const blocks = embedCodesOfSelection(kit, images);
    // With Accept: text/plain and a code id, just that block (the bar's "copy" button).
    const code = field(request.body, 'code');
    if (code && String(request.headers.accept ?? '').startsWith('text/plain')) {
      const block = blocks.find((b) => b.id === code);
      if (!block) return reply.code(400).type('text/plain; charset=utf-8').send(t('error.bad-request'));
      return reply.header('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(block.value);
    }
    return renderPage(kit, request, reply, 'bulk-embed', {
      title: t('bulk.embed-title', { count: images.length }),
      count: images.length,
      blocks,
      returnTo,
      noindex: true,
    });
  }

  /** The embed codes of every file of an album (its share box links here), for whoever may open the album. */
  app.get<{ Params: { id: string } }>('/album/:id/embed', async (request, reply) => {
    const { user, t } = visitorOf(request);
    const album = await albumOf(request.params.id);
    if (!album) return renderError(kit, request, reply, 404, 'error.not-found');
    const access = albumAccess(kit, request, album, user, await ancestorsOf(ctx.db, album));
    if (access.kind === 'hidden') return renderError(kit, request, reply, 404, 'error.not-found');
    if (access.kind === 'password') return renderPasswordPage(kit, request, reply, access.album, null);
    const now = Date.now();
    const images = (await imagesOfAlbum(ctx.db, album.id, MAX_ALBUM_CODES)).filter((i) => i.expires_at === null || parseUtc(i.expires_at).getTime() > now);
    return renderPage(kit, request, reply, 'bulk-embed', {
      title: t('share.album-codes-title', { album: album.name }),
      count: images.length,
      blocks: embedCodesOfSelection(kit, images),
      returnTo: albumPath(kit, album),
      noindex: album.listed !== 1,
    });
  });

  /** "Add files" to an album: the owner's other files, a page at a time, checked ones moved in by the bulk form. */
  app.get<{ Params: { id: string } }>('/album/:id/add', async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    const album = await albumOf(request.params.id);
    if (!album || !isOwnerOrAdmin(user, album.user_id)) return renderError(kit, request, reply, 404, 'error.not-found');
    const ancestors = await ancestorsOf(ctx.db, album);
    if (albumAccess(kit, request, album, user, ancestors).kind === 'hidden') return renderError(kit, request, reply, 404, 'error.not-found');
    const owner = await findUserById(ctx.db, album.user_id);
    const page = await listImages(ctx.db, { kind: 'user', userId: album.user_id, includeUnlisted: true }, pageRequestOf(kit, request.query));
    const path = `${albumPath(kit, album)}/add`;
    const files = markSelectable(page.items.map((image) => ({ ...imageTile(kit, image), inAlbum: image.album_id === album.id })), user);
    return renderPage(kit, request, reply, 'album-add', {
      title: t('bulk.add-title', { album: album.name }),
      album: { name: album.name, href: albumPath(kit, album), id: ctx.ids.encode(album.id) },
      owner: owner ? { username: owner.username } : null,
      files,
      links: pageLinks(kit, path, page),
      bulk: bulkBarFor(kit, albumPath(kit, album), await listAllAlbumsOfUser(ctx.db, album.user_id)),
      noindex: true,
    });
  });
}
