import { fileURLToPath } from 'node:url';

/**
 * Folders the web site reads at start: templates, translations and static assets live at
 * the project root (not under src/), so `src/web` under tsx and `dist/web` after a build
 * find the same files.
 */
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

export const webPaths = {
  views: `${projectRoot}views`,
  locales: `${projectRoot}locales`,
  assets: `${projectRoot}public`,
};
