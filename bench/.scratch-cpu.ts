import { readFile, mkdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { createUserWithKey, startShoebox } from './lib/shoebox.js';
import { runForDuration, cpuSecondsOf, ownCpuSeconds } from './lib/workers.js';

const work = '/tmp/prof-ingest';
await mkdir(work, { recursive: true });
const data = await readFile(path.join(work, 'p.jpg'));
const junk = randomBytes(data.length);
const server = await startShoebox({ dataDir: path.join(work, 'data' + Date.now()), logFile: path.join(work, 'log'), env: { SHOEBOX_FLOOD_LIMIT: '0', ...(process.env.TP ? { UV_THREADPOOL_SIZE: process.env.TP } : {}) }, nodeArgs: process.argv.slice(2) });
const key = await createUserWithKey(server.env, 'bench');
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function upload(body: Buffer): Promise<number> {
  const boundary = 'xxBOUNDARYxx';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="source"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/api/1/upload`, { method: 'POST', agent, headers: { 'X-API-Key': key, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + body.length + tail.length } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); });
    req.on('error', reject); req.write(head); req.write(body); req.end(tail);
  });
}
for (const [label, body] of [['junk', junk], ['jpeg', data], ['junk', junk], ['jpeg', data]] as const) {
  const c0 = cpuSecondsOf(server.child.pid); const o0 = ownCpuSeconds();
  let status = 0;
  const r = await runForDuration(4, 6, async () => { status = await upload(body); });
  console.log(label, status, r.rate.toFixed(2), 'server ms/upload', ((cpuSecondsOf(server.child.pid) - c0) * 1000 / r.completed).toFixed(1), 'client ms/upload', ((ownCpuSeconds() - o0) * 1000 / r.completed).toFixed(1));
}
await server.stop();
