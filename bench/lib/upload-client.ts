import { Agent, request } from 'node:http';

export interface UploadedImage {
  url: string;
  url_viewer: string;
  size: number;
  [key: string]: unknown;
}

/**
 * One multipart upload to /api/1/upload, sent the way HTTP client libraries send a file.
 * Resolves with the `image` object of a 200 answer; anything else rejects.
 */
export function uploadBuffer(origin: string, key: string, file: Buffer, filename: string, mime: string, agent?: Agent): Promise<UploadedImage> {
  const boundary = `----shoebox-bench-${Math.random().toString(16).slice(2)}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="source"; filename="${filename}"\r\nContent-Type: ${mime}\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return new Promise((resolve, reject) => {
    const req = request(`${origin}/api/1/upload`, {
      method: 'POST',
      agent,
      headers: { 'X-API-Key': key, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': head.length + file.length + tail.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        try {
          const parsed = JSON.parse(body) as { status_code?: number; image?: UploadedImage };
          if (res.statusCode === 200 && parsed.status_code === 200 && parsed.image) return resolve(parsed.image);
        } catch {
          // not JSON; reported below
        }
        reject(new Error(`upload answered ${res.statusCode}: ${body.slice(0, 300)}`));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.write(head);
    req.write(file);
    req.end(tail);
  });
}

/** GET a URL over a fresh connection and return status and body length (to check servers serve the same bytes). */
export function getLength(url: string): Promise<{ status: number; length: number }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false }, (res) => {
      let length = 0;
      res.on('data', (c: Buffer) => (length += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, length }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}
