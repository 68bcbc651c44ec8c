import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Static } from 'typebox';
import type { AppContext } from '../context.js';
import { formatUtc } from '../core/dates.js';
import { errors, pageKeyOf } from '../core/errors.js';
import { findAlbumById } from '../db/repositories/albums.js';
import { deleteUser, disableUser, enableUser } from '../admin/user-admin.js';
import { recordAdminAction } from '../admin/audit.js';
import { roleOf } from '../core/roles.js';
import { countImagesInAlbum, countImagesInAlbums, listOwnerAlbums, listOwnerImages, listUsersPage, usageOf } from '../db/repositories/api-listings.js';
import { findImageById, findTagsOfImage } from '../db/repositories/images.js';
import { countWaitingImages, findImagesByIds, insertAuditEntry, listWaitingImages } from '../db/repositories/moderation.js';
import type { IpBanRow } from '../db/moderation-schema.js';
import { parseDuration } from '../moderation/ip-bans.js';
import { IpRangeError } from '../moderation/ip-ranges.js';
import { approveFiles } from '../moderation/queue.js';
import { takeDown } from '../moderation/takedown.js';
import { authenticateApiKey, type ApiScope, type ResolvedApiKey } from '../db/repositories/named-api-keys.js';
import { createUser, findUserById, hashPassword } from '../db/repositories/users.js';
import type { AlbumRow, ImageRow, UserRow } from '../db/schema.js';
import { parseExpiration } from '../ingest/expiration.js';
import { maxBytesFor, parseTags } from '../ingest/ingest-upload.js';
import { truncateTitle } from '../ingest/naming.js';
import { removeQuietly } from '../ingest/spool.js';
import { removeImage } from '../ingest/remove-image.js';
import { buildAlbumObject } from '../library/album-object.js';
import { createAlbumOf, deleteAlbum, editAlbum, isValidParent } from '../library/album-edits.js';
import { editImage, type ImageChanges } from '../library/image-edits.js';
// The upload contract every door speaks: the image object, the envelope, V1's parameters, runUpload.
import { envelopeErrorHandler } from '../uploads/envelope.js';
import { buildImageObject } from '../uploads/image-object.js';
import { runUpload, uploadFailure } from '../uploads/run-upload.js';
import { liveTextBodyLimit, TEXT_BODY_ROUTE_LIMIT } from '../uploads/text-body-limit.js';
import { readUploadBody, registerStreamedUploadBodies, uploadSourceOf, type UploadBody } from '../uploads/upload-body.js';
import { apiKeyHeader } from '../uploads/uploader.js';
import * as S from './schemas.js';

/**
 * The management API (Chevereto's API V4 paths, app/routing/user.api-v4.php and
 * admin.api-v4.php): a door like the others, thin routes over the library services. Every
 * route declares its schemas; `X-API-Key` with the route's scope; errors in V1's envelope.
 */

const USER = '/api/4/user';
const ADMIN = '/api/4/admin';


const ok = (message: string) => ({ status_code: 200 as const, success: { message, code: 200 }, status_txt: 'OK' as const });

export async function registerApiV4(parent: FastifyInstance, ctx: AppContext): Promise<void> {
  await parent.register(async (app) => routes(app, ctx));
}

