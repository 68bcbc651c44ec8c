import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/**
 * ffmpeg and ffprobe: a configured path wins, then the system's (on PATH), then the build
 * shipped inside the @ffmpeg-installer / @ffprobe-installer npm packages, so video works
 * right after `npm install` on a machine without ffmpeg.
 */
const require = createRequire(import.meta.url);

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

function shipped(pkg: '@ffmpeg-installer/ffmpeg' | '@ffprobe-installer/ffprobe'): string | undefined {
  try {
    const binary = (require(pkg) as { path: string }).path;
    // The packages ship their binary for the install platform only, and @ffprobe-installer's
    // is executable by its owner only: a binary this process can't run counts as absent.
    accessSync(binary, constants.X_OK);
    return binary;
  } catch {
    return undefined;
  }
}

export interface MediaBinaries {
  ffmpeg: string | undefined;
  ffprobe: string | undefined;
}

/**
 * `preferShipped` skips PATH in favour of the npm-shipped builds (tests use it to prove video
 * works on a machine without a system ffmpeg).
 */
export function resolveMediaBinaries(configured: { ffmpegPath?: string; ffprobePath?: string }, preferShipped = false): MediaBinaries {
  const pick = (conf: string | undefined, name: string, pkg: Parameters<typeof shipped>[0]) =>
    conf ?? (preferShipped ? shipped(pkg) ?? onPath(name) : onPath(name) ?? shipped(pkg));
  return {
    ffmpeg: pick(configured.ffmpegPath, 'ffmpeg', '@ffmpeg-installer/ffmpeg'),
    ffprobe: pick(configured.ffprobePath, 'ffprobe', '@ffprobe-installer/ffprobe'),
  };
}
