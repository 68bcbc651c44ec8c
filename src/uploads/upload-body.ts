import { mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyRequest } from 'fastify';
import type { Settings } from '../config/settings.js';
import { errors, ShoeboxError } from '../core/errors.js';
import { removeQuietly, spoolStream, type SpooledFile } from '../ingest/spool.js';
import type { UploadSource } from '../ingest/upload-source.js';
import { textBodyLimit } from './text-body-limit.js';
import { mergeParams, SOURCE_FIELDS, textSourceOf, type RawParams } from './upload-params.js';

/**
 * Reading an upload request's body the way Chevereto's API takes it, for every door that takes
 * one (V1 `/api/1/upload`, V4 `POST images/`): parameters from the query string and the body
 * (form, JSON or multipart; the body wins), and the source as a file part (spooled to disk as
 * it streams, hashed and counted, so options after it still apply) or as text (a URL, base64
 * or a data: URI in `source` or `image`). The caller removes `spoolDir` when it is done.
 */
export interface UploadBody {
  params: RawParams;
  file: { spooled: SpooledFile; filename: string | null; field: string } | null;
  spoolDir: string | null;
}

export async function readUploadBody(settings: Pick<Settings, 'dataDir' | 'maxUploadBytes'>, request: FastifyRequest, spoolPrefix = 'api-'): Promise<UploadBody> {
  if (!request.isMultipart()) return { params: mergeParams(request.query, request.body), file: null, spoolDir: null };
  const fields: Record<string, string> = {};
  let file: UploadBody['file'] = null;
  let spoolDir: string | null = null;
  const maxBytes = settings.maxUploadBytes;
  try {
    // The limits as they are now (the dashboard may change the upload size while the site runs).
    for await (const part of request.parts({ limits: { fileSize: maxBytes + 1, fieldSize: textBodyLimit(maxBytes) } })) {
      if (part.type === 'file') {
        const isSource = (SOURCE_FIELDS as readonly string[]).includes(part.fieldname);
        if (!isSource || file) {
          part.file.resume();
          continue;
        }
        const tmpRoot = path.join(settings.dataDir, 'tmp');
        await mkdir(tmpRoot, { recursive: true });
        spoolDir = await mkdtemp(path.join(tmpRoot, spoolPrefix));
        const spooled = await spoolStream(part.file, spoolDir, maxBytes);
        if (part.file.truncated) throw errors.tooBig(maxBytes);
        // An empty file part (a form submitted with no file) counts as no file at all.
        if (spooled.size === 0 && !part.filename) continue;
        file = { spooled, filename: part.filename || null, field: part.fieldname };
      } else if (!(part.fieldname in fields)) {
        fields[part.fieldname] = String(part.value ?? '');
      }
    }
  } catch (error) {
    if (spoolDir) await removeQuietly(spoolDir);
    // busboy reports a broken body with plain Errors; file-system failures carry an errno code.
    if (error instanceof ShoeboxError || (error as NodeJS.ErrnoException).code?.startsWith('E')) throw error;
    throw errors.malformedMultipart((error as Error).message);
  }
  return { params: mergeParams(request.query, fields), file, spoolDir };
}

/** The upload's source and the field it came in (`image` asks for imgbb's answer shape). */
export function uploadSourceOf(body: UploadBody): { source: UploadSource; field: string } {
  if (body.file) return { source: { kind: 'spooled', file: body.file.spooled, filename: body.file.filename }, field: body.file.field };
  const text = textSourceOf(body.params);
  if (!text) throw errors.emptySource();
  return text;
}
