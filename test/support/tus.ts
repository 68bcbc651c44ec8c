import * as tus from 'tus-js-client';

/** What a tus upload ended with: the last response's status and body (the API's JSON on success). */
export interface TusOutcome {
  ok: boolean;
  status: number;
  body: any;
  text: string;
  /** The upload's URL (absolute), for HEAD/PATCH/result requests. */
  url: string | null;
  error?: Error;
}

export interface TusUploadOptions {
  endpoint: string;
  chunkSize?: number;
  metadata?: Record<string, string>;
  headers?: Record<string, string>;
  /** Resume this upload instead of creating one. */
  uploadUrl?: string;
  retryDelays?: number[] | null;
  onProgress?: (sent: number, total: number, upload: tus.Upload) => void;
  onChunkComplete?: (chunk: number, accepted: number, total: number, upload: tus.Upload) => void;
}

function parse(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * Uploads with tus-js-client, the reference tus client (Node build: a Buffer, or an
 * fs.ReadStream read slice by slice from disk), and resolves with the outcome instead of
 * throwing, so tests can assert on failures too.
 */
export function tusUpload(input: Buffer | import('node:fs').ReadStream, options: TusUploadOptions): Promise<TusOutcome> {
  return new Promise((resolve) => {
    const upload: tus.Upload = new tus.Upload(input as Buffer, {
      endpoint: options.endpoint,
      uploadUrl: options.uploadUrl ?? null,
      chunkSize: options.chunkSize ?? Infinity,
      metadata: options.metadata ?? {},
      headers: options.headers ?? {},
      retryDelays: options.retryDelays === undefined ? null : options.retryDelays,
      onProgress: options.onProgress ? (sent, total) => options.onProgress!(sent, total, upload) : null,
      onChunkComplete: options.onChunkComplete ? (chunk, accepted, total) => options.onChunkComplete!(chunk, accepted, total, upload) : null,
      onSuccess: ({ lastResponse }) => {
        const text = lastResponse.getBody() ?? '';
        resolve({ ok: true, status: lastResponse.getStatus(), body: parse(text), text, url: upload.url });
      },
      onError: (error) => {
        const response = (error as tus.DetailedError).originalResponse ?? null;
        const text = response?.getBody() ?? '';
        resolve({ ok: false, status: response?.getStatus() ?? 0, body: parse(text), text, url: upload.url, error });
      },
    });
    upload.start();
  });
}
