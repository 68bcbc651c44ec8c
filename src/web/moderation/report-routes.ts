import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findAlbumById } from '../../db/repositories/albums.js';
import { findImageById } from '../../db/repositories/images.js';
import { insertAuditEntry, insertReport, listOpenReports, resolveReportsOf } from '../../db/repositories/moderation.js';
import { findUserById } from '../../db/repositories/users.js';
import type { UserRow } from '../../db/schema.js';
import { removeImage } from '../../ingest/remove-image.js';
import { isModerator } from '../../moderation/moderation.js';
import { takeDown } from '../../moderation/takedown.js';
import { albumPath, imageTile } from '../cards.js';
import { requireUser } from '../routes/settings-routes.js';
import { field, redirectTo, redirectWithNotice, renderError, renderPage, visitorOf, type WebKit } from '../web-kit.js';
import { formRoute } from '../form-schemas.js';

/**
 * Reports: anyone (visitors too) may report a file or an album from its page, with a reason
 * from a short list and a note; each address may send SHOEBOX_REPORT_LIMIT an hour. Moderators
 * see them at /moderation/reports grouped by what they report, with the reasons and counts,
 * and remove the file, remove it and ban the uploader's address, or dismiss the reports.
 */
export const REPORT_REASONS = ['spam', 'illegal', 'copyright', 'sexual', 'violence', 'other'] as const;
export const REPORTS_PATH = '/moderation/reports';
const MAX_NOTE = 1000;

