import { mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';

/**
 * A new folder of its own under `<dataDir>/tmp` (`prefix` + random letters) for one upload's
 * files. The tmp folder is made only when it is missing, not checked again for every upload.
 */
export async function makeWorkDir(dataDir: string, prefix: string): Promise<string> {
  const tmpRoot = path.join(dataDir, 'tmp');
  try {
    return await mkdtemp(path.join(tmpRoot, prefix));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(tmpRoot, { recursive: true });
    return mkdtemp(path.join(tmpRoot, prefix));
  }
}
