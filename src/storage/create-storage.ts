import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { LocalStorage } from './local.js';
import type { Storage } from './storage.js';

export async function createStorage(settings: Settings): Promise<Storage> {
  if (settings.storage === 's3') {
    const { S3Storage } = await import('./s3.js');
    return new S3Storage(settings.s3);
  }
  return new LocalStorage(path.join(settings.dataDir));
}
