import { readFile } from 'node:fs/promises';
import { Agent } from 'node:http';
import { createUserWithKey, startShoebox } from './lib/shoebox.js';
import { uploadBuffer } from './lib/upload-client.js';
import { runForDuration, cpuSecondsOf } from './lib/workers.js';
const data = await readFile('/tmp/prof-ingest/p.jpg');
const stamp = Date.now();
const variants = (process.env.VARIANTS ?? '4,16').split(',');
const servers = [];
for (const tp of variants) {
  const s = await startShoebox({ dataDir: `/tmp/prof-ingest/tp-${stamp}-${tp}`, logFile: '/tmp/prof-ingest/log', env: { SHOEBOX_FLOOD_LIMIT: '0', UV_THREADPOOL_SIZE: tp } });
  servers.push({ tp, s, key: await createUserWithKey(s.env, 'bench'), agent: new Agent({ keepAlive: true, maxSockets: 4 }) });
}
const out: Record<string, string[]> = {};
for (let r = 0; r < Number(process.env.ROUNDS ?? 3); r++) for (const v of servers) {
  const c0 = cpuSecondsOf(v.s.child.pid);
  const res = await runForDuration(4, 6, async () => { await uploadBuffer(v.s.url, v.key, data, 'a.jpg', 'image/jpeg', v.agent); });
  (out[v.tp] ??= []).push(`${res.rate.toFixed(1)}/s ${((cpuSecondsOf(v.s.child.pid) - c0) * 1000 / res.completed).toFixed(0)}ms`);
}
console.log(out);
for (const v of servers) await v.s.stop();
