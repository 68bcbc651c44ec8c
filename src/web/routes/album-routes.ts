import { isModerator } from '../../moderation/moderation.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { checkTextLength, TEXT_LIMITS } from '../../core/text-limits.js';
import type { TFunction } from 'i18next';
import { findAlbumById } from '../../db/repositories/albums.js';
import { ALBUM_PRIVACIES, ancestorsOf, descendantIds, listAllAlbumsOfUser, type AlbumPrivacy } from '../../db/repositories/album-edits.js';
import { moveImagesTo } from '../../library/image-edits.js';
import { createAlbumOf, deleteAlbum, editAlbum } from '../../library/album-edits.js';
import { listAlbums, listImages } from '../../db/repositories/listings.js';
import { findUserById, hashPassword, verifyPassword } from '../../db/repositories/users.js';
import type { AlbumRow, UserRow } from '../../db/schema.js';
import { isError } from '../../core/errors.js';
import { albumAccess, effectivePrivacy, isOwnerOrAdmin, rememberUnlock } from '../access.js';
import { bulkBarFor } from '../bulk-selection.js';
import { countListing } from '../../db/repositories/browse.js';
import { COUNT_CAP, countText } from './browse-routes.js';
import { qrSvgOf } from '../share.js';
import { albumPath, albumTile, imageTile } from '../cards.js';
import { encodedIdOf } from '../live-images.js';
import { pageLinks, pageRequestOf } from '../pagination.js';
import { checkKeptPage, field, fieldList, pageCacheKey, redirectTo, redirectWithNotice, renderError, renderPage, safeReturnPath, sendFreshPage, visitorOf, type WebKit } from '../web-kit.js';
import { localChangeCount } from '../page-cache.js';
import { renderPasswordPage, viewerFromOf } from './viewer-page.js';
import { requireUser } from './settings-routes.js';
import { formRoute } from '../form-schemas.js';

const UNLOCK_WINDOW_SECONDS = 900;
const UNLOCK_FAILURES = 20;
const SUB_ALBUMS_SHOWN = 100;

interface AlbumForm {
  name: string;
  description: string;
  privacy: AlbumPrivacy;
  password: string;
  parent: string;
}

function readAlbumForm(body: unknown): AlbumForm {
  const privacy = field(body, 'privacy');
  const name = field(body, 'name').trim();
  const description = field(body, 'description').trim();
  checkTextLength('name', name, TEXT_LIMITS.albumName);
  checkTextLength('description', description, TEXT_LIMITS.albumDescription);
  return {
    name,
    description,
    privacy: (ALBUM_PRIVACIES as readonly string[]).includes(privacy) ? (privacy as AlbumPrivacy) : 'public',
    password: field(body, 'password'),
    parent: field(body, 'parent'),
  };
}

/** The album's badge: its own privacy, or the stricter one it inherits and from which album. */
function privacyLabelOf(album: AlbumRow, ancestors: AlbumRow[], t: TFunction): string {
  const { privacy, from } = effectivePrivacy([...ancestors, album]);
  return from.id === album.id ? t(`privacy.${privacy}`) : t('privacy.inherited', { privacy: t(`privacy.${privacy}`), album: from.name });
}

