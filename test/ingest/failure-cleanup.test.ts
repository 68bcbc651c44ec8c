import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestUpload } from '../../src/ingest/ingest-upload.js';
import { admitUpload } from '../../src/uploads/upload-rules.js';
import { LocalStorage } from '../../src/storage/local.js';
import { Readable } from 'node:stream';
import { startTestServer, type TestServer } from '../support/server.js';
import { makeJpeg } from '../support/media.js';

/** A real local storage whose disk "fills up" on the n-th file. */
class FailingStorage extends LocalStorage {
  moves = 0;
  constructor(root: string, private readonly failOn: number) {
    super(root);
  }
  override async moveIn(key: string, localFile: string, contentType: string): Promise<void> {
    this.moves++;
    if (this.moves === this.failOn) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
    return super.moveIn(key, localFile, contentType);
  }
}

async function listFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
}

describe('a failure half-way through storing', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('removes the files already stored, frees the name, writes no row, and says so clearly', async () => {
    const user = (await server.createUserWithKey('alice')).userId;
    const owner = await server.ctx.db.selectFrom('users').selectAll().where('id', '=', user).executeTakeFirstOrThrow();
    const storage = new FailingStorage(server.dataDir, 3);
    const services = { ...server.ctx, storage };
    const jpeg = await makeJpeg(900, 600);
    await expect(
      ingestUpload(services, { kind: 'stream', stream: Readable.from([jpeg]), filename: 'half.jpg' }, { user: owner, ip: '127.0.0.1' }, await admitUpload(services, { uploader: { user: owner, ip: '127.0.0.1' }, params: {} })),
    ).rejects.toMatchObject({ httpStatus: 507 });
    expect(storage.moves).toBe(3);
    expect(await listFiles(path.join(server.dataDir, 'images'))).toEqual([]);
    expect(await listFiles(path.join(server.dataDir, 'tmp'))).toEqual([]);
    expect(await server.ctx.db.selectFrom('images').selectAll().execute()).toEqual([]);
    expect(await server.ctx.db.selectFrom('file_names').selectAll().execute()).toEqual([]);

    // The same name is free again for the next upload.
    const ok = await ingestUpload(server.ctx, { kind: 'stream', stream: Readable.from([jpeg]), filename: 'half.jpg' }, { user: owner, ip: '127.0.0.1' }, await admitUpload(server.ctx, { uploader: { user: owner, ip: '127.0.0.1' }, params: {} }));
    expect(ok.image.name).toBe('half');
  });
});
