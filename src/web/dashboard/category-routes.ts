import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createCategory, editCategory, MAX_CATEGORY_DESCRIPTION, MAX_CATEGORY_NAME, removeCategory, type CategoryInput } from '../../admin/categories.js';
import { pageKeyOf, ShoeboxError } from '../../core/errors.js';
import { findCategoryById, listCategories } from '../../db/repositories/categories.js';
import { formRoute } from '../form-schemas.js';
import { field, renderError, visitorOf, type WebKit } from '../web-kit.js';
import { needs, redirectDone, renderDashboard } from './dashboard-kit.js';

/** Categories in the dashboard (admins): list, create, edit, delete (admin/categories.ts). */
const BASE = '/dashboard/categories';

export async function registerCategoryDashboard(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const actorOf = (request: FastifyRequest) => ({ name: visitorOf(request).user!.username, ip: request.ip });
  const idOf = (text: string) => (/^\d{1,12}$/.test(text) ? Number(text) : null);
  const inputOf = (body: unknown): CategoryInput => ({ name: field(body, 'name'), url_key: field(body, 'url_key'), description: field(body, 'description') });

  /** A refusal of admin/categories.ts as its dashboard text (`dashboard.error.<page>`), or null for anything else. */
  function errorText(request: FastifyRequest, error: unknown): string | null {
    const page = pageKeyOf(error);
    if (!page || !(error instanceof ShoeboxError)) return null;
    return visitorOf(request).t(`dashboard.error.${page}`, { max: page === 'category-name' ? MAX_CATEGORY_NAME : MAX_CATEGORY_DESCRIPTION });
  }

  async function renderList(request: FastifyRequest, reply: FastifyReply, extras: { error?: string; values?: CategoryInput } = {}, status = 200) {
    return renderDashboard(kit, request, reply, 'categories', {
      title: visitorOf(request).t('categories.title'),
      categories: await listCategories(ctx.db),
      values: extras.values ?? { name: '', url_key: '', description: '' },
      limits: { name: MAX_CATEGORY_NAME, description: MAX_CATEGORY_DESCRIPTION },
      error: extras.error ?? null,
    }, status);
  }

  function renderForm(request: FastifyRequest, reply: FastifyReply, id: number, values: CategoryInput, error: string | null = null, status = 200) {
    return renderDashboard(kit, request, reply, 'category-form', {
      title: visitorOf(request).t('categories.edit'),
      id,
      values,
      limits: { name: MAX_CATEGORY_NAME, description: MAX_CATEGORY_DESCRIPTION },
      error,
    }, status);
  }

  app.get(BASE, needs('categories.edit'), async (request, reply) => renderList(request, reply));

  app.post(BASE, formRoute(['name', 'url_key', 'description'], needs('categories.edit')), async (request, reply) => {
    const input = inputOf(request.body);
    try {
      await createCategory(ctx.db, input, actorOf(request));
    } catch (error) {
      const text = errorText(request, error);
      if (text === null) throw error;
      return renderList(request, reply, { error: text, values: input }, (error as ShoeboxError).httpStatus);
    }
    return redirectDone(kit, reply, BASE, 'category-saved:1');
  });

  app.get<{ Params: { id: string } }>(`${BASE}/:id`, needs('categories.edit'), async (request, reply) => {
    const id = idOf(request.params.id);
    const row = id === null ? undefined : await findCategoryById(ctx.db, id);
    if (!row) return renderError(kit, request, reply, 404, 'error.not-found');
    return renderForm(request, reply, row.id, { name: row.name, url_key: row.url_key, description: row.description ?? '' });
  });

  app.post<{ Params: { id: string } }>(`${BASE}/:id`, formRoute(['name', 'url_key', 'description'], needs('categories.edit')), async (request, reply) => {
    const id = idOf(request.params.id);
    const input = inputOf(request.body);
    if (id === null) return renderError(kit, request, reply, 404, 'error.not-found');
    try {
      await editCategory(ctx.db, id, input, actorOf(request));
    } catch (error) {
      const text = errorText(request, error);
      if (text === null) throw error;
      const status = (error as ShoeboxError).httpStatus;
      if (status === 404) return renderError(kit, request, reply, 404, 'error.not-found');
      return renderForm(request, reply, id, input, text, status);
    }
    return redirectDone(kit, reply, BASE, 'category-saved:1');
  });

  app.post<{ Params: { id: string } }>(`${BASE}/:id/delete`, formRoute(['confirm'], needs('categories.edit')), async (request, reply) => {
    const id = idOf(request.params.id);
    const row = id === null ? undefined : await findCategoryById(ctx.db, id);
    if (!row) return renderError(kit, request, reply, 404, 'error.not-found');
    if (field(request.body, 'confirm') !== 'yes') return renderList(request, reply, { error: visitorOf(request).t('dashboard.error.confirm') }, 400);
    await removeCategory(ctx.db, row.id, actorOf(request));
    return redirectDone(kit, reply, BASE, 'category-deleted:1');
  });
}
