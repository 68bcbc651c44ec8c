import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listAuditEntries } from '../../db/repositories/moderation.js';
import type { UserRow } from '../../db/schema.js';
import { mayReadAudit } from '../../moderation/moderation.js';
import { requireUser } from '../routes/settings-routes.js';
import { renderError, renderPage, visitorOf, type WebKit } from '../web-kit.js';

/** The audit log of moderator and admin actions: a page of the latest, and all of it as CSV. */
export const AUDIT_PATH = '/moderation/audit';
const PAGE_ROWS = 200;
const CSV_ROWS = 100_000;

/** The readable name of an audit action in the reader's language (`moderation.audit.action.<action>`); an action with no text shows its code. */
function actionName(t: (key: string, options?: Record<string, unknown>) => string, action: string): string {
  const name = t(`moderation.audit.action.${action}`, { defaultValue: '' });
  return typeof name === 'string' && name ? name : action;
}

export async function registerAuditRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  function moderatorOf(request: FastifyRequest, reply: FastifyReply): UserRow | null | 'refused' {
    const user = requireUser(kit, request, reply);
    if (!user) return null;
    return mayReadAudit(user) ? user : 'refused';
  }

  app.get(AUDIT_PATH, async (request, reply) => {
    const user = moderatorOf(request, reply);
    if (!user) return reply;
    if (user === 'refused') return renderError(kit, request, reply, 404, 'error.not-found');
    reply.header('Cache-Control', 'no-store');
    const { t } = visitorOf(request);
    const entries = await listAuditEntries(ctx.db, PAGE_ROWS);
    return renderPage(kit, request, reply, 'moderation-audit', {
      title: t('moderation.audit.title'),
      entries: entries.map((e) => ({ ...e, actionName: actionName(t, e.action) })),
      csvHref: `${ctx.urls.basePath}${AUDIT_PATH}.csv`,
    });
  });

  app.get(`${AUDIT_PATH}.csv`, async (request, reply) => {
    const user = moderatorOf(request, reply);
    if (!user) return reply;
    if (user === 'refused') return renderError(kit, request, reply, 404, 'error.not-found');
    const rows = await listAuditEntries(ctx.db, CSV_ROWS);
    const { t } = visitorOf(request);
    // `action` is the stable code for scripts; `action_name` the readable name in the reader's language.
    const { stringify } = await import('csv-stringify/sync');
    const csv = stringify(rows.map((r) => [r.created_at, r.actor, r.action, actionName(t, r.action), r.target ?? '', r.detail ?? '', r.ip ?? '']), {
      header: true,
      columns: ['when_utc', 'who', 'action', 'action_name', 'target', 'detail', 'from'],
    });
    return reply
      .header('Cache-Control', 'no-store')
      .header('Content-Disposition', 'attachment; filename="shoebox-audit.csv"')
      .type('text/csv; charset=utf-8')
      .send(csv);
  });
}
