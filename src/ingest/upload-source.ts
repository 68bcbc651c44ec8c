import { createReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { errors } from '../core/errors.js';
import { cleanOriginalFilename, randomAlphanumeric } from './naming.js';
import { adoptFile, spoolBuffer, spoolStream, SpoolWriter, type SpooledFile } from './spool.js';

/** Every way bytes reach Shoebox; each front door turns its input into one of these. */
export type UploadSource =
  | { kind: 'stream'; stream: Readable; filename: string | null }
  | { kind: 'base64'; data: string }
  | { kind: 'url'; url: string }
  /** A file on this machine; `handOver`: the pipeline may take it (move it, no copy), as a finished local resumable upload. */
  | { kind: 'file'; path: string; filename: string | null; handOver?: boolean }
  /** Already spooled and hashed by the front door (multipart parts may arrive before the options). */
  | { kind: 'spooled'; file: SpooledFile; filename: string | null };

export interface SpoolLimits {
  maxBytes: number;
  urlUploads: boolean;
  allowPrivateUrls: boolean;
  urlFetchTimeoutMs: number;
}

export interface MaterializedSource extends SpooledFile {
  /** Client's filename; base64 sources get a random one, as Chevereto does. */
  originalFilename: string | null;
  /** True when the name was made up (base64), so it must not become a title. */
  filenameIsSynthetic: boolean;
}

const BASE64_PATTERN = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** `data:image/png;base64,....` or bare base64, whitespace allowed. */
export function decodeBase64Source(text: string): Buffer {
  const body = text.replace(/^data:[^,]*?;base64,/i, '').replace(/\s+/g, '');
  if (body.length === 0 || !BASE64_PATTERN.test(body) || body.length % 4 === 1) throw errors.invalidBase64();
  const data = Buffer.from(body, body.includes('-') || body.includes('_') ? 'base64url' : 'base64');
  if (data.length === 0) throw errors.invalidBase64();
  return data;
}

/** http(s) URL, data URI or base64: what a text `source` field holds. */
export function classifyTextSource(text: string): UploadSource {
  const trimmed = text.trim();
  if (/^https?:\/\//i.test(trimmed)) return { kind: 'url', url: trimmed };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed)) throw errors.urlRefused('only http and https URLs can be fetched');
  return { kind: 'base64', data: trimmed };
}

const EXTENSION_BY_MIME: Record<string, string> = {
  'image/jpeg': 'jpg', 'image/png': 'png', 'image/gif': 'gif', 'image/webp': 'webp', 'image/avif': 'avif', 'image/bmp': 'bmp',
};

/** Lands any source in the work dir as `source`, hashed and size-checked. */
export async function materializeSource(source: UploadSource, workDir: string, limits: SpoolLimits): Promise<MaterializedSource> {
  switch (source.kind) {
    case 'stream': {
      const spooled = await spoolStream(source.stream, workDir, limits.maxBytes);
      return { ...spooled, originalFilename: cleanOriginalFilename(source.filename), filenameIsSynthetic: false };
    }
    case 'file': {
      const spooled = source.handOver ? await adoptFile(source.path, workDir, limits.maxBytes) : await spoolStream(createReadStream(source.path), workDir, limits.maxBytes);
      return { ...spooled, originalFilename: cleanOriginalFilename(source.filename), filenameIsSynthetic: false };
    }
    case 'spooled': {
      if (source.file.size > limits.maxBytes) throw errors.tooBig(limits.maxBytes);
      const target = path.join(workDir, 'source');
      await rename(source.file.path, target);
      return { ...source.file, path: target, originalFilename: cleanOriginalFilename(source.filename), filenameIsSynthetic: false };
    }
    case 'base64': {
      const mime = /^data:([^;,]+)/i.exec(source.data)?.[1]?.toLowerCase();
      const spooled = await spoolBuffer(decodeBase64Source(source.data), workDir, limits.maxBytes);
      const extension = (mime && EXTENSION_BY_MIME[mime]) || 'jpg';
      return { ...spooled, originalFilename: `${randomAlphanumeric(12).toLowerCase()}.${extension}`, filenameIsSynthetic: true };
    }
    case 'url': {
      if (!limits.urlUploads) throw errors.urlUploadsDisabled();
      const { fetchUrlSource } = await import('./fetch-url-source.js');
      const writer = new SpoolWriter(workDir, limits.maxBytes);
      const fetched = await fetchUrlSource(source.url, writer.sink, {
        maxBytes: limits.maxBytes,
        timeoutMs: limits.urlFetchTimeoutMs,
        allowPrivateAddresses: limits.allowPrivateUrls,
      });
      const spooled = await writer.finish();
      return { ...spooled, originalFilename: cleanOriginalFilename(fetched.filename), filenameIsSynthetic: false };
    }
  }
}
