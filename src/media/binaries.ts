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
    return (require(pkg) as { path: string }).path;
  } catch {
    return undefined;
  }
}

export interface MediaBinaries {
  ffmpeg: string | undefined;
  ffprobe: string | undefined;
}

export function resolveMediaBinaries(configured: { ffmpegPath?: string; ffprobePath?: string }, preferShipped = false): MediaBinaries {
  const pick = (conf: string | undefined, name: string, pkg: Parameters<typeof shipped>[0]) =>
    conf ?? (preferShipped ? shipped(pkg) ?? onPath(name) : onPath(name) ?? shipped(pkg));
  return {
    ffmpeg: pick(configured.ffmpegPath, 'ffmpeg', '@ffmpeg-installer/ffmpeg'),
    ffprobe: pick(configured.ffprobePath, 'ffprobe', '@ffprobe-installer/ffprobe'),
  };
}
