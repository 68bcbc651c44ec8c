/**
 * The bare-Node reference of the serving benchmark: node:http and fs.createReadStream, no
 * framework, no database. Serves files under ROOT by their path.
 *
 *   node --import tsx bench/servers/static-node.ts ROOT PORT
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';

const root = path.resolve(process.argv[2] ?? '.');
const port = Number(process.argv[3] ?? 0);
const types: Record<string, string> = { '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.mp4': 'video/mp4' };

createServer(async (req, res) => {
  const file = path.join(root, path.normalize(decodeURIComponent((req.url ?? '/').split('?')[0])));
  try {
    if (!file.startsWith(root + path.sep)) throw new Error('outside the root');
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
    res.writeHead(200, { 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream', 'Content-Length': info.size });
    createReadStream(file).pipe(res);
  } catch {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found');
  }
}).listen(port, '127.0.0.1');