export async function registerAlbumRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  async function albumOf(encoded: string): Promise<AlbumRow | null> {
    // `slug.id` too: Chevereto's album URLs carry the name before the id.
    const id = ctx.ids.decode(encodedIdOf(encoded));
    return id === null ? null : (await findAlbumById(ctx.db, id)) ?? null;
  }

  /** The album of a form post, when the visitor owns it (or runs the site). */
  async function ownedAlbum(request: FastifyRequest<{ Params: { id: string } }>): Promise<{ album: AlbumRow; user: UserRow } | null> {
    const { user } = visitorOf(request);
    const album = await albumOf(request.params.id);
    return album && user && isOwnerOrAdmin(user, album.user_id) ? { album, user } : null;
  }

  /** A parent chosen in a form: one of the owner's albums, and never the album itself or one below it. */
  async function parentFrom(form: AlbumForm, ownerId: number, album: AlbumRow | null): Promise<AlbumRow | null | 'invalid'> {
    if (!form.parent) return null;
    const parent = await albumOf(form.parent);
    if (!parent || parent.user_id !== ownerId) return 'invalid';
    if (album && (parent.id === album.id || (await descendantIds(ctx.db, album.id)).has(parent.id))) return 'invalid';
    return parent;
  }

  async function renderAlbumForm(request: FastifyRequest, reply: FastifyReply, owner: UserRow, album: AlbumRow | null, values: AlbumForm, error: string | null, status = 200) {
    const { t } = visitorOf(request);
    const excluded = album ? new Set([album.id, ...(await descendantIds(ctx.db, album.id))]) : new Set<number>();
    const parents = (await listAllAlbumsOfUser(ctx.db, owner.id)).filter((a) => !excluded.has(a.id));
    return renderPage(kit, request, reply, 'album-form', {
      title: album ? t('album.edit-title', { name: album.name }) : t('album.new-title'),
      album: album ? { name: album.name, href: albumPath(kit, album), hasPassword: album.password_hash !== null } : null,
      action: album ? `${albumPath(kit, album)}/edit` : `${ctx.urls.basePath}/albums`,
      values,
      privacies: ALBUM_PRIVACIES,
      parents: parents.map((a) => ({ id: ctx.ids.encode(a.id), name: a.name })),
      error,
    }, status);
  }

  app.get('/albums/new', async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    return renderAlbumForm(request, reply, user, null, { name: '', description: '', privacy: 'public', password: '', parent: field(request.query, 'parent') }, null);
  });

  app.post('/albums', formRoute(['description', 'name', 'parent', 'password', 'privacy']), async (request, reply) => {
    const user = requireUser(kit, request, reply);
    if (!user) return reply;
    const { t } = visitorOf(request);
    const form = readAlbumForm(request.body);
    if (!form.name) return renderAlbumForm(request, reply, user, null, form, t('album.name-required'), 400);
    if (form.privacy === 'password' && !form.password) return renderAlbumForm(request, reply, user, null, form, t('album.password-required'), 400);
    const parent = await parentFrom(form, user.id, null);
    if (parent === 'invalid') return renderAlbumForm(request, reply, user, null, form, t('error.bad-request'), 400);
    let album: AlbumRow;
    try {
      album = await createAlbumOf(ctx.db, {
        userId: user.id, name: form.name, description: form.description || null, privacy: form.privacy, parentId: parent?.id ?? null,
        passwordHash: form.privacy === 'password' ? await hashPassword(form.password) : null,
      }, ctx.moderation.screenFor(user));
    } catch (error) {
      // A stop word (library/album-edits.ts checks): the form again, with what was typed.
      if (isError(error, 'stopWord')) return renderAlbumForm(request, reply, user, null, form, t('moderation.stop-word'), 400);
      throw error;
    }
    return redirectWithNotice(reply, albumPath(kit, album), 'album-created');
  });

  function albumChanges(form: AlbumForm, parent: AlbumRow | null) {
    return { name: form.name, description: form.description || null, privacy: form.privacy, parentId: parent?.id ?? null };
  }

  app.get<{ Params: { id: string } }>('/album/:id', async (request, reply) => {
    const { user, t } = visitorOf(request);
    // Kept in the page cache (page-cache.ts): served again without a query only moments after a
    // check, and only when no password decided access; else checked against every row it shows.
    const key = pageCacheKey(kit, request, 'album');
    const recent = sendFreshPage(kit, request, reply, key);
    if (recent) return recent;
    const changesBefore = localChangeCount();
    const album = await albumOf(request.params.id);
    if (!album) return renderError(kit, request, reply, 404, 'error.not-found');
    const ancestors = await ancestorsOf(ctx.db, album);
    const access = albumAccess(kit, request, album, user, ancestors);
    if (access.kind === 'hidden') return renderError(kit, request, reply, 404, 'error.not-found');
    // The password of the album, or of the album above it that is locked.
    if (access.kind === 'password') return renderPasswordPage(kit, request, reply, access.album, null);

    const isOwner = isOwnerOrAdmin(user, album.user_id);
    const path = albumPath(kit, album);
    // `?tab=albums`: every sub-album, a page at a time; else the newest sub-albums above the files.
    const allSubAlbums = field(request.query, 'tab') === 'albums';
    const [owner, children, files] = await Promise.all([
      findUserById(ctx.db, album.user_id),
      listAlbums(ctx.db, { kind: 'children', parentId: album.id, includeHidden: isOwner }, allSubAlbums ? pageRequestOf(kit, request.query) : { limit: SUB_ALBUMS_SHOWN }),
      allSubAlbums ? null : listImages(ctx.db, { kind: 'album', albumId: album.id, waitingOf: isModerator(user) ? 'all' : user?.id ?? null }, pageRequestOf(kit, request.query)),
    ]);
    const total = allSubAlbums ? 0 : await countListing(ctx.db, { kind: 'album', albumId: album.id }, COUNT_CAP);
    // Breadcrumbs show only the albums above that this visitor may open.
    const crumbs = ancestors.filter((a, i) => albumAccess(kit, request, a, user, ancestors.slice(0, i)).kind !== 'hidden');
    const ownerAlbums = isOwner ? await listAllAlbumsOfUser(ctx.db, album.user_id) : [];
    const chainOpen = [...ancestors, album].every((a) => a.privacy === 'public' || a.privacy === 'unlisted');
    const kept = checkKeptPage(kit, request, reply, key, changesBefore, [
      album, ancestors, crumbs.map((a) => a.id), owner?.username, owner?.is_private, children, files, total, ownerAlbums.map((a) => [a.id, a.name, a.parent_id]),
    ], chainOpen || isOwner);
    if (kept.sent) return kept.sent;
    return renderPage(kit, request, reply, 'album', {
      title: album.name,
      album: { name: album.name, description: album.description, privacy: effectivePrivacy([...ancestors, album]).privacy, href: path, id: ctx.ids.encode(album.id) },
      // The owner of a private profile (users.is_private) stays unnamed to others.
      owner: owner && (owner.is_private !== 1 || isOwner) ? { username: owner.username, href: `${ctx.urls.basePath}/${owner.username}` } : null,
      crumbs: crumbs.map((a) => ({ name: a.name, href: albumPath(kit, a) })),
      subAlbums: children.items.map((card) => albumTile(kit, card)),
      files: files ? files.items.map((image) => imageTile(kit, image, viewerFromOf('album', ctx.ids.encode(album.id)))) : [],
      total: files ? { n: total, text: countText((n) => visitorOf(request).formats.count(n), total) } : null,
      allSubAlbums,
      moreSubAlbums: !allSubAlbums && children.olderCursor !== null ? `${path}?tab=albums` : null,
      links: files ? pageLinks(kit, path, files) : pageLinks(kit, `${path}?tab=albums`, children),
      isOwner,
      // A new sub-album is made for whoever is signed in, so only the owner is offered one.
      isOwnAlbum: user !== null && user.id === album.user_id,
      moveTargets: isOwner ? ownerAlbums.filter((a) => a.id !== album.id).map((a) => ({ id: ctx.ids.encode(a.id), name: a.name })) : [],
      actions: {
        edit: `${path}/edit`, delete: `${path}/delete`, move: `${path}/move`, add: `${path}/add`,
        newSub: `${ctx.urls.basePath}/albums/new?parent=${ctx.ids.encode(album.id)}`,
        upload: `${ctx.urls.basePath}/upload?album=${ctx.ids.encode(album.id)}`,
      },
      share: {
        url: ctx.urls.absolute(`/album/${ctx.ids.encode(album.id)}`),
        title: album.name,
        linkLabel: t('share.album-link'),
        qrSvg: await qrSvgOf(ctx.urls.absolute(`/album/${ctx.ids.encode(album.id)}`), t('share.qr-alt')),
        codesHref: `${path}/embed`,
      },
      bulk: isOwner ? bulkBarFor(kit, path, ownerAlbums, album) : null,
      privacyLabel: privacyLabelOf(album, ancestors, t),
      noindex: album.listed !== 1,
    }, 200, kept.keep);
  });

  app.post<{ Params: { id: string } }>('/album/:id/unlock', formRoute(['password', 'return']), async (request, reply) => {
    const { t } = visitorOf(request);
    const album = await albumOf(request.params.id);
    if (!album || album.privacy !== 'password' || !album.password_hash) return renderError(kit, request, reply, 404, 'error.not-found');
    const failuresKey = `album-unlock:${album.id}:${request.ip}`;
    if ((await ctx.hits.peek(failuresKey, UNLOCK_WINDOW_SECONDS)) >= UNLOCK_FAILURES) {
      return renderPasswordPage(kit, request, reply, album, t('login.too-many'), 429);
    }
    if (!(await verifyPassword(album.password_hash, field(request.body, 'password')))) {
      await ctx.hits.hit(failuresKey, UNLOCK_WINDOW_SECONDS);
      return renderPasswordPage(kit, request, reply, album, t('album.wrong-password'), 403);
    }
    rememberUnlock(kit, reply, album);
    return reply.redirect(safeReturnPath(kit, field(request.body, 'return')) ?? albumPath(kit, album), 303);
  });

  app.get<{ Params: { id: string } }>('/album/:id/edit', async (request, reply) => {
    if (!requireUser(kit, request, reply)) return reply;
    const owned = await ownedAlbum(request);
    if (!owned) return renderError(kit, request, reply, 404, 'error.not-found');
    const { album } = owned;
    const owner = (await findUserById(ctx.db, album.user_id))!;
    return renderAlbumForm(request, reply, owner, album, {
      name: album.name,
      description: album.description ?? '',
      privacy: album.privacy as AlbumPrivacy,
      password: '',
      parent: album.parent_id ? ctx.ids.encode(album.parent_id) : '',
    }, null);
  });

  app.post<{ Params: { id: string } }>('/album/:id/edit', formRoute(['description', 'name', 'parent', 'password', 'privacy']), async (request, reply) => {
    if (!requireUser(kit, request, reply)) return reply;
    const owned = await ownedAlbum(request);
    if (!owned) return renderError(kit, request, reply, 404, 'error.not-found');
    const { album } = owned;
    const { t } = visitorOf(request);
    const owner = (await findUserById(ctx.db, album.user_id))!;
    const form = readAlbumForm(request.body);
    if (!form.name) return renderAlbumForm(request, reply, owner, album, form, t('album.name-required'), 400);
    if (form.privacy === 'password' && !form.password && !album.password_hash) {
      return renderAlbumForm(request, reply, owner, album, form, t('album.password-required'), 400);
    }
    const parent = await parentFrom(form, album.user_id, album);
    if (parent === 'invalid') return renderAlbumForm(request, reply, owner, album, form, t('error.bad-request'), 400);
    const passwordHash = form.privacy !== 'password' ? null : form.password ? await hashPassword(form.password) : undefined;
    try {
      await editAlbum(ctx.db, album, { ...albumChanges(form, parent), passwordHash }, ctx.moderation.screenFor(visitorOf(request).user));
    } catch (error) {
      if (isError(error, 'stopWord')) return renderAlbumForm(request, reply, owner, album, form, t('moderation.stop-word'), 400);
      throw error;
    }
    return redirectWithNotice(reply, albumPath(kit, album), 'album-saved');
  });

  /** Deleting an album either deletes its files or moves them to another album (or out of any). */
  app.post<{ Params: { id: string } }>('/album/:id/delete', formRoute(['files', 'target']), async (request, reply) => {
    if (!requireUser(kit, request, reply)) return reply;
    const owned = await ownedAlbum(request);
    if (!owned) return renderError(kit, request, reply, 404, 'error.not-found');
    const { album } = owned;
    if (field(request.body, 'files') === 'delete') {
      await deleteAlbum(ctx.db, ctx.storage, album, { kind: 'delete' });
    } else {
      const targetText = field(request.body, 'target');
      const target = targetText ? await albumOf(targetText) : null;
      if (targetText && (!target || target.user_id !== album.user_id || target.id === album.id)) return renderError(kit, request, reply, 400, 'error.bad-request');
      await deleteAlbum(ctx.db, ctx.storage, album, { kind: 'move', target });
    }
    request.log.info({ albumId: album.id }, 'album deleted');
    const owner = await findUserById(ctx.db, album.user_id);
    return redirectTo(kit, reply, owner ? `/${owner.username}?tab=albums` : '/', 'album-deleted');
  });

  app.post<{ Params: { id: string } }>('/album/:id/move', formRoute(['image', 'target']), async (request, reply) => {
    if (!requireUser(kit, request, reply)) return reply;
    const owned = await ownedAlbum(request);
    if (!owned) return renderError(kit, request, reply, 404, 'error.not-found');
    const { album } = owned;
    const targetText = field(request.body, 'target');
    const target = targetText ? await albumOf(targetText) : null;
    if (targetText && (!target || target.user_id !== album.user_id)) return renderError(kit, request, reply, 400, 'error.bad-request');
    const ids = fieldList(request.body, 'image').map((text) => ctx.ids.decode(text)).filter((id): id is number => id !== null);
    await moveImagesTo(ctx.db, album.user_id, ids.slice(0, 500), target);
    return redirectWithNotice(reply, albumPath(kit, album), 'files-moved');
  });
}
