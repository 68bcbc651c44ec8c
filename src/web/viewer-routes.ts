import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { buildImageObject, escapeHtml } from '../api/image-response.js';
import type { AppContext } from '../context.js';
import { formatUtc } from '../core/dates.js';
import { findImageById, findTagsOfImage } from '../db/repositories/images.js';
import type { ImageRow } from '../db/schema.js';
import { hashDeleteSecret } from '../ingest/ingest-upload.js';
import { removeImage } from '../ingest/remove-image.js';

/** `slug.id` or a bare `id` from a viewer path segment. */
function encodedIdOf(segment: string): string {
  const dot = segment.lastIndexOf('.');
  return dot >= 0 ? segment.slice(dot + 1) : segment;
}

async function findVisibleImage(ctx: AppContext, segment: string): Promise<ImageRow | null> {
  const id = ctx.ids.decode(encodedIdOf(segment));
  if (id === null) return null;
  const image = await findImageById(ctx.db, id);
  if (!image) return null;
  if (image.expires_at && image.expires_at <= formatUtc(new Date())) return null;
  return image;
}

function notFoundPage(reply: FastifyReply, message: string) {
  return reply
    .code(404)
    .type('text/html; charset=utf-8')
    .send(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(message)}</title></head><body><main><h1>${escapeHtml(message)}</h1></main></body></html>`);
}

function renderViewerPage(ctx: AppContext, image: ImageRow, object: ReturnType<typeof buildImageObject>): string {
  const title = escapeHtml(object.display_title);
  const description = image.description ? escapeHtml(image.description) : '';
  const media = image.type === 'video'
    ? `<video controls preload="metadata" playsinline poster="${escapeHtml(object.frame.url ?? '')}" width="${image.width}" height="${image.height}"><source src="${escapeHtml(object.url)}" type="${escapeHtml(image.mime)}"></video>`
    : `<img src="${escapeHtml(object.url)}" alt="${title}" width="${image.width}" height="${image.height}">`;
  const ogMedia = image.type === 'video'
    ? `<meta property="og:type" content="video.other"><meta property="og:video" content="${escapeHtml(object.url)}"><meta property="og:video:type" content="${escapeHtml(image.mime)}"><meta property="og:video:width" content="${image.width}"><meta property="og:video:height" content="${image.height}"><meta property="og:image" content="${escapeHtml(object.frame.url ?? object.display_url)}">`
    : `<meta property="og:type" content="article"><meta property="og:image" content="${escapeHtml(object.url)}"><meta property="og:image:width" content="${image.width}"><meta property="og:image:height" content="${image.height}">`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<meta property="og:title" content="${title}">
<meta property="og:url" content="${escapeHtml(object.url_viewer)}">
${description ? `<meta property="og:description" content="${description}">` : ''}
${ogMedia}
<meta name="twitter:card" content="${image.type === 'video' ? 'player' : 'summary_large_image'}">
<link rel="canonical" href="${escapeHtml(object.url_viewer)}">
<style>body{font-family:system-ui,sans-serif;margin:0;background:#111;color:#eee}main{max-width:1200px;margin:0 auto;padding:1rem}img,video{max-width:100%;height:auto;display:block;margin:0 auto;background:#000}h1{font-size:1.3rem}a{color:#8cf}</style>
</head>
<body>
<main>
<h1>${title}</h1>
${media}
${description ? `<p>${description}</p>` : ''}
<p><a href="${escapeHtml(object.url)}">${escapeHtml(object.filename)}</a> · ${image.width}×${image.height} · ${escapeHtml(object.size_formatted)}</p>
</main>
</body>
</html>`;
}

function secretMatches(image: ImageRow, secret: string): boolean {
  if (!/^[0-9a-f]{48}$/.test(secret)) return false;
  const expected = Buffer.from(image.delete_hash, 'hex');
  const given = Buffer.from(hashDeleteSecret(secret), 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export async function registerViewerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const routes = [...new Set([ctx.settings.imageRoute, ctx.settings.videoRoute])];
  for (const route of routes) {
    app.get<{ Params: { segment: string }; Querystring: { deleted?: string } }>(`/${route}/:segment`, async (request, reply) => {
      const image = await findVisibleImage(ctx, request.params.segment);
      if (!image) return notFoundPage(reply, request.query.deleted !== undefined ? 'This file has been deleted' : 'That file does not exist');
      const tags = await findTagsOfImage(ctx.db, image.id);
      const object = buildImageObject(image, tags, null, { settings: ctx.settings, urls: ctx.urls });
      // Short URLs and wrong slugs or routes redirect to the canonical viewer URL.
      const canonicalPath = object.path_viewer;
      const requestedPath = decodeURIComponent(request.url.split('?')[0]);
      if (requestedPath !== canonicalPath) return reply.redirect(canonicalPath, 301);
      return reply.type('text/html; charset=utf-8').send(renderViewerPage(ctx, image, object));
    });

    app.get<{ Params: { segment: string; secret: string } }>(`/${route}/:segment/delete/:secret`, async (request, reply) => {
      const image = await findVisibleImage(ctx, request.params.segment);
      if (!image || !secretMatches(image, request.params.secret)) return notFoundPage(reply, 'That file does not exist');
      const viewerPath = ctx.urls.viewerPath(image);
      await removeImage(ctx.db, ctx.storage, image);
      request.log.info({ imageId: image.id }, 'deleted by delete URL');
      return reply.redirect(`${viewerPath}?deleted`, 301);
    });
  }
}
