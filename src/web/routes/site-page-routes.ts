import type { FastifyInstance } from 'fastify';
import { findSitePageBySlug } from '../../db/repositories/site-settings.js';
import { renderMarkdown } from '../markdown.js';
import { renderError, renderPage, type WebKit } from '../web-kit.js';

/** The pages admins write (Terms, Privacy, About...) at /page/<slug>, and the uploaded logo and favicon. */
export async function registerSitePageRoutes(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;

  app.get<{ Params: { slug: string } }>('/page/:slug', async (request, reply) => {
    const slug = request.params.slug;
    const page = /^[a-z0-9-]{1,64}$/.test(slug) ? await findSitePageBySlug(ctx.db, slug) : undefined;
    if (!page) return renderError(kit, request, reply, 404, 'error.not-found');
    return renderPage(kit, request, reply, 'site-page', { title: page.title, html: renderMarkdown(page.body) });
  });

  app.get<{ Params: { name: string } }>('/site/:name', async (request, reply) => {
    const asset = ctx.live.assets.get(request.params.name);
    if (!asset) return renderError(kit, request, reply, 404, 'error.not-found');
    // The URL carries the asset's date (?v=), so a new upload gets a new URL.
    return reply
      .header('Cache-Control', 'public, max-age=86400')
      .header('X-Content-Type-Options', 'nosniff')
      .type(asset.mime)
      .send(asset.data);
  });
}
