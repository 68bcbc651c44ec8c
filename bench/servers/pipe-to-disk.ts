/**
 * The reference of the big-upload benchmark: a bare node:http server that pipes each request
 * body, as it arrives, into a file (no parsing, no hashing), answers 200 when it is on disk,
 * then deletes it so repeated runs do not fill the disk.
 *
 *   node --import tsx bench/servers/pipe-to-disk.ts DIR PORT
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = path.resolve(process.argv[2] ?? '.');
const port = Number(process.argv[3] ?? 0);
let counter = 0;

createServer(async (req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ready');
    return;
  }
  const file = path.join(dir, `body-${process.pid}-${counter++}`);
  try {
    await pipeline(req, createWriteStream(file));
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status_code: 200 }));
  } catch (error) {
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
  } finally {
    await rm(file, { force: true });
  }
}).listen(port, '127.0.0.1');
