import path from 'node:path';
import { errors } from '../core/errors.js';
import type { MediaBinaries } from './binaries.js';
import { probeImage, renderImageFiles, type RenderedFile } from './image.js';
import { prepareVideo, type VideoPreparationSettings } from './prepare-video.js';
import type { ImagePreparationSettings } from './prepare-image.js';
import { sniffFile } from './sniff.js';

/**
 * A stored file's derivatives made again from its main file, as the upload made them: for an
 * image the thumb and medium of `renderImageFiles` (in the derivative extension, the main file
 * left as it is), for a video the frame and thumb of `prepareVideo`. For `shoebox doctor --fix`
 * when a derivative went missing (a crash between two stores, a file deleted by hand).
 */

export type RemakeSettings = Pick<ImagePreparationSettings, 'maxPixels' | 'maxAnimationFrames' | 'mediaTimeoutMs' | 'thumbWidth' | 'thumbHeight' | 'mediumWidth'> &
  Pick<VideoPreparationSettings, 'maxVideoSeconds'>;

export interface RemadeFiles {
  thumb?: RenderedFile;
  medium?: RenderedFile;
  frame?: RenderedFile;
}

export async function remakeDerivatives(
  mainPath: string,
  workDir: string,
  image: { type: 'image' | 'video'; derivativeExtension: string },
  binaries: MediaBinaries,
  settings: RemakeSettings,
): Promise<RemadeFiles> {
  if (image.type === 'video') {
    // No duration cap when making a frame again: the file is already on the site.
    const video = await prepareVideo(mainPath, workDir, binaries, { ...settings, maxVideoSeconds: 0 });
    return { frame: video.frame, thumb: video.thumb };
  }
  const sniffed = await sniffFile(mainPath);
  if (!sniffed || sniffed.format.type !== 'image') throw errors.unreadable('the stored file is not an image');
  const probe = await probeImage(mainPath, sniffed.format, { maxPixels: settings.maxPixels, maxFrames: settings.maxAnimationFrames });
  const rendered = await renderImageFiles({
    workDir: path.resolve(workDir),
    sourcePath: mainPath,
    format: sniffed.format,
    probe,
    outputExtension: image.derivativeExtension,
    rewriteMain: false,
    mainMetadata: 'icc',
    decodeTimeoutMs: settings.mediaTimeoutMs,
    maxPixels: settings.maxPixels,
    thumb: { width: settings.thumbWidth, height: settings.thumbHeight },
    mediumWidth: settings.mediumWidth,
  });
  return { thumb: rendered.thumb, ...(rendered.medium ? { medium: rendered.medium } : {}) };
}
