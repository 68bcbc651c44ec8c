import type { FastifyInstance } from 'fastify';
import { renderPage, visitorOf, type WebKit } from '../web-kit.js';
import { UPLOADER_ASSETS_PATH } from './register-web-uploader.js';
import { buildUploaderConfig } from './uploader-config.js';
import type { UploaderUnavailable } from './uploader-config-types.js';
import { uploaderStrings } from './uploader-strings.js';

/**
 * The `/upload` page and the uploader's per-visitor settings (`/upload/config.json`), inside
 * the web site's scope (sessions, language, layout). The same browser bundle runs on the page
 * and as a modal opened from the header's Upload button on every page.
 */
export async function registerUploaderPages(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const base = ctx.urls.basePath;
  const canUpload = (user: unknown) => user !== null || ctx.settings.guestWebUploads;

  app.get('/upload', async (request, reply) => {
    const visitor = visitorOf(request);
    if (!canUpload(visitor.user)) return reply.redirect(`${base}/login?next=${encodeURIComponent(`${base}/upload`)}`, 303);
    const strings = uploaderStrings(visitor.lang);
    return renderPage(kit, request, reply, 'upload', {
      title: String(strings['page-title']),
      heading: String(strings.heading),
      needsJs: String(strings['needs-js']),
      configUrl: `${base}/upload/config.json`,
      launcherUrl: `${base}${UPLOADER_ASSETS_PATH}launcher.js`,
    });
  });

  app.get('/upload/config.json', async (request, reply) => {
    const visitor = visitorOf(request);
    reply.header('Cache-Control', 'private, no-store');
    if (!canUpload(visitor.user)) {
      const unavailable: UploaderUnavailable = { canUpload: false, loginUrl: `${base}/login?next=${encodeURIComponent(`${base}/upload`)}` };
      return reply.code(401).send(unavailable);
    }
    return reply.send(await buildUploaderConfig(ctx, visitor));
  });
}