async function routes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const { ids, urls, db } = ctx;
  // Answers are serialised by the routes' response schemas (fast-json-stringify); the image
  // object's schema lists V1's fields in V1's order (api4/schemas.ts), so nothing is dropped or moved.
  app.setErrorHandler(envelopeErrorHandler());

  async function auth(request: FastifyRequest, scope: ApiScope): Promise<ResolvedApiKey> {
    const key = apiKeyHeader(request.headers);
    if (!key) throw errors.noKey();
    return authenticateApiKey(db, key, scope, request.ip);
  }

  const decode = (encoded: string): number | null => ids.decode(encoded);

  async function imageObjectOf(image: ImageRow) {
    return buildImageObject(image, await findTagsOfImage(db, image.id), null, { settings: ctx.settings, urls });
  }

  /** The key owner's file; anyone else's (or none) is a 404, never a hint that it exists. */
  async function ownImage(user: UserRow, encoded: string): Promise<ImageRow> {
    const id = decode(encoded);
    const image = id === null ? undefined : await findImageById(db, id);
    if (!image || image.user_id !== user.id) throw errors.notFound('Image not found');
    return image;
  }

  async function ownAlbum(user: UserRow, encoded: string, what = 'Album not found'): Promise<AlbumRow> {
    const id = decode(encoded);
    const album = id === null ? undefined : await findAlbumById(db, id);
    if (!album || album.user_id !== user.id) throw errors.notFound(what);
    return album;
  }

  function cursorId(cursor: string | undefined): number | undefined {
    if (cursor === undefined) return undefined;
    const id = decode(cursor);
    if (id === null) throw errors.badParameter('cursor', 'not a cursor of this API');
    return id;
  }

  function utcOf(text: string | undefined, endOfDay: boolean): string | undefined {
    if (!text) return undefined;
    return text.length === 10 ? `${text} ${endOfDay ? '23:59:59' : '00:00:00'}` : text;
  }

  /** A PATCH body into the library's changes (album checked to be the owner's, expiration parsed as V1 does). */
  async function changesOf(user: UserRow, body: Static<typeof S.ImagePatch>): Promise<ImageChanges> {
    const changes: ImageChanges = {};
    if (body.title !== undefined) changes.title = body.title?.trim() ? truncateTitle(body.title.trim()) : null;
    if (body.description !== undefined) changes.description = body.description?.trim() || null;
    if (body.nsfw !== undefined) changes.nsfw = S.isOn(body.nsfw);
    if (body.tags !== undefined) changes.tags = parseTags(Array.isArray(body.tags) ? body.tags.join(',') : body.tags);
    if (body.album_id !== undefined) changes.album = body.album_id === null ? null : await ownAlbum(user, body.album_id);
    if (body.category_id !== undefined) changes.categoryId = body.category_id === null ? null : Number(body.category_id);
    if (body.expiration !== undefined) {
      changes.expiresAt = body.expiration === null ? null : formatUtc(parseExpiration(body.expiration, new Date(), ctx.settings.maxExpirationSeconds));
    }
    return changes;
  }

  const tags = (name: string) => ({ tags: [name], security: [{ apiKey: [] }] });

  // ---- images ---------------------------------------------------------------------------

  app.get<{ Querystring: Static<typeof S.ImageListQuery> }>(`${USER}/images/list/`, {
    schema: { ...tags('images'), summary: "The key owner's files, newest first", querystring: S.ImageListQuery, response: { 200: S.ImageListAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'read');
    const q = request.query;
    let albumId: number | null | undefined;
    if (q.album === 'none') albumId = null;
    else if (q.album !== undefined) albumId = (await ownAlbum(user, q.album)).id;
    const limit = q.limit ?? 50;
    const page = await listOwnerImages(db, {
      userId: user.id, albumId, type: q.type, nsfw: q.nsfw === undefined ? undefined : S.isOn(q.nsfw), search: q.q, from: utcOf(q.from, false), to: utcOf(q.to, true), beforeId: cursorId(q.cursor), limit,
    });
    const images = await Promise.all(page.items.map(imageObjectOf));
    return { ...ok('images'), images, next_cursor: page.more ? ids.encode(page.items[page.items.length - 1].id) : null };
  });

  app.get<{ Params: Static<typeof S.IdParams> }>(`${USER}/images/:id/`, {
    schema: { ...tags('images'), summary: 'One of your files', params: S.IdParams, response: { 200: S.ImageAnswer, ...S.errorAnswers(401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'read');
    return { ...ok('image'), image: await imageObjectOf(await ownImage(user, request.params.id)) };
  });

  app.patch<{ Params: Static<typeof S.IdParams>; Body: Static<typeof S.ImagePatch> }>(`${USER}/images/:id/`, {
    schema: { ...tags('images'), summary: "Changes a file's title, description, tags, NSFW flag, album, category or expiration", params: S.IdParams, body: S.ImagePatch, response: { 200: S.ImageAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'write');
    const image = await ownImage(user, request.params.id);
    const updated = await editImage(db, image, await changesOf(user, request.body), ctx.moderation.screenFor(user));
    return { ...ok('image updated'), image: await imageObjectOf(updated) };
  });

  app.delete<{ Params: Static<typeof S.IdParams> }>(`${USER}/images/:id/`, {
    schema: { ...tags('images'), summary: 'Deletes one of your files', params: S.IdParams, response: { 200: S.DeletedAnswer, ...S.errorAnswers(401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'delete');
    const image = await ownImage(user, request.params.id);
    await removeImage(db, ctx.storage, image);
    return { ...ok('image deleted'), deleted: [request.params.id] };
  });

  app.patch<{ Body: Static<typeof S.BulkPatch> }>(`${USER}/images/bulk/`, {
    schema: { ...tags('images'), summary: 'The same changes, or deletion, on a list of your files', body: S.BulkPatch, response: { 200: S.BulkAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const action = request.body.action ?? 'update';
    const { user } = await auth(request, action === 'delete' ? 'delete' : 'write');
    if (action === 'update' && !request.body.changes) throw errors.badParameter('changes', 'required when action is update');
    // Every change is checked (the album is the owner's, the expiration parses) before any file is touched.
    const changes = action === 'update' ? await changesOf(user, request.body.changes!) : null;
    const updated: string[] = [];
    const deleted: string[] = [];
    const notFound: string[] = [];
    for (const encoded of [...new Set(request.body.ids)]) {
      const id = decode(encoded);
      const image = id === null ? undefined : await findImageById(db, id);
      if (!image || image.user_id !== user.id) {
        notFound.push(encoded);
        continue;
      }
      if (changes) {
        await editImage(db, image, changes, ctx.moderation.screenFor(user));
        updated.push(encoded);
      } else if (await removeImage(db, ctx.storage, image)) {
        deleted.push(encoded);
      } else notFound.push(encoded);
    }
    return { ...ok('bulk done'), updated, deleted, not_found: notFound };
  });

  // In a scope of its own: its form and JSON bodies reach it as a stream (base64 decoded to disk as it arrives).
  await app.register(async (scope) => {
    registerStreamedUploadBodies(scope);
    scope.post(`${USER}/images/`, {
      schema: {
        ...tags('images'),
        summary: 'Uploads a file exactly as /api/1/upload does (multipart `source`, or a URL / base64 in `source`)',
        consumes: ['multipart/form-data', 'application/x-www-form-urlencoded', 'application/json'],
        response: { 200: S.UploadAnswer, ...S.errorAnswers(400, 401, 403, 409, 413, 415, 429) },
      },
      // A file may come as base64 text in a JSON body, as on /api/1/upload, up to the upload size as it
      // is now (the dashboard may change it while the site runs); forms are streamed with the same limit.
      bodyLimit: TEXT_BODY_ROUTE_LIMIT,
      preParsing: liveTextBodyLimit(ctx.settings),
    }, async (request, reply) => uploadV4(ctx, request, reply, auth));
  });

  // ---- albums ---------------------------------------------------------------------------

  app.get<{ Querystring: Static<typeof S.PageQuery> }>(`${USER}/albums/list/`, {
    schema: { ...tags('albums'), summary: 'Your albums, newest first', querystring: S.PageQuery, response: { 200: S.AlbumListAnswer, ...S.errorAnswers(400, 401, 403) } },
  }, async (request) => {
    const { user } = await auth(request, 'read');
    const limit = request.query.limit ?? 50;
    const page = await listOwnerAlbums(db, user.id, limit, cursorId(request.query.cursor));
    // The same album object as GET albums/{id}/, file count included.
    const counts = await countImagesInAlbums(db, page.items.map((a) => a.id));
    return {
      ...ok('albums'),
      albums: page.items.map((a) => buildAlbumObject(a, urls, { image_count: counts.get(a.id) ?? 0 })),
      next_cursor: page.more ? ids.encode(page.items[page.items.length - 1].id) : null,
    };
  });

  app.post<{ Body: Static<typeof S.AlbumCreate> }>(`${USER}/albums/`, {
    schema: { ...tags('albums'), summary: 'Creates an album', body: S.AlbumCreate, response: { 200: S.AlbumAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'write');
    const body = request.body;
    const privacy = body.privacy ?? 'public';
    if (privacy === 'password' && !body.password) throw errors.badParameter('password', 'required for a password album');
    const parent = body.parent_id ? await ownAlbum(user, body.parent_id, 'Parent album not found') : null;
    const album = await createAlbumOf(db, {
      userId: user.id, name: body.name.trim() || body.name, description: body.description?.trim() || null, privacy, parentId: parent?.id ?? null,
      passwordHash: privacy === 'password' ? await hashPassword(body.password!) : null,
    }, ctx.moderation.screenFor(user));
    return { ...ok('album created'), album: buildAlbumObject(album, urls, { image_count: 0 }) };
  });

  app.get<{ Params: Static<typeof S.IdParams> }>(`${USER}/albums/:id/`, {
    schema: { ...tags('albums'), summary: 'One of your albums', params: S.IdParams, response: { 200: S.AlbumAnswer, ...S.errorAnswers(401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'read');
    const album = await ownAlbum(user, request.params.id);
    return { ...ok('album'), album: buildAlbumObject(album, urls, { image_count: await countImagesInAlbum(db, album.id) }) };
  });

  app.get<{ Params: Static<typeof S.IdParams>; Querystring: Static<typeof S.PageQuery> }>(`${USER}/albums/:id/contents/`, {
    schema: { ...tags('albums'), summary: "An album's files, newest first", params: S.IdParams, querystring: S.PageQuery, response: { 200: S.ImageListAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'read');
    const album = await ownAlbum(user, request.params.id);
    const limit = request.query.limit ?? 50;
    const page = await listOwnerImages(db, { userId: user.id, albumId: album.id, beforeId: cursorId(request.query.cursor), limit });
    const images = await Promise.all(page.items.map(imageObjectOf));
    return { ...ok('album contents'), images, next_cursor: page.more ? ids.encode(page.items[page.items.length - 1].id) : null };
  });

  app.patch<{ Params: Static<typeof S.IdParams>; Body: Static<typeof S.AlbumPatch> }>(`${USER}/albums/:id/`, {
    schema: { ...tags('albums'), summary: "Changes an album's name, description, privacy, password, parent or cover", params: S.IdParams, body: S.AlbumPatch, response: { 200: S.AlbumAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'write');
    const album = await ownAlbum(user, request.params.id);
    const body = request.body;
    const privacy = body.privacy ?? (album.privacy as Static<typeof S.AlbumPrivacy>);
    if (privacy === 'password' && !body.password && !album.password_hash) throw errors.badParameter('password', 'required for a password album');
    let parentId = album.parent_id;
    if (body.parent_id !== undefined) {
      if (body.parent_id === null) parentId = null;
      else {
        const parent = await ownAlbum(user, body.parent_id, 'Parent album not found');
        if (!(await isValidParent(db, album, parent, user.id))) throw errors.badParameter('parent_id', 'an album cannot move inside itself');
        parentId = parent.id;
      }
    }
    let cover: number | null | undefined;
    if (body.cover_id !== undefined) {
      if (body.cover_id === null) cover = null;
      else {
        const image = await ownImage(user, body.cover_id);
        if (image.album_id !== album.id) throw errors.badParameter('cover_id', 'the cover must be a file of the album');
        cover = image.id;
      }
    }
    const passwordHash = privacy !== 'password' ? null : body.password ? await hashPassword(body.password) : undefined;
    const updated = await editAlbum(db, album, {
      name: body.name?.trim() || album.name,
      description: body.description !== undefined ? body.description?.trim() || null : album.description,
      privacy,
      parentId,
      passwordHash,
    }, ctx.moderation.screenFor(user), cover);
    return { ...ok('album updated'), album: buildAlbumObject(updated, urls, { image_count: await countImagesInAlbum(db, album.id) }) };
  });

  app.delete<{ Params: Static<typeof S.IdParams>; Querystring: Static<typeof S.AlbumDeleteQuery> }>(`${USER}/albums/:id/`, {
    schema: { ...tags('albums'), summary: 'Deletes an album, keeping its files (moved out of it) or deleting them', params: S.IdParams, querystring: S.AlbumDeleteQuery, response: { 200: S.DeletedAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const { user } = await auth(request, 'delete');
    const album = await ownAlbum(user, request.params.id);
    await deleteAlbum(db, ctx.storage, album, request.query.files === 'delete' ? { kind: 'delete' } : { kind: 'move', target: null });
    return { ...ok('album deleted'), deleted: [request.params.id] };
  });

  // ---- account --------------------------------------------------------------------------

  app.get(`${USER}/account/`, {
    schema: { ...tags('account'), summary: "The key's user, what the key may do, limits and usage", response: { 200: S.AccountAnswer, ...S.errorAnswers(401, 403) } },
  }, async (request) => {
    const key = await auth(request, 'read');
    return {
      ...ok('account'),
      user: userObject(key.user),
      key: { label: key.label, scopes: key.scopes },
      limits: { max_upload_bytes: maxBytesFor(ctx.settings, { user: key.user, ip: request.ip }), uploads_per_minute: ctx.settings.floodUploadsPerMinute || null },
      usage: await usageOf(db, key.user.id),
    };
  });

  // ---- admin: users ---------------------------------------------------------------------

  function userObject(user: UserRow) {
    return { id_encoded: ids.encode(user.id), username: user.username, email: user.email, is_admin: user.is_admin === 1, disabled: Boolean(user.disabled_at), date_gmt: user.created_at };
  }

  const actorOf = (key: ResolvedApiKey, ip: string) => ({ role: roleOf(key.user) ?? 'user', userId: key.user.id, name: key.user.username, ip });

  /** Runs one of the dashboard's admin actions; its refusals (last admin, rank) answer in the envelope. */
  async function asAdminAction(action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (error) {
      if (pageKeyOf(error)) throw errors.forbidden((error as Error).message);
      throw error;
    }
  }

  async function userOf(encoded: string): Promise<UserRow> {
    const id = decode(encoded);
    const user = id === null ? undefined : await findUserById(db, id);
    if (!user) throw errors.notFound('User not found');
    return user;
  }

  app.get<{ Querystring: Static<typeof S.PageQuery> }>(`${ADMIN}/users/`, {
    schema: { ...tags('admin'), summary: 'Every user, newest first (admin keys)', querystring: S.PageQuery, response: { 200: S.UserListAnswer, ...S.errorAnswers(400, 401, 403) } },
  }, async (request) => {
    await auth(request, 'admin');
    const limit = request.query.limit ?? 50;
    const page = await listUsersPage(db, limit, cursorId(request.query.cursor));
    return { ...ok('users'), users: page.items.map(userObject), next_cursor: page.more ? ids.encode(page.items[page.items.length - 1].id) : null };
  });

  app.post<{ Body: Static<typeof S.UserCreate> }>(`${ADMIN}/users/`, {
    schema: { ...tags('admin'), summary: 'Creates a user (admin keys)', body: S.UserCreate, response: { 200: S.UserAnswer, ...S.errorAnswers(400, 401, 403, 409) } },
  }, async (request) => {
    const key = await auth(request, 'admin');
    const body = request.body;
    await ctx.moderation.checkUsername(body.username);
    const user = await createUser(db, { username: body.username, password: body.password, email: body.email ?? null, isAdmin: S.isOn(body.is_admin ?? false) });
    await recordAdminAction(db, { name: key.user.username, ip: request.ip }, 'user.create', user.username, S.isOn(body.is_admin ?? false) ? 'role admin (management API)' : 'role user (management API)');
    return { ...ok('user created'), user: userObject(user) };
  });

  app.get<{ Params: Static<typeof S.IdParams> }>(`${ADMIN}/users/:id/`, {
    schema: { ...tags('admin'), summary: 'One user (admin keys)', params: S.IdParams, response: { 200: S.UserAnswer, ...S.errorAnswers(401, 403, 404) } },
  }, async (request) => {
    await auth(request, 'admin');
    return { ...ok('user'), user: userObject(await userOf(request.params.id)) };
  });

  app.patch<{ Params: Static<typeof S.IdParams>; Body: Static<typeof S.UserPatch> }>(`${ADMIN}/users/:id/`, {
    schema: { ...tags('admin'), summary: 'Disables or enables a user: a disabled user\'s keys stop working (admin keys)', params: S.IdParams, body: S.UserPatch, response: { 200: S.UserAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const key = await auth(request, 'admin');
    const user = await userOf(request.params.id);
    if (user.id === key.user.id && S.isOn(request.body.disabled)) throw errors.forbidden('An admin cannot disable their own account');
    // The dashboard's rules (issue 16's user-admin.ts): the last admin stays, a manager never touches an admin.
    await asAdminAction(() => (S.isOn(request.body.disabled) ? disableUser : enableUser)(ctx, actorOf(key, request.ip), user));
    return { ...ok('user updated'), user: userObject((await findUserById(db, user.id))!) };
  });

  app.delete<{ Params: Static<typeof S.IdParams>; Querystring: Static<typeof S.UserDeleteQuery> }>(`${ADMIN}/users/:id/`, {
    schema: { ...tags('admin'), summary: 'Deletes a user and their albums; their files too unless files=keep (admin keys)', params: S.IdParams, querystring: S.UserDeleteQuery, response: { 200: S.DeletedAnswer, ...S.errorAnswers(401, 403, 404) } },
  }, async (request) => {
    const key = await auth(request, 'admin');
    const user = await userOf(request.params.id);
    if (user.id === key.user.id) throw errors.forbidden('An admin cannot delete their own account');
    await asAdminAction(() => deleteUser(ctx, actorOf(key, request.ip), user, { keepFiles: request.query.files === 'keep' }));
    return { ...ok('user deleted'), deleted: [request.params.id] };
  });

  // ---- admin: moderation (the approval queue, takedowns, IP bans) --------------------------
  // Through moderation's services (moderation/queue.ts, takedown.ts, ip-bans.ts): the same
  // rules, blocklist and audit log as the queue page and the CLI.

  const actorOfKey = (key: ResolvedApiKey, request: FastifyRequest) => ({ name: key.user.username, ip: request.ip });

  /** Decodes a list of ids: the files found, and the ids that name none. */
  async function imagesOfIds(encodedIds: string[]): Promise<{ found: ImageRow[]; notFound: string[] }> {
    const unique = [...new Set(encodedIds)];
    const decoded = unique.map((encoded) => ({ encoded, id: decode(encoded) }));
    const rows = await findImagesByIds(db, decoded.flatMap((d) => (d.id === null ? [] : [d.id])));
    const byId = new Map(rows.map((row) => [row.id, row]));
    const found: ImageRow[] = [];
    const notFound: string[] = [];
    for (const d of decoded) {
      const row = d.id === null ? undefined : byId.get(d.id);
      if (row) found.push(row);
      else notFound.push(d.encoded);
    }
    return { found, notFound };
  }

  app.get<{ Querystring: Static<typeof S.QueueQuery> }>(`${ADMIN}/images/queue/`, {
    schema: { ...tags('admin'), summary: 'Files waiting for approval, oldest first (admin keys)', querystring: S.QueueQuery, response: { 200: S.QueueAnswer, ...S.errorAnswers(400, 401, 403) } },
  }, async (request) => {
    await auth(request, 'admin');
    const [rows, total] = await Promise.all([listWaitingImages(db, request.query.limit ?? 100), countWaitingImages(db)]);
    return { ...ok('approval queue'), images: await Promise.all(rows.map(imageObjectOf)), total };
  });

  app.patch<{ Body: Static<typeof S.ApproveBody> }>(`${ADMIN}/images/bulk/approve/`, {
    schema: { ...tags('admin'), summary: 'Approves files waiting for approval: they become visible (admin keys)', body: S.ApproveBody, response: { 200: S.ApproveAnswer, ...S.errorAnswers(400, 401, 403) } },
  }, async (request) => {
    const key = await auth(request, 'admin');
    const { found, notFound } = await imagesOfIds(request.body.ids);
    const waiting = found.filter((image) => image.is_approved === 0);
    if (waiting.length > 0) await approveFiles(db, waiting, actorOfKey(key, request));
    return {
      ...ok('files approved'),
      approved: waiting.map((image) => ids.encode(image.id)),
      not_waiting: found.filter((image) => image.is_approved !== 0).map((image) => ids.encode(image.id)),
      not_found: notFound,
    };
  });

  app.patch<{ Body: Static<typeof S.TakedownBody> }>(`${ADMIN}/images/bulk/takedown/`, {
    schema: {
      ...tags('admin'),
      summary: 'Removes files and puts them on the takedown blocklist (the same file or picture is refused later); written to the audit log (admin keys)',
      body: S.TakedownBody,
      response: { 200: S.TakedownAnswer, ...S.errorAnswers(400, 401, 403) },
    },
  }, async (request) => {
    const key = await auth(request, 'admin');
    const { found, notFound } = await imagesOfIds(request.body.ids);
    if (found.length > 0) {
      await takeDown(
        { db, blocklist: ctx.moderation.blocklist, removeImage: (image) => removeImage(db, ctx.storage, image) },
        found,
        { reason: request.body.reason?.trim() || 'taken down through the API', actor: actorOfKey(key, request), action: 'api.takedown' },
      );
    }
    return { ...ok('files taken down'), removed: found.map((image) => ids.encode(image.id)), not_found: notFound };
  });

  const banObject = (ban: IpBanRow) => ({ range: ban.range, message: ban.message, expires_at: ban.expires_at, created_at: ban.created_at, created_by: ban.created_by });

  /** An address or range the moderation layer refuses is a 400 naming the field. */
  async function asRange<T>(field: string, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (error instanceof IpRangeError) throw errors.badParameter(field, error.message);
      throw error;
    }
  }

  app.get(`${ADMIN}/bans/ip/`, {
    schema: { ...tags('admin'), summary: 'The IP bans in force (admin keys)', response: { 200: S.BanListAnswer, ...S.errorAnswers(401, 403) } },
  }, async (request) => {
    await auth(request, 'admin');
    return { ...ok('ip bans'), bans: (await ctx.moderation.bans.list()).map(banObject) };
  });

  app.post<{ Body: Static<typeof S.BanCreate> }>(`${ADMIN}/bans/ip/`, {
    schema: { ...tags('admin'), summary: 'Bans an address or range from uploading and posting, for a while or without end (admin keys)', body: S.BanCreate, response: { 200: S.BanAnswer, ...S.errorAnswers(400, 401, 403) } },
  }, async (request) => {
    const key = await auth(request, 'admin');
    const body = request.body;
    const expiresAt = body.expires ? new Date(Date.now() + parseDuration(body.expires) * 1000) : null;
    const actor = actorOfKey(key, request);
    const row = await asRange('ip', () => ctx.moderation.bans.add(body.ip, { expiresAt, message: body.message ?? null, by: actor.name }));
    await insertAuditEntry(db, { actor: actor.name, action: 'ban.add', target: row.range, detail: [row.message, row.expires_at && `until ${row.expires_at}`].filter(Boolean).join('; ') || null, ip: actor.ip });
    return { ...ok('ip banned'), ban: banObject(row) };
  });

  app.patch<{ Params: Static<typeof S.BanParams>; Body: Static<typeof S.BanPatch> }>(`${ADMIN}/bans/ip/:ip/`, {
    schema: { ...tags('admin'), summary: 'Changes a ban\'s message or how long it lasts (admin keys)', params: S.BanParams, body: S.BanPatch, response: { 200: S.BanAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const key = await auth(request, 'admin');
    const body = request.body;
    const expiresAt = body.expires === undefined ? undefined : body.expires === null ? null : new Date(Date.now() + parseDuration(body.expires) * 1000);
    const actor = actorOfKey(key, request);
    const row = await asRange('ip', () => ctx.moderation.bans.update(request.params.ip, { message: body.message, expiresAt }));
    if (!row) throw errors.notFound(`No ban on ${request.params.ip}`);
    await insertAuditEntry(db, { actor: actor.name, action: 'ban.change', target: row.range, detail: [row.message, row.expires_at ? `until ${row.expires_at}` : 'no end'].filter(Boolean).join('; '), ip: actor.ip });
    return { ...ok('ip ban changed'), ban: banObject(row) };
  });

  app.delete<{ Params: Static<typeof S.BanParams> }>(`${ADMIN}/bans/ip/:ip/`, {
    schema: { ...tags('admin'), summary: 'Lifts the ban on an address or range (admin keys)', params: S.BanParams, response: { 200: S.DeletedAnswer, ...S.errorAnswers(400, 401, 403, 404) } },
  }, async (request) => {
    const key = await auth(request, 'admin');
    const removed = await asRange('ip', () => ctx.moderation.bans.remove(request.params.ip));
    if (!removed) throw errors.notFound(`No ban on ${request.params.ip}`);
    await insertAuditEntry(db, { actor: key.user.username, action: 'ban.remove', target: request.params.ip, ip: request.ip });
    return { ...ok('ip ban lifted'), deleted: [request.params.ip] };
  });
}

// ---- POST images/: the V1 upload, through the one pipeline --------------------------------

/** `POST images/`: who uploads (the key, scope `upload`), the body read as V1 reads it, then the contract's runUpload. */
async function uploadV4(ctx: AppContext, request: FastifyRequest, reply: FastifyReply, auth: (r: FastifyRequest, s: ApiScope) => Promise<ResolvedApiKey>) {
  let body: UploadBody | null = null;
  try {
    const { user } = await auth(request, 'upload');
    body = await readUploadBody(ctx.settings, request, 'api4-');
    // V4 always answers the Chevereto shape its schema describes (an `image` field too).
    const { source } = uploadSourceOf(body);
    const answer = await runUpload(ctx, { uploader: { user, ip: request.ip }, source, params: body.params, log: request.log, what: 'upload stored (api 4)' });
    return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
  } catch (error) {
    const answer = await uploadFailure(ctx, error, request.log);
    return reply.code(answer.status).type('application/json; charset=utf-8').send(answer.body);
  } finally {
    if (body?.spoolDir) await removeQuietly(body.spoolDir);
  }
}
