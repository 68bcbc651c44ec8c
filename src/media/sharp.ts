import { createRequire } from 'node:module';
import type SharpModule from 'sharp';
import type { Sharp, SharpInput, SharpOptions } from 'sharp';

const require = createRequire(import.meta.url);
let loaded: typeof SharpModule | undefined;

/**
 * sharp (libvips), loaded on its first use instead of at start: loading it and its native
 * library costs about 0.1 s of CPU, which `npm start` and the first page do not need. Its
 * process-wide settings are applied as it loads, before any image is opened: libvips' operation
 * cache is kept small and never caches files (a file replaced under the same path is read anew).
 */
function sharpLibrary(): typeof SharpModule {
  if (!loaded) {
    const library = require('sharp') as typeof SharpModule;
    library.cache({ memory: 64, files: 0, items: 100 });
    loaded = library;
  }
  return loaded;
}

/** `sharp(input, options)`, as the library's own function. */
export function sharp(input?: SharpInput | SharpInput[], options?: SharpOptions): Sharp {
  return sharpLibrary()(input, options);
}
