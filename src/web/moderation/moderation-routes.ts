import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { countWaitingImages, findImagesByIds, listWaitingImages } from '../../db/repositories/moderation.js';
import type { UserRow } from '../../db/schema.js';
import { removeImage } from '../../ingest/remove-image.js';
import { isModerator } from '../../moderation/moderation.js';
import { approveFiles } from '../../moderation/queue.js';
import { takeDown } from '../../moderation/takedown.js';
import { findUserById } from '../../db/repositories/users.js';
import { imageTile } from '../cards.js';
import { requireUser } from '../routes/settings-routes.js';
import { field, fieldList, redirectTo, renderError, renderPage, visitorOf, type WebKit } from '../web-kit.js';
import { formRoute } from '../form-schemas.js';

/**
 * The approval queue (SHOEBOX_MODERATION): files waiting for a moderator, approved or removed
 * one by one or selected together. Removing puts the file on the takedown blocklist. Every
 * action goes to the audit log. Moderators only; anyone else gets the site's 404.
 */
export const QUEUE_PATH = '/moderation/queue';
const MAX_SELECTED = 200;

export async function registerModerationRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  function requireModerator(request: FastifyRequest, reply: FastifyReply): UserRow | null | 'refused' {
    const user = requireUser(kit, request, reply);
    if (!user) return null;
    return isModerator(user) ? user : 'refused';
  }

  app.get(QUEUE_PATH, async (request, reply) => {
    const user = requireModerator(request, reply);
    if (!user) return reply;
    if (user === 'refused') return renderError(kit, request, reply, 404, 'error.not-found');
    const { t } = visitorOf(request);
    const [rows, total] = await Promise.all([listWaitingImages(ctx.db), countWaitingImages(ctx.db)]);
    const done = field(request.query, 'done');
    reply.header('Cache-Control', 'no-store');
    return renderPage(kit, request, reply, 'moderation-queue', {
      title: t('moderation.queue.title'),
      total,
      done: /^(approved|removed):\d+$/.test(done) ? { action: done.split(':')[0], count: Number(done.split(':')[1]) } : null,
      files: await Promise.all(rows.map(async (image) => ({
        ...imageTile(kit, image),
        uploader: image.user_id === null ? null : (await findUserById(ctx.db, image.user_id))?.username ?? null,
        ip: image.uploader_ip,
        date: image.date_gmt,
      }))),
      action: kit.ctx.urls.basePath + QUEUE_PATH,
    });
  });

  app.post(QUEUE_PATH, formRoute(['action', 'image', 'one', 'reason']), async (request, reply) => {
    const user = requireModerator(request, reply);
    if (!user) return reply;
    if (user === 'refused') return renderError(kit, request, reply, 404, 'error.not-found');
    // One file's own button (`one` = action:id), or the selected files with the form's buttons.
    const one = /^(approve|remove):([A-Za-z0-9]+)$/.exec(field(request.body, 'one'));
    const action = one ? one[1] : field(request.body, 'action');
    const ids = (one ? [one[2]] : fieldList(request.body, 'image')).slice(0, MAX_SELECTED).map((id) => ctx.ids.decode(id)).filter((id): id is number => id !== null);
    if (!['approve', 'remove'].includes(action) || ids.length === 0) return renderError(kit, request, reply, 400, 'error.bad-request');
    const images = (await findImagesByIds(ctx.db, ids)).filter((image) => image.is_approved === 0);
    const actor = { name: user.username, ip: request.ip };
    let count: number;
    if (action === 'approve') {
      count = await approveFiles(ctx.db, images, actor);
    } else {
      count = await takeDown(
        { db: ctx.db, blocklist: ctx.moderation.blocklist, removeImage: (image) => removeImage(ctx.db, ctx.storage, image) },
        images,
        { reason: field(request.body, 'reason').trim().slice(0, 500) || 'removed from the approval queue', actor, action: 'queue.remove' },
      );
    }
    return redirectTo(kit, reply, `${QUEUE_PATH}?done=${action === 'approve' ? 'approved' : 'removed'}:${count}`);
  });
}
