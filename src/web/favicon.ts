import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { sharp } from '../media/sharp.js';
import { webPaths } from './paths.js';
import type { LiveSite } from '../admin/live-settings.js';

const ICO_SIZES = [16, 32, 48];

/**
 * An .ico holding PNG images (allowed since Windows Vista, read by every browser): a 6-byte
 * header, a 16-byte entry per image, then the PNGs.
 */
export function icoOf(pngs: { size: number; data: Buffer }[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(pngs.length, 4);
  let offset = 6 + 16 * pngs.length;
  const entries = pngs.map(({ size, data }) => {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0);
    entry.writeUInt8(size >= 256 ? 0 : size, 1);
    entry.writeUInt16LE(1, 4);
    entry.writeUInt16LE(32, 6);
    entry.writeUInt32LE(data.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += data.length;
    return entry;
  });
  return Buffer.concat([header, ...entries, ...pngs.map((p) => p.data)]);
}

/** The site's own icon: public/favicon.svg drawn at 16, 32 and 48 px, once per process, when first asked for. */
let siteIcon: Promise<Buffer> | undefined;
function siteIco(): Promise<Buffer> {
  siteIcon ??= (async () => {
    const svg = await readFile(path.join(webPaths.assets, 'favicon.svg'));
    return icoOf(await Promise.all(ICO_SIZES.map(async (size) => ({ size, data: await sharp(svg, { density: 72 * (size / 64) * 4 }).resize(size, size).png().toBuffer() }))));
  })();
  siteIcon.catch(() => (siteIcon = undefined)); // a failed drawing is tried again by the next request
  return siteIcon;
}

/**
 * `/favicon.ico`: the favicon uploaded in the dashboard when there is one (as the live site has
 * it, so a change shows on every instance), else the site's own icon (drawn on the first request
 * for it, not at start: that would load sharp for every start). The address never changes, so
 * browsers are asked to check again within the hour.
 */
export async function registerFavicon(app: FastifyInstance, live: LiveSite): Promise<void> {
  app.get('/favicon.ico', async (_request, reply) => {
    const custom = live.assets.get('favicon');
    reply.header('Cache-Control', 'public, max-age=3600').header('X-Content-Type-Options', 'nosniff');
    return custom ? reply.type(custom.mime).send(custom.data) : reply.type('image/x-icon').send(await siteIco());
  });
}
