import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseByteSize } from '../../config/settings.js';
import { formatUtc } from '../../core/dates.js';
import { ShoeboxError } from '../../core/errors.js';
import { findImagesForAdmin, findUserByName, listAlbumsForAdmin, listImagesForAdmin, type FileFilters } from '../../db/repositories/admin.js';
import { deleteAlbumAsAdmin, deleteFiles, markFilesNsfw, moveFiles, setFilesExpiry } from '../../admin/file-admin.js';
import { listAllAlbumsOfUser } from '../../db/repositories/album-edits.js';
import { findAlbumById } from '../../db/repositories/albums.js';
import { parseExpiration } from '../../ingest/expiration.js';
import { imageTile } from '../cards.js';
import { field, fieldList, renderError, visitorOf, type WebKit } from '../web-kit.js';
import { albumPath } from '../cards.js';
import { actorOf, intField, needs, redirectDone, renderDashboard } from './dashboard-kit.js';
import { formRoute } from '../form-schemas.js';

const PAGE = 48;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Expiry choices of the multi-select form (ISO-8601 durations, as the API takes). */
export const EXPIRY_CHOICES = ['never', 'PT1H', 'P1D', 'P7D', 'P30D', 'P1Y'] as const;

function sizeOrNull(text: string): number | null {
  if (!text.trim()) return null;
  try {
    return parseByteSize(text, 'size');
  } catch {
    return null;
  }
}

function filtersOf(query: unknown, decodeAlbum: (text: string) => number | null): FileFilters {
  const pick = <T extends string>(name: string, allowed: readonly T[]): T => {
    const value = field(query, name);
    return ((allowed as readonly string[]).includes(value) ? value : '') as T;
  };
  const album = field(query, 'album').trim();
  return {
    user: field(query, 'user').trim().slice(0, 64),
    type: pick('type', ['', 'image', 'video'] as const),
    nsfw: pick('nsfw', ['', 'yes', 'no'] as const),
    albumId: album ? (decodeAlbum(album) ?? -1) : null,
    from: DATE.test(field(query, 'from')) ? field(query, 'from') : '',
    to: DATE.test(field(query, 'to')) ? field(query, 'to') : '',
    minBytes: sizeOrNull(field(query, 'min')),
    maxBytes: sizeOrNull(field(query, 'max')),
    expiring: pick('expiring', ['', 'yes', 'no'] as const),
  };
}

