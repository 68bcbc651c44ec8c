import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The md5 (hex) of a file on disk, read as a stream: the one helper ingest and the Chevereto import share. */
export async function md5OfFile(file: string): Promise<string> {
  const hash = createHash('md5');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
