import { createServer, type Server } from 'node:http';
import { uploadFile, postForm, type ApiResponse } from '../support/api.js';
import { tusUpload } from '../support/tus.js';

/**
 * The ways a file comes in, for rules that must hold on every one of them: the API (multipart
 * and by URL), the web uploader's "add by URL", and resumable (tus) uploads. URL uploads
 * fetch from a loopback origin (the test servers allow private URLs).
 */
export type WayIn = 'api' | 'api-url' | 'web-url' | 'resumable';
export const WAYS_IN: WayIn[] = ['api', 'api-url', 'web-url', 'resumable'];

export interface Outcome {
  status: number;
  body: any;
}

export class FileOrigin {
  private files = new Map<string, Buffer>();
  private server: Server | null = null;
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const file = this.files.get(req.url ?? '');
      if (!file) return res.writeHead(404).end();
      res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': file.length }).end(file);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
    return this;
  }

  serve(file: Buffer): string {
    const name = `/f${this.files.size}.jpg`;
    this.files.set(name, file);
    return `${this.url}${name}`;
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r));
  }
}

export async function uploadVia(
  way: WayIn,
  baseUrl: string,
  origin: FileOrigin,
  file: Buffer,
  options: { key?: string; fields?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<Outcome> {
  const headers = { ...(options.key ? { 'X-API-Key': options.key } : {}), ...options.headers };
  const fields = options.fields ?? {};
  const fromApi = (r: ApiResponse): Outcome => ({ status: r.status, body: r.body });
  switch (way) {
    case 'api':
      return fromApi(await uploadFile(baseUrl, file, 'picture.jpg', fields, headers));
    case 'api-url':
      return fromApi(await postForm(baseUrl, { source: origin.serve(file), ...fields }, headers));
    case 'web-url': {
      const res = await fetch(`${baseUrl}/upload/url`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ url: origin.serve(file), ...fields }),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    }
    case 'resumable': {
      const out = await tusUpload(file, { endpoint: `${baseUrl}/upload/tus`, metadata: { filename: 'picture.jpg', ...fields }, headers });
      return { status: out.status, body: out.body };
    }
  }
}
