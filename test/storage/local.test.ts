import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { LocalStorage } from '../../src/storage/local.js';
import { runStorageContract } from './storage-contract.js';

describe('LocalStorage', () => {
  let baseDir: string;
  let roots = 0;

  beforeAll(async () => {
    baseDir = await mkdtemp(path.join(tmpdir(), 'shoebox-local-storage-'));
  });

  afterAll(async () => {
    if (baseDir) await rm(baseDir, { recursive: true, force: true });
  });

  runStorageContract({
    async create() {
      return new LocalStorage(path.join(baseDir, `root-${++roots}`));
    },
    async createBroken() {
      // A root below a regular file can never be created or written.
      const file = path.join(baseDir, `not-a-folder-${++roots}`);
      await writeFile(file, '');
      return new LocalStorage(path.join(file, 'root'));
    },
  });
});
