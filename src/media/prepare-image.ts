import { rename, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { errors } from '../core/errors.js';
import { storedExtensionOf, storedMimeOf, type MediaFormat } from './formats.js';
import { probeImage, renderImageFiles, type RenderedFile } from './image.js';
import { exifWithoutGps, readImageMetadata, type ImageMetadata } from './metadata.js';
import { addJpegSegments, carriedSegments, stripJpegFile } from './strip-metadata.js';

/**
 * Everything an uploaded still or animated image becomes, in order: header probe (pixel and
 * frame limits, before any decoding) → metadata → the `width` check → main file, thumb and
 * medium → the main file's metadata brought in line with SHOEBOX_STRIP_METADATA.
 *
 * The main file stays the upload itself, byte for byte, unless it must change: a format
 * browsers can't show (BMP, HEIC, TIFF), a `width` resize, or metadata the site strips.
 * JPEG metadata is stripped losslessly; other formats are re-encoded by sharp when they
 * carry something to strip.
 */

export type ImagePreparationSettings = Pick<
  Settings,
  'maxPixels' | 'maxAnimationFrames' | 'heicOutput' | 'stripMetadata' | 'mediaTimeoutMs' | 'thumbWidth' | 'thumbHeight' | 'mediumWidth'
>;

export interface ImageInput {
  file: string;
  format: MediaFormat;
  originalFilename: string | null;
  workDir: string;
  /** The API's `width`: resize to it; larger than the image is refused (code 610). */
  width?: number;
}

export interface PreparedImage {
  width: number;
  height: number;
  isAnimated: boolean;
  storedExtension: string;
  mime: string;
  main: RenderedFile & { rewritten: boolean };
  thumb: RenderedFile;
  medium: RenderedFile | null;
  /** 64-bit perceptual hash of the picture (16 hex digits), or null. */
  phash: string | null;
  /** What the file says about itself; `exif` is what the stored file still carries. */
  metadata: ImageMetadata;
}

const isJpegExtension = (ext: string) => ext === 'jpg' || ext === 'jpeg';

export async function prepareImage(input: ImageInput, settings: ImagePreparationSettings): Promise<PreparedImage> {
  const { format, workDir } = input;
  const mode = settings.stripMetadata;
  const probe = await probeImage(input.file, format, { maxPixels: settings.maxPixels, maxFrames: settings.maxAnimationFrames });
  if (input.width !== undefined && input.width > probe.width) throw errors.widthTooBig();
  const metadata = await readImageMetadata(probe.blocks);

  const storedExtension = storedExtensionOf(format, input.originalFilename, settings.heicOutput);
  const jpegOut = isJpegExtension(storedExtension);
  const converts = format.name === 'heic' || format.storedAs !== null;
  const carriesStrippable = mode === 'gps' ? metadata.hasGps : mode === 'all' && Boolean(probe.blocks.exif || probe.blocks.xmp || probe.blocks.iptc);
  // JPEG is stripped losslessly after rendering; anything else that must lose metadata is re-encoded.
  const rewriteMain = converts || (carriesStrippable && !jpegOut);

  const rendered = await renderImageFiles({
    workDir,
    sourcePath: input.file,
    format,
    probe,
    outputExtension: storedExtension,
    resizeWidth: input.width !== undefined && input.width < probe.width ? input.width : undefined,
    rewriteMain,
    // sharp can't drop GPS alone, so a JPEG it writes gets the allowed segments added back below.
    mainMetadata: !jpegOut && mode === 'none' ? 'keep' : 'icc',
    decodeTimeoutMs: settings.mediaTimeoutMs,
    maxPixels: settings.maxPixels,
    thumb: { width: settings.thumbWidth, height: settings.thumbHeight },
    mediumWidth: settings.mediumWidth,
  });

  let main = rendered.main;
  if (jpegOut) {
    const target = path.join(workDir, `out.meta.${storedExtension}`);
    const changed = main.rewritten
      ? await addJpegSegments(main.path, target, carriedSegments(probe.blocks, mode))
      : await stripJpegFile(main.path, target, mode);
    if (changed) {
      const finalPath = main.rewritten ? main.path : path.join(workDir, `out.${storedExtension}`);
      await rename(target, finalPath);
      main = { ...main, path: finalPath, size: (await stat(finalPath)).size, rewritten: true };
    }
  }

  const exif = mode === 'all' || !metadata.exif ? null : mode === 'gps' ? exifWithoutGps(metadata.exif) : metadata.exif;
  return {
    width: main.width,
    height: main.height,
    isAnimated: probe.isAnimated,
    storedExtension,
    mime: storedMimeOf(format, settings.heicOutput),
    main,
    thumb: rendered.thumb,
    medium: rendered.medium,
    phash: rendered.phash,
    metadata: { ...metadata, exif },
  };
}
