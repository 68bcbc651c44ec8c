import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/**
 * The browser uploader (Uppy + our glue), built into dist/client/uploader/ and served by
 * Fastify at <base>/assets/uploader/. `launcher.js` keeps its name (pages link to it) and is
 * tiny; the uploader itself is a hashed chunk loaded on first use. `base: './'` makes every
 * chunk and stylesheet URL relative to the launcher, so any SHOEBOX_BASE_URL path works.
 */
export default defineConfig({
  root: fileURLToPath(new URL('./uploader/', import.meta.url)),
  base: './',
  publicDir: false,
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/client/uploader/', import.meta.url)),
    emptyOutDir: true,
    // No source maps: the site serves this folder as is, and production should not publish them.
    sourcemap: false,
    // Keep `new URL(…, import.meta.url)` and dynamic imports native: every browser the site supports has them.
    target: 'es2022',
    rolldownOptions: {
      input: { launcher: fileURLToPath(new URL('./uploader/launcher.ts', import.meta.url)) },
      output: {
        entryFileNames: '[name].js',
        chunkFileNames: '[name]-[hash].js',
        assetFileNames: '[name]-[hash][extname]',
      },
    },
  },
});
