import { readFile, readdir, mkdir } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import path from 'node:path';
import { writePhotoJpeg } from './lib/fixtures.js';
import { createUserWithKey, startShoebox } from './lib/shoebox.js';
import { runForDuration } from './lib/workers.js';

const work = '/tmp/prof-ingest';
await mkdir(work, { recursive: true });
const file = path.join(work, 'p.jpg');
await writePhotoJpeg(file, 4000, 3000);
const data = await readFile(file);
const server = await startShoebox({ dataDir: path.join(work, 'data' + Date.now()), logFile: path.join(work, 'log'), env: { SHOEBOX_FLOOD_LIMIT: '0' }, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${work}/prof`] });
const key = await createUserWithKey(server.env, 'bench');
const agent = new Agent({ keepAlive: true, maxSockets: 4 });
function upload(): Promise<void> {
  const boundary = 'xxBOUNDARYxx';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="source"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}/api/1/upload`, { method: 'POST', agent, headers: { 'X-API-Key': key, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + data.length + tail.length } }, (res) => { res.resume(); res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error(String(res.statusCode)))); });
    req.on('error', reject); req.write(head); req.write(data); req.end(tail);
  });
}
const r = await runForDuration(4, 10, () => upload());
console.log(r);
await server.stop();
