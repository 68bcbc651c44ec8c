import { createServer, type Server } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runShoebox } from '../support/cli.js';

/** `shoebox serve` (what `npm start` runs) on a port another program holds. */
describe('starting the server on a port in use', () => {
  let dataDir: string;
  let holder: Server;
  let port: number;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'shoebox-port-'));
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    port = (holder.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => holder.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('says which setting to change, without a stack trace, and exits non-zero', async () => {
    const result = await runShoebox(['serve'], { SHOEBOX_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', SHOEBOX_LOG_LEVEL: 'silent' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(result.stderr).toContain('set PORT to a free port');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stderr).not.toContain('EADDRINUSE');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  }, 60_000);
});