export async function registerFileRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const services = { db: ctx.db, storage: ctx.storage, ids: ctx.ids };
  const decode = (text: string) => (/^[A-Za-z0-9]{1,20}$/.test(text) ? ctx.ids.decode(text) : null);

  app.get('/dashboard/files', needs('files.view'), async (request, reply) => {
    const { t, formats: f } = visitorOf(request);
    const filters = filtersOf(request.query, decode);
    const page = intField(request.query, 'page', 1, 1, 100_000);
    const { images, total } = await listImagesForAdmin(ctx.db, filters, (page - 1) * PAGE, PAGE);
    const owner = filters.user && filters.user !== 'guest' ? await findUserByName(ctx.db, filters.user) : undefined;
    const params = new URLSearchParams();
    for (const name of ['user', 'type', 'nsfw', 'album', 'from', 'to', 'min', 'max', 'expiring']) {
      const value = field(request.query, name);
      if (value) params.set(name, value);
    }
    const pageLink = (n: number) => `${ctx.urls.basePath}/dashboard/files?${new URLSearchParams([...params, ['page', String(n)]])}`;
    return renderDashboard(kit, request, reply, 'files', {
      title: t('dashboard.files.title'),
      values: Object.fromEntries(['user', 'type', 'nsfw', 'album', 'from', 'to', 'min', 'max', 'expiring'].map((n) => [n, field(request.query, n)])),
      files: images.map((image) => ({
        ...imageTile(kit, image),
        username: image.username,
        albumName: image.album_name,
        size: f.size(image.size),
        date: f.dateOf(image.date_gmt),
        expires: image.expires_at ? f.dateTimeOf(image.expires_at) : null,
      })),
      total,
      page,
      prev: page > 1 ? pageLink(page - 1) : null,
      next: page * PAGE < total ? pageLink(page + 1) : null,
      albums: owner ? (await listAllAlbumsOfUser(ctx.db, owner.id)).map((a) => ({ id: ctx.ids.encode(a.id), name: a.name })) : null,
      expiryChoices: EXPIRY_CHOICES,
      returnTo: `${ctx.urls.basePath}/dashboard/files${params.size ? `?${params}` : ''}`,
    });
  });

  /** The ticked files of the multi-select form (public ids), as rows; unknown ids are skipped. */
  async function selected(request: FastifyRequest) {
    const ids = fieldList(request.body, 'id').slice(0, 500).map(decode).filter((id): id is number => id !== null);
    return findImagesForAdmin(ctx.db, ids);
  }
  const back = (request: FastifyRequest) => {
    const target = field(request.body, 'return');
    const base = `${ctx.urls.basePath}/dashboard/files`;
    return target === base || target.startsWith(`${base}?`) ? target.slice(ctx.urls.basePath.length) : '/dashboard/files';
  };
  const refuse = (request: FastifyRequest, reply: FastifyReply, key: string) => renderError(kit, request, reply, 400, `dashboard.error.${key}`);

  app.post('/dashboard/files/delete', formRoute(['confirm'], needs('files.delete')), async (request, reply) => {
    if (field(request.body, 'confirm') !== 'yes') return refuse(request, reply, 'confirm');
    const images = await selected(request);
    if (images.length === 0) return refuse(request, reply, 'none-selected');
    await deleteFiles(services, actorOf(request), images);
    request.log.info({ count: images.length }, 'dashboard: files deleted');
    return redirectDone(kit, reply, back(request), 'files-deleted');
  });

  app.post('/dashboard/files/edit', formRoute(['album', 'expiry', 'op'], needs('files.edit')), async (request, reply) => {
    const images = await selected(request);
    if (images.length === 0) return refuse(request, reply, 'none-selected');
    const op = field(request.body, 'op');
    if (op === 'nsfw' || op === 'sfw') {
      await markFilesNsfw(services, actorOf(request), images, op === 'nsfw');
      return redirectDone(kit, reply, back(request), op === 'nsfw' ? 'files-nsfw' : 'files-sfw');
    }
    if (op === 'expiry') {
      const choice = field(request.body, 'expiry');
      if (!(EXPIRY_CHOICES as readonly string[]).includes(choice)) return refuse(request, reply, 'bad-expiry');
      let expiresAt: string | null = null;
      if (choice !== 'never') {
        try {
          expiresAt = formatUtc(parseExpiration(choice, new Date(), 0));
        } catch (error) {
          if (error instanceof ShoeboxError) return refuse(request, reply, 'bad-expiry');
          throw error;
        }
      }
      await setFilesExpiry(services, actorOf(request), images, expiresAt, choice);
      return redirectDone(kit, reply, back(request), 'files-expiry');
    }
    if (op === 'move') {
      const text = field(request.body, 'album').trim();
      const albumId = text ? decode(text) : null;
      const album = albumId !== null ? await findAlbumById(ctx.db, albumId) : null;
      if (text && !album) return refuse(request, reply, 'no-album');
      // Files move only into an album of their own uploader.
      if (album && images.some((i) => i.user_id !== album.user_id)) return refuse(request, reply, 'album-owner');
      await moveFiles(services, actorOf(request), images, album ?? null);
      return redirectDone(kit, reply, back(request), 'files-moved');
    }
    return refuse(request, reply, 'bad-action');
  });

  app.get('/dashboard/albums', needs('albums.view'), async (request, reply) => {
    const { t, formats: f } = visitorOf(request);
    const q = field(request.query, 'q').slice(0, 100);
    const page = intField(request.query, 'page', 1, 1, 100_000);
    const { albums, total } = await listAlbumsForAdmin(ctx.db, q, (page - 1) * PAGE, PAGE);
    const link = (n: number) => `${ctx.urls.basePath}/dashboard/albums?${new URLSearchParams({ ...(q ? { q } : {}), page: String(n) })}`;
    return renderDashboard(kit, request, reply, 'albums', {
      title: t('dashboard.albums.title'),
      q,
      total,
      albums: albums.map((a) => ({
        id: ctx.ids.encode(a.id), name: a.name, href: albumPath(kit, a), username: a.username, files: a.files, privacy: a.privacy, date: f.dateOf(a.created_at),
        filesLink: `${ctx.urls.basePath}/dashboard/files?album=${ctx.ids.encode(a.id)}`,
      })),
      prev: page > 1 ? link(page - 1) : null,
      next: page * PAGE < total ? link(page + 1) : null,
    });
  });

  app.post<{ Params: { id: string } }>('/dashboard/albums/:id/delete', formRoute(['confirm', 'files'], needs('albums.delete')), async (request, reply) => {
    const id = decode(request.params.id);
    const album = id !== null ? await findAlbumById(ctx.db, id) : undefined;
    if (!album) return renderError(kit, request, reply, 404, 'error.not-found');
    if (field(request.body, 'confirm') !== 'yes') return refuse(request, reply, 'confirm');
    // The one album deletion (library/album-edits.ts), with its events; kept files never become more visible.
    const { madePrivate, deleted } = await deleteAlbumAsAdmin(services, actorOf(request), album, field(request.body, 'files') === 'keep');
    request.log.info({ albumId: album.id, madePrivate, deleted }, 'dashboard: album deleted');
    return redirectDone(kit, reply, '/dashboard/albums', madePrivate ? 'album-kept-private' : 'album-deleted');
  });
}
