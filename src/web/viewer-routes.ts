import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { escapeHtml } from '../core/text.js';
import type { AppContext } from '../context.js';
import type { ImageRow } from '../db/schema.js';
import { verifyLegacyBcrypt } from '../core/legacy-hash.js';
import { hashDeleteSecret } from '../ingest/ingest-upload.js';
import { removeImage } from '../ingest/remove-image.js';
import { findLiveImage } from './live-images.js';
import { VIEWER_ROUTE_SEGMENTS } from './live-routes.js';
import { noteLocalChange } from './page-cache.js';

/**
 * The delete URL the API hands out (`/<route>/<id>/delete/<secret>`): a plain GET deletes,
 * with no sign-in, then redirects to `<viewer path>?deleted`; a wrong secret is a 404.
 * The viewer page itself is part of the web site (routes/viewer-page.ts).
 */

function notFoundPage(reply: FastifyReply, message: string) {
  return reply
    .code(404)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(message)}</title></head><body><main><h1>${escapeHtml(message)}</h1></main></body></html>`);
}

async function secretMatches(image: ImageRow, secret: string): Promise<boolean> {
  // A delete link Chevereto handed out: its secret checked against the bcrypt it stored.
  if (image.legacy_delete_hash && /^[A-Za-z0-9]{1,128}$/.test(secret) && (await verifyLegacyBcrypt(image.legacy_delete_hash, secret))) return true;
  if (!/^[0-9a-f]{48}$/.test(secret)) return false;
  const expected = Buffer.from(image.delete_hash, 'hex');
  const given = Buffer.from(hashDeleteSecret(secret), 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function registerViewerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  // The routes as set now reach these two (live-routes.ts).
  for (const route of VIEWER_ROUTE_SEGMENTS) {
    app.get<{ Params: { segment: string; secret: string } }>(`/${route}/:segment/delete/:secret`, async (request, reply) => {
      const image = await findLiveImage(ctx, request.params.segment);
      if (!image || !(await secretMatches(image, request.params.secret))) return notFoundPage(reply, 'That file does not exist');
      const viewerPath = ctx.urls.viewerPath(image);
      await removeImage(ctx.db, ctx.storage, image);
      noteLocalChange();
      request.log.info({ imageId: image.id }, 'deleted by delete URL');
      return reply.redirect(`${viewerPath}?deleted`, 301);
    });
  }
}
