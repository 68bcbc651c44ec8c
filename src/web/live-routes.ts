import type { IncomingMessage } from 'node:http';
import type { Settings } from '../config/settings.js';

/**
 * Viewer addresses that follow SHOEBOX_IMAGE_ROUTE and SHOEBOX_VIDEO_ROUTE while the site runs
 * (the dashboard may change them; admin/live-settings.ts brings the change to every instance).
 * Fastify's routes are fixed once the server starts, so the viewer's routes are registered at
 * the two fixed segments `image` and `video` (VIEWER_ROUTE_SEGMENTS), and every request whose
 * first path segment (after the base path) is one of the routes as they are *now* is routed
 * to them (Fastify's `rewriteUrl`, in server.ts). `request.originalUrl` keeps what the visitor
 * asked for; the viewer page redirects any other route to the canonical one, so links made with
 * the default `image`/`video` keep working after a change.
 */
export const VIEWER_ROUTE_SEGMENTS = ['image', 'video'] as const;

export function viewerRouteRewriter(settings: Pick<Settings, 'imageRoute' | 'videoRoute'>, basePath: string): (req: IncomingMessage) => string {
  return (req) => {
    const url = req.url ?? '/';
    const { imageRoute, videoRoute } = settings;
    // The usual case costs two comparisons.
    if (imageRoute === 'image' && videoRoute === 'video') return url;
    const start = basePath && (url.startsWith(`${basePath}/`)) ? basePath.length : 0;
    if (url.charCodeAt(start) !== 47 /* / */) return url;
    const end = url.indexOf('/', start + 1);
    if (end < 0) return url;
    const segment = url.slice(start + 1, end);
    if ((segment === imageRoute || segment === videoRoute) && !(VIEWER_ROUTE_SEGMENTS as readonly string[]).includes(segment)) {
      return `${url.slice(0, start)}/image${url.slice(end)}`;
    }
    return url;
  };
}