export async function registerReportRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  // Checked by Origin/Referer rather than a token (site.ts), like the footer's forms: the form is on
  // viewer pages that visitors without a session get from the page cache, which carry no token.
  app.post('/report', formRoute(['note', 'reason', 'target'], { config: { csrf: 'same-origin' } }), async (request, reply) => {
    const { user } = visitorOf(request);
    const target = /^(image|album):([A-Za-z0-9]+)$/.exec(field(request.body, 'target'));
    const reason = field(request.body, 'reason');
    if (!target || !(REPORT_REASONS as readonly string[]).includes(reason)) return renderError(kit, request, reply, 400, 'error.bad-request');
    const id = ctx.ids.decode(target[2]);
    const image = target[1] === 'image' && id !== null ? await findImageById(ctx.db, id) : undefined;
    const album = target[1] === 'album' && id !== null ? await findAlbumById(ctx.db, id) : undefined;
    if (!image && !album) return renderError(kit, request, reply, 404, 'error.not-found');
    if ((await ctx.hits.hit(`report:ip:${request.ip}`, 3600)) > ctx.settings.reportsPerHour) {
      return renderError(kit, request, reply, 429, 'moderation.report.too-many');
    }
    await insertReport(ctx.db, {
      imageId: image?.id ?? null, albumId: album?.id ?? null, reason,
      note: field(request.body, 'note').trim().slice(0, MAX_NOTE) || null, reporterId: user?.id ?? null, reporterIp: request.ip,
    });
    const back = image ? ctx.urls.viewerPath(image) : albumPath(kit, album!);
    return redirectWithNotice(reply, back, 'reported');
  });

  function moderatorOf(request: FastifyRequest, reply: FastifyReply): UserRow | null | 'refused' {
    const user = requireUser(kit, request, reply);
    if (!user) return null;
    return isModerator(user) ? user : 'refused';
  }

  app.get(REPORTS_PATH, async (request, reply) => {
    const user = moderatorOf(request, reply);
    if (!user) return reply;
    if (user === 'refused') return renderError(kit, request, reply, 404, 'error.not-found');
    const { t } = visitorOf(request);
    const groups = new Map<string, { target: string; reasons: Record<string, number>; notes: string[]; count: number }>();
    for (const report of await listOpenReports(ctx.db)) {
      const target = report.image_id !== null ? `image:${report.image_id}` : `album:${report.album_id}`;
      const group = groups.get(target) ?? { target, reasons: {}, notes: [], count: 0 };
      group.count++;
      group.reasons[report.reason] = (group.reasons[report.reason] ?? 0) + 1;
      if (report.note) group.notes.push(report.note);
      groups.set(target, group);
    }
    const items = [];
    for (const group of groups.values()) {
      const [kind, idText] = group.target.split(':');
      const id = Number(idText);
      if (kind === 'image') {
        const image = await findImageById(ctx.db, id);
        if (!image) continue;
        const owner = image.user_id ? await findUserById(ctx.db, image.user_id) : undefined;
        items.push({ ...group, key: `image:${ctx.ids.encode(id)}`, tile: imageTile(kit, image), name: imageTile(kit, image).title, href: ctx.urls.viewerPath(image), uploader: owner?.username ?? null, ip: image.uploader_ip, isImage: true });
      } else {
        const album = await findAlbumById(ctx.db, id);
        if (!album) continue;
        const owner = await findUserById(ctx.db, album.user_id);
        items.push({ ...group, key: `album:${ctx.ids.encode(id)}`, tile: null, name: album.name, href: albumPath(kit, album), uploader: owner?.username ?? null, ip: null, isImage: false });
      }
    }
    items.sort((a, b) => b.count - a.count);
    reply.header('Cache-Control', 'no-store');
    return renderPage(kit, request, reply, 'moderation-reports', {
      title: t('moderation.reports.title'),
      items,
      reasons: REPORT_REASONS,
      done: /^(removed|banned|dismissed)$/.test(field(request.query, 'done')) ? field(request.query, 'done') : null,
      action: ctx.urls.basePath + REPORTS_PATH,
    });
  });

  app.post(REPORTS_PATH, formRoute(['do']), async (request, reply) => {
    const user = moderatorOf(request, reply);
    if (!user) return reply;
    if (user === 'refused') return renderError(kit, request, reply, 404, 'error.not-found');
    const match = /^(remove|ban|dismiss):(image|album):([A-Za-z0-9]+)$/.exec(field(request.body, 'do'));
    const id = match ? ctx.ids.decode(match[3]) : null;
    if (!match || id === null) return renderError(kit, request, reply, 400, 'error.bad-request');
    const [, action, kind] = match;
    const actor = { name: user.username, ip: request.ip };
    const target = kind === 'image' ? { imageId: id } : { albumId: id };
    if (action === 'dismiss' || kind === 'album') {
      // Albums are handled on their own page (delete the album); here their reports are closed.
      await resolveReportsOf(ctx.db, target);
      await insertAuditEntry(ctx.db, { actor: actor.name, action: 'reports.dismiss', target: `${kind}:${id}`, ip: actor.ip });
      return redirectTo(kit, reply, `${REPORTS_PATH}?done=dismissed`);
    }
    const image = await findImageById(ctx.db, id);
    if (!image) {
      await resolveReportsOf(ctx.db, target);
      return redirectTo(kit, reply, `${REPORTS_PATH}?done=removed`);
    }
    const reasons = (await listOpenReports(ctx.db)).filter((r) => r.image_id === id).map((r) => r.reason);
    const reason = `reported: ${[...new Set(reasons)].join(', ') || 'other'}`;
    if (action === 'ban' && image.uploader_ip) {
      await ctx.moderation.bans.add(image.uploader_ip, { message: null, by: actor.name });
      await insertAuditEntry(ctx.db, { actor: actor.name, action: 'ban.add', target: image.uploader_ip, detail: `from reports on image:${id}`, ip: actor.ip });
    }
    await resolveReportsOf(ctx.db, target);
    await takeDown(
      { db: ctx.db, blocklist: ctx.moderation.blocklist, removeImage: (row) => removeImage(ctx.db, ctx.storage, row) },
      [image],
      { reason, actor, action: action === 'ban' ? 'reports.remove-and-ban' : 'reports.remove' },
    );
    return redirectTo(kit, reply, `${REPORTS_PATH}?done=${action === 'ban' ? 'banned' : 'removed'}`);
  });
}
