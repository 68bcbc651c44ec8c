/**
 * The reference of the big-upload benchmark: a bare node:http server that pipes each request
 * body, as it arrives, into a file (no parsing, no hashing), answers 200 when it is on disk,
 * then deletes it so repeated runs do not fill the disk. With `md5` it also hashes the body
 * on the way, as Shoebox must (the API answers with the file's md5): a diagnostic that shows
 * what hashing alone costs.
 *
 *   node --import tsx bench/servers/pipe-to-disk.ts DIR PORT [md5]
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const dir = path.resolve(process.argv[2] ?? '.');
const port = Number(process.argv[3] ?? 0);
const hashing = process.argv[4] === 'md5';
let counter = 0;

createServer(async (req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ready');
    return;
  }
  const file = path.join(dir, `body-${process.pid}-${counter++}`);
  try {
    let md5: string | undefined;
    if (hashing) {
      const hash = createHash('md5');
      const hasher = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
      });
      await pipeline(req, hasher, createWriteStream(file));
      md5 = hash.digest('hex');
    } else {
      await pipeline(req, createWriteStream(file));
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status_code: 200, md5 }));
  } catch (error) {
    res.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
  } finally {
    await rm(file, { force: true });
  }
}).listen(port, '127.0.0.1');
