import { readdirSync, readFileSync } from 'node:fs';
import { measureLoad } from './lib/load.js';
import { createUserWithKey, startShoebox } from './lib/shoebox.js';
import { uploadBuffer } from './lib/upload-client.js';
import { cpuSecondsOf } from './lib/workers.js';
const root = '/tmp/srvexp/root/images/2025';
const server = await startShoebox({ dataDir: '/tmp/srvexp/shoebox-' + Date.now(), logFile: '/tmp/srvexp/sb.log', env: { SHOEBOX_FLOOD_LIMIT: '0' }, nodeArgs: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/srvexp/prof'] : [] });
const key = await createUserWithKey(server.env, 'bench');
const paths: string[] = [];
for (const f of readdirSync(root)) paths.push(new URL((await uploadBuffer(server.url, key, readFileSync(`${root}/${f}`), f, 'image/jpeg')).url).pathname);
for (let r = 0; r < 3; r++) {
  const c0 = cpuSecondsOf(server.child.pid);
  const out = await measureLoad({ origin: server.url, paths, seconds: 4, connections: 16, workDir: '/tmp/srvexp' });
  console.log(Math.round(out.requestsPerSecond), ((cpuSecondsOf(server.child.pid) - c0) * 1e6 / out.requests).toFixed(0));
}
await server.stop();
