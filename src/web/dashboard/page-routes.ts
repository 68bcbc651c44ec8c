import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { deleteSitePageAsAdmin, saveSitePageAsAdmin } from '../../admin/site-pages.js';
import { findSitePage, findSitePageBySlug, listSitePages } from '../../db/repositories/site-settings.js';
import type { SitePageRow } from '../../db/schema.js';
import { renderMarkdown } from '../markdown.js';
import { field, renderError, visitorOf, type WebKit } from '../web-kit.js';
import { actorOf, intField, needs, redirectDone, renderDashboard } from './dashboard-kit.js';
import { formRoute } from '../form-schemas.js';

const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const MAX_BODY = 100_000;

export async function registerPageDashboard(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  app.get('/dashboard/pages', needs('pages.edit'), async (request, reply) => {
    return renderDashboard(kit, request, reply, 'pages', {
      title: visitorOf(request).t('dashboard.pages.title'),
      pages: await listSitePages(ctx.db),
    });
  });

  function renderForm(request: FastifyRequest, reply: FastifyReply, page: Partial<SitePageRow> & { id?: number }, error: string | null = null, status = 200) {
    const { t } = visitorOf(request);
    return renderDashboard(kit, request, reply, 'page-form', {
      title: page.id ? t('dashboard.pages.edit') : t('dashboard.pages.new'),
      page: { slug: '', title: '', body: '', in_footer: 1, position: 0, ...page },
      preview: page.body ? renderMarkdown(page.body) : null,
      error,
    }, status);
  }

  app.get('/dashboard/pages/new', needs('pages.edit'), async (request, reply) => renderForm(request, reply, {}));

  app.get<{ Params: { id: string } }>('/dashboard/pages/:id', needs('pages.edit'), async (request, reply) => {
    const page = /^\d{1,12}$/.test(request.params.id) ? await findSitePage(ctx.db, Number(request.params.id)) : undefined;
    if (!page) return renderError(kit, request, reply, 404, 'error.not-found');
    return renderForm(request, reply, page);
  });

  async function save(request: FastifyRequest, reply: FastifyReply, existing: SitePageRow | null) {
    const id = existing?.id ?? null;
    const { t } = visitorOf(request);
    const page = {
      slug: field(request.body, 'slug').trim().toLowerCase(),
      title: field(request.body, 'title').trim(),
      body: field(request.body, 'body').replace(/\r\n/g, '\n'),
      inFooter: field(request.body, 'in_footer') === '1',
      position: intField(request.body, 'position', 0, 0, 1000),
    };
    const shown = { id: id ?? undefined, slug: page.slug, title: page.title, body: page.body, in_footer: page.inFooter ? 1 : 0, position: page.position };
    if (!SLUG.test(page.slug)) return renderForm(request, reply, shown, t('dashboard.error.bad-slug'), 400);
    if (!page.title || page.title.length > 120) return renderForm(request, reply, shown, t('dashboard.error.bad-title'), 400);
    if (page.body.length > MAX_BODY) return renderForm(request, reply, shown, t('dashboard.error.body-too-long'), 400);
    const same = await findSitePageBySlug(ctx.db, page.slug);
    if (same && same.id !== id) return renderForm(request, reply, shown, t('dashboard.error.slug-taken'), 409);
    await saveSitePageAsAdmin(ctx, actorOf(request), existing, page);
    return redirectDone(kit, reply, '/dashboard/pages', 'page-saved');
  }

  app.post('/dashboard/pages', formRoute(['body', 'in_footer', 'position', 'slug', 'title'], needs('pages.edit')), async (request, reply) => save(request, reply, null));

  app.post<{ Params: { id: string } }>('/dashboard/pages/:id', formRoute(['body', 'in_footer', 'position', 'slug', 'title'], needs('pages.edit')), async (request, reply) => {
    const page = /^\d{1,12}$/.test(request.params.id) ? await findSitePage(ctx.db, Number(request.params.id)) : undefined;
    if (!page) return renderError(kit, request, reply, 404, 'error.not-found');
    return save(request, reply, page);
  });

  app.post<{ Params: { id: string } }>('/dashboard/pages/:id/delete', formRoute(['confirm'], needs('pages.edit')), async (request, reply) => {
    const page = /^\d{1,12}$/.test(request.params.id) ? await findSitePage(ctx.db, Number(request.params.id)) : undefined;
    if (!page) return renderError(kit, request, reply, 404, 'error.not-found');
    if (field(request.body, 'confirm') !== 'yes') return renderError(kit, request, reply, 400, 'dashboard.error.confirm');
    await deleteSitePageAsAdmin(ctx, actorOf(request), page);
    return redirectDone(kit, reply, '/dashboard/pages', 'page-deleted');
  });
}
