import { createReadStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { errors } from '../core/errors.js';
import { cleanOriginalFilename, randomAlphanumeric } from './naming.js';
import { adoptFile, spoolBuffer, spoolStream, SpoolWriter, type SpooledFile } from './spool.js';
import { Base64Decoder } from './text-source-stream.js';

/** Every way bytes reach Shoebox; each front door turns its input into one of these. */
export type UploadSource =
  | { kind: 'stream'; stream: Readable; filename: string | null }
  | { kind: 'base64'; data: string }
  | { kind: 'url'; url: string }
  /** A file on this machine; `handOver`: the pipeline may take it (move it, no copy), as a finished local resumable upload. */
  | { kind: 'file'; path: string; filename: string | null; handOver?: boolean }
  /**
   * Already spooled and hashed by the front door (multipart parts may arrive before the options);
   * `fromBase64` when the door decoded it from text (the file then gets a made-up name, as base64 does).
   */
  | { kind: 'spooled'; file: SpooledFile; filename: string | null; fromBase64?: { mime: string | null } };

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

/** `data:image/png;base64,....` or bare base64, whitespace allowed: the rules of the streaming decoder (text-source-stream.ts). */
export function decodeBase64Source(text: string): Buffer {
  const decoder = new Base64Decoder();
  const body = decoder.push(text.replace(/^data:[^,]*?;base64,/i, ''));
  const last = decoder.end();
  if (!body || !last) throw errors.invalidBase64();
  return Buffer.concat([body, last]);
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

/** Base64 has no file name: a random one, with the extension of the data: URI's type (else jpg), as Chevereto does. */
function syntheticName(mime: string | null): { originalFilename: string; filenameIsSynthetic: true } {
  const extension = (mime && EXTENSION_BY_MIME[mime]) || 'jpg';
  return { originalFilename: `${randomAlphanumeric(12).toLowerCase()}.${extension}`, filenameIsSynthetic: true };
}

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
      if (source.file.path !== target) await rename(source.file.path, target);
      if (source.fromBase64) return { ...source.file, path: target, ...syntheticName(source.fromBase64.mime) };
      return { ...source.file, path: target, originalFilename: cleanOriginalFilename(source.filename), filenameIsSynthetic: false };
    }
    case 'base64': {
      const mime = /^data:([^;,]+)/i.exec(source.data)?.[1]?.toLowerCase() ?? null;
      const spooled = await spoolBuffer(decodeBase64Source(source.data), workDir, limits.maxBytes);
      return { ...spooled, ...syntheticName(mime) };
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
