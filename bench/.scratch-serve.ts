import { readdirSync } from 'node:fs';
import { startNginx } from './lib/nginx.js';
import { measureLoad } from './lib/load.js';
import { startChild, waitFor200 } from './lib/processes.js';
import { freePort } from './lib/shoebox.js';
import { cpuSecondsOf } from './lib/workers.js';
const root = '/tmp/srvexp/root';
const paths = readdirSync(root + '/images/2025').map((f) => '/images/2025/' + f);
const nginx = await startNginx('/tmp/srvexp/nginx', root, paths[0]);
const servers: { name: string; url: string; pid: number; stop: () => Promise<void> }[] = [{ name: 'nginx', url: nginx.url, pid: nginx.child.pid, stop: () => nginx.child.stop() }];
for (const hwm of (process.env.HWMS ?? '65536,262144,524288').split(',')) {
  const port = await freePort();
  const child = startChild(process.execPath, [process.env.SRV ?? '/tmp/srvexp/srv.mjs', root, String(port), hwm], { logFile: '/tmp/srvexp/log' });
  await waitFor200(`http://127.0.0.1:${port}${paths[0]}`, { timeoutMs: 5000, child });
  servers.push({ name: `node ${hwm}`, url: `http://127.0.0.1:${port}`, pid: child.pid, stop: () => child.stop() });
}
const res: Record<string, number[]> = {};
for (let r = 0; r < 3; r++) for (const s of servers) {
  const c0 = cpuSecondsOf(s.pid);
  const out = await measureLoad({ origin: s.url, paths, seconds: 4, connections: 16, workDir: '/tmp/srvexp' });
  (res[s.name] ??= []).push(Math.round(out.requestsPerSecond), Number(((cpuSecondsOf(s.pid) - c0) * 1e6 / out.requests).toFixed(0)));
}
console.log(res);
for (const s of servers) await s.stop();
