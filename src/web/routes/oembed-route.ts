import type { FastifyInstance } from 'fastify';
import { escapeHtml } from '../../core/text.js';
import { decodeUriComponentOrNull } from '../../core/uri.js';
import { findTagsOfImage } from '../../db/repositories/images.js';
import { findUserById } from '../../db/repositories/users.js';
import { imageAccess } from '../access.js';
import { field, type WebKit } from '../web-kit.js';
import { findLiveImage } from '../live-images.js';
import { imageObjectOf } from './viewer-page.js';

/**
 * oEmbed (https://oembed.com) for viewer pages: `/oembed?url=<viewer URL>&format=json|xml`.
 * Images answer as `photo`, videos as `video` with a <video> tag. Files of private albums
 * are 404 (as their pages are); password-protected ones 401, as the spec asks.
 */

function xmlOf(fields: Record<string, string | number>): string {
  const body = Object.entries(fields).map(([k, v]) => `  <${k}>${escapeHtml(String(v))}</${k}>`).join('\n');
  return `<?xml version="1.0" encoding="utf-8" standalone="yes"?>\n<oembed>\n${body}\n</oembed>\n`;
}

/** Fits width × height inside the consumer's maximums, keeping the ratio. */
function fit(width: number, height: number, maxWidth: number, maxHeight: number): { width: number; height: number } {
  const scale = Math.min(1, maxWidth > 0 ? maxWidth / width : 1, maxHeight > 0 ? maxHeight / height : 1);
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export async function registerOembedRoute(app: FastifyInstance, kit: WebKit): Promise<void> {
  const { ctx } = kit;
  const siteOrigin = new URL(ctx.settings.baseUrl).origin;

  app.get('/oembed', async (request, reply) => {
    const format = field(request.query, 'format') || 'json';
    if (format !== 'json' && format !== 'xml') return reply.code(501).type('text/plain; charset=utf-8').send('Not implemented: format must be json or xml');
    const notFound = () => reply.code(404).type('text/plain; charset=utf-8').send('Not found');

    let target: URL;
    try {
      target = new URL(field(request.query, 'url'));
    } catch {
      return notFound();
    }
    if (target.origin !== siteOrigin) return notFound();
    const rest = ctx.urls.basePath && target.pathname.startsWith(`${ctx.urls.basePath}/`) ? target.pathname.slice(ctx.urls.basePath.length) : target.pathname;
    const match = /^\/([^/]+)\/([^/]+)$/.exec(rest);
    if (!match || (match[1] !== ctx.settings.imageRoute && match[1] !== ctx.settings.videoRoute)) return notFound();
    const segment = decodeUriComponentOrNull(match[2]);
    const image = segment === null ? undefined : await findLiveImage(kit.ctx, segment);
    if (!image) return notFound();
    // oEmbed consumers fetch as nobody: only what a signed-out visitor may see.
    // Privacy is inherited: a file in a public sub-album of a private album is private too.
    const { access } = await imageAccess(kit, request, image, null);
    if (access.kind === 'hidden') return notFound();
    if (access.kind === 'password') return reply.code(401).type('text/plain; charset=utf-8').send('Unauthorized');

    const object = imageObjectOf(kit, image, await findTagsOfImage(ctx.db, image.id));
    const owner = image.user_id ? await findUserById(ctx.db, image.user_id) : undefined;
    const maxWidth = Number(field(request.query, 'maxwidth')) || 0;
    const maxHeight = Number(field(request.query, 'maxheight')) || 0;
    const size = fit(image.width, image.height, maxWidth, maxHeight);
    const fields: Record<string, string | number> = {
      version: '1.0',
      type: image.type === 'video' ? 'video' : 'photo',
      title: object.display_title,
      provider_name: ctx.settings.siteName,
      provider_url: ctx.urls.absolute('/'),
    };
    if (owner) {
      fields.author_name = owner.username;
      fields.author_url = ctx.urls.absolute(`/${owner.username}`);
    }
    if (image.type === 'video') {
      const poster = object.frame.url ? ` poster="${escapeHtml(object.frame.url)}"` : '';
      fields.html = `<video controls preload="metadata" width="${size.width}" height="${size.height}"${poster}><source src="${escapeHtml(object.url)}" type="${escapeHtml(image.mime)}"></video>`;
    } else {
      // The medium file when it is big enough for the space offered, else the original.
      const useMedium = object.medium.url && size.width <= ctx.settings.mediumWidth;
      fields.url = useMedium ? object.medium.url! : object.url;
    }
    fields.width = size.width;
    fields.height = size.height;
    if (object.thumb.url) {
      fields.thumbnail_url = object.thumb.url;
      fields.thumbnail_width = Math.min(ctx.settings.thumbWidth, image.width);
      fields.thumbnail_height = Math.min(ctx.settings.thumbHeight, image.height);
    }
    reply.header('Cache-Control', 'public, max-age=300');
    if (format === 'xml') return reply.type('text/xml; charset=utf-8').send(xmlOf(fields));
    return reply.type('application/json; charset=utf-8').send(fields);
  });
}
