import { readdirSync, readFileSync } from 'node:fs';
import { measureLoad } from './lib/load.js';
import { startNginx } from './lib/nginx.js';
import { createUserWithKey, startShoebox } from './lib/shoebox.js';
import { uploadBuffer } from './lib/upload-client.js';
import { cpuSecondsOf } from './lib/workers.js';
const root = '/tmp/srvexp/root/images/2025';
const stamp = Date.now();
const sb: { name: string; url: string; pid: number; stop: () => Promise<void> }[] = [];
let paths: string[] = [];
let dataDir = '';
for (const hwm of ['65536', '262144', '524288']) {
  const s = await startShoebox({ dataDir: `/tmp/srvexp/sb-${stamp}-${hwm}`, logFile: '/tmp/srvexp/sb.log', env: { SHOEBOX_FLOOD_LIMIT: '0', BENCH_HWM: hwm } });
  const key = await createUserWithKey(s.env, 'bench');
  const ps: string[] = [];
  for (const f of readdirSync(root).sort()) ps.push(new URL((await uploadBuffer(s.url, key, readFileSync(`${root}/${f}`), f, 'image/jpeg')).url).pathname);
  paths = ps; dataDir = s.dataDir;
  sb.push({ name: `shoebox ${hwm}`, url: s.url, pid: s.child.pid, stop: () => s.stop() });
}
const ng = await startNginx(`/tmp/srvexp/ng-${stamp}`, dataDir, paths[0]);
sb.push({ name: 'nginx', url: ng.url, pid: ng.child.pid, stop: () => ng.child.stop() });
const res: Record<string, string[]> = {};
for (let r = 0; r < 4; r++) for (const s of sb) {
  const c0 = cpuSecondsOf(s.pid);
  const out = await measureLoad({ origin: s.url, paths, seconds: 3, connections: 16, workDir: '/tmp/srvexp' });
  (res[s.name] ??= []).push(`${Math.round(out.requestsPerSecond)}/${((cpuSecondsOf(s.pid) - c0) * 1e6 / out.requests).toFixed(0)}µs`);
}
console.log(res);
for (const s of sb) await s.stop();
