import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { envelopeErrorHandler } from '../../uploads/envelope.js';
import type { AppContext } from '../../context.js';
import { registerUploaderJsonRoutes } from './json-routes.js';
import { registerResumableUploads } from './resumable.js';

/** Vite writes the browser bundle here (`npm run build:client`, also run by `npm install`). */
export const UPLOADER_BUNDLE_DIR = fileURLToPath(new URL('../../../dist/client/uploader/', import.meta.url));
export const UPLOADER_ASSETS_PATH = '/assets/uploader/';

/**
 * The web uploader's machinery outside the pages: resumable uploads (tus), the JSON endpoints
 * for "add by URL" and "new album from these uploads", and the browser bundle. The `/upload`
 * page and the header's modal are part of the web site (`uploader-pages.ts`).
 */
export async function registerWebUploader(parent: FastifyInstance, ctx: AppContext): Promise<void> {
  await parent.register(async (app) => {
    app.setErrorHandler(envelopeErrorHandler());
    await registerResumableUploads(app, ctx);
    await registerUploaderJsonRoutes(app, ctx);
    if (existsSync(UPLOADER_BUNDLE_DIR)) {
      await app.register(fastifyStatic, {
        root: UPLOADER_BUNDLE_DIR,
        prefix: UPLOADER_ASSETS_PATH,
        decorateReply: false,
        index: false,
        // Only the bundle itself: a source map left by a development build is never published.
        allowedPath: (pathName) => !pathName.endsWith('.map'),
        // Chunks carry a content hash in their names; the entry files keep theirs and are revalidated.
        setHeaders(reply, filePath) {
          const hashed = /-[A-Za-z0-9_-]{8,}\.(js|css)$/.test(path.basename(filePath));
          reply.header('Cache-Control', hashed ? 'public, max-age=31536000, immutable' : 'public, no-cache');
        },
        cacheControl: false,
      });
    }
  });
}
