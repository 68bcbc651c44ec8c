import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Settings } from '../config/settings.js';
import { errors, ShoeboxError } from '../core/errors.js';
import { removeQuietly, spoolStream, type SpooledFile } from '../ingest/spool.js';
import { makeWorkDir } from '../ingest/work-dir.js';
import { TextSourceSpooler, type TextSourceResult } from '../ingest/text-source-stream.js';
import { classifyTextSource, type UploadSource } from '../ingest/upload-source.js';
import { textBodyLimit } from './text-body-limit.js';
import { readJsonUpload } from './json-upload-body.js';
import { readUrlencodedUpload } from './urlencoded-upload-body.js';
import { mergeParams, SOURCE_FIELDS, textSourceOf, type RawParams } from './upload-params.js';

/**
 * Reading an upload request's body the way Chevereto's API takes it, for every door that takes
 * one (V1 `/api/1/upload`, V4 `POST images/`): parameters from the query string and the body
 * (form, JSON or multipart; the body wins), and the source as a file part (spooled to disk as
 * it streams, hashed and counted, so options after it still apply) or as text (a URL, base64
 * or a data: URI in `source` or `image`). Nothing big is held whole: in a form, a JSON body or a
 * multipart text part, base64 is decoded to disk as it arrives (ingest/text-source-stream.ts), and
 * `beforeSource` sees the parameters that came before the source (a key there is checked before
 * the big field is read). JSON bodies the same way (json-upload-body.ts). The caller removes
 * `spoolDir` when it is done.
 */
export interface UploadBody {
  params: RawParams;
  /** A file part, or base64 text decoded to disk (`fromBase64`). */
  file: { spooled: SpooledFile; filename: string | null; field: string; fromBase64?: { mime: string | null } } | null;
  /** A text source from the body that is not base64 (a URL). */
  text: { text: string; field: string } | null;
  /** Base64 that did not decode: raised once the key has been checked, as when bodies were read whole. */
  invalid: ShoeboxError | null;
  spoolDir: string | null;
}

export interface UploadBodyHooks {
  /** Called once, before a source field's bytes are read, with the parameters that came before it. */
  beforeSource?: (paramsSoFar: RawParams) => Promise<void>;
}

type BodySettings = Pick<Settings, 'dataDir' | 'maxUploadBytes' | 'formBodyLimitBytes'>;

const isSourceField = (name: string) => (SOURCE_FIELDS as readonly string[]).includes(name);

/** The content-type parsers of the routes that read their form and JSON bodies as a stream (registerStreamedUploadBodies). */
function isStreamedForm(request: FastifyRequest): boolean {
  return typeof (request.body as Readable | undefined)?.pipe === 'function';
}

/**
 * In this (encapsulated) scope, form and JSON bodies reach the handler as the raw stream, for
 * readUploadBody to read as it arrives: register it only around routes that call readUploadBody.
 */
export function registerStreamedUploadBodies(scope: FastifyInstance): void {
  // The root's parsers (formbody, Fastify's JSON) are inherited: this scope's own replace them.
  for (const type of ['application/x-www-form-urlencoded', 'application/json']) {
    if (scope.hasContentTypeParser(type)) scope.removeContentTypeParser(type);
    scope.addContentTypeParser(type, (_request, payload, done) => done(null, payload));
  }
}

export async function readUploadBody(settings: BodySettings, request: FastifyRequest, spoolPrefix = 'api-', hooks: UploadBodyHooks = {}): Promise<UploadBody> {
  let spoolDir: string | null = null;
  const workDir = async () => {
    if (!spoolDir) {
      spoolDir = await makeWorkDir(settings.dataDir, spoolPrefix);
    }
    return spoolDir;
  };
  const out: UploadBody = { params: {}, file: null, text: null, invalid: null, spoolDir: null };
  const take = (field: string, result: Exclude<TextSourceResult, { kind: 'empty' }>) => {
    if (result.kind === 'text') out.text = { text: result.text, field };
    else if (result.kind === 'invalid') out.invalid = result.error;
    else out.file = { spooled: result.file, filename: null, field, fromBase64: { mime: result.mime } };
  };
  const maxBytes = settings.maxUploadBytes;
  try {
    if (isStreamedForm(request)) {
      const isJson = /^application\/json/i.test(request.headers['content-type'] ?? '');
      const form = await (isJson ? readJsonUpload : readUrlencodedUpload)(request.body as Readable, {
        maxBodyBytes: textBodyLimit(maxBytes),
        maxFieldBytes: settings.formBodyLimitBytes,
        maxUploadBytes: maxBytes,
        workDir,
        beforeSource: hooks.beforeSource && ((fields) => hooks.beforeSource!(mergeParams(request.query, fields))),
      });
      if (form.source) take(form.source.field, form.source.result);
      out.params = mergeParams(request.query, form.fields);
    } else if (!request.isMultipart()) {
      out.params = mergeParams(request.query, request.body);
    } else {
      out.params = mergeParams(request.query, await readMultipart(settings, request, workDir, take, hooks, () => out.file !== null || out.text !== null || out.invalid !== null, (file) => (out.file = file)));
    }
  } catch (error) {
    if (spoolDir) await removeQuietly(spoolDir);
    // busboy reports a broken body with plain Errors; file-system failures carry an errno code.
    if (error instanceof ShoeboxError || (error as NodeJS.ErrnoException).code?.startsWith('E')) throw error;
    throw errors.malformedMultipart((error as Error).message);
  }
  out.spoolDir = spoolDir;
  return out;
}

async function readMultipart(
  settings: BodySettings,
  request: FastifyRequest,
  workDir: () => Promise<string>,
  take: (field: string, result: Exclude<TextSourceResult, { kind: 'empty' }>) => void,
  hooks: UploadBodyHooks,
  taken: () => boolean,
  takeFile: (file: NonNullable<UploadBody['file']>) => void,
): Promise<Record<string, string>> {
  const fields: Record<string, string> = {};
  const maxBytes = settings.maxUploadBytes;
  const parts = request.parts({
    // A source sent as a text part is read as a stream too (busboy would buffer a field whole).
    isPartAFile: (field, contentType, filename) => filename !== undefined || contentType === 'application/octet-stream' || isSourceField(field ?? ''),
    // Base64 text is a third bigger than the file; files stop at the upload size as they are spooled.
    limits: { fileSize: textBodyLimit(maxBytes), fieldSize: settings.formBodyLimitBytes },
  });
  for await (const part of parts) {
    if (part.type === 'file') {
      if (!isSourceField(part.fieldname) || taken()) {
        part.file.resume();
        continue;
      }
      if (part.filename === undefined && part.mimetype !== 'application/octet-stream') {
        // A text part: a URL, base64 or a data: URI, decoded to disk as it arrives.
        await hooks.beforeSource?.(mergeParams(request.query, fields));
        const spooler = new TextSourceSpooler(part.fieldname, maxBytes, workDir);
        try {
          for await (const chunk of part.file) await spooler.write(chunk as Buffer);
        } catch (error) {
          await spooler.abort();
          throw error;
        }
        if (part.file.truncated) throw errors.tooBig(maxBytes);
        const result = await spooler.end();
        if (result.kind !== 'empty') take(part.fieldname, result);
        continue;
      }
      const spooled = await spoolStream(part.file, await workDir(), maxBytes);
      if (part.file.truncated) throw errors.tooBig(maxBytes);
      // An empty file part (a form submitted with no file) counts as no file at all.
      if (spooled.size === 0 && !part.filename) {
        await removeQuietly(spooled.path);
        continue;
      }
      takeFile({ spooled, filename: part.filename || null, field: part.fieldname });
    } else if (!(part.fieldname in fields)) {
      if (part.valueTruncated) throw errors.requestTooLarge();
      fields[part.fieldname] = String(part.value ?? '');
    }
  }
  return fields;
}

/** The upload's source and the field it came in (`image` asks for imgbb's answer shape). */
export function uploadSourceOf(body: UploadBody): { source: UploadSource; field: string } {
  if (body.invalid) throw body.invalid;
  if (body.file) return { source: { kind: 'spooled', file: body.file.spooled, filename: body.file.filename, fromBase64: body.file.fromBase64 }, field: body.file.field };
  if (body.text) return { source: classifyTextSource(body.text.text), field: body.text.field };
  const text = textSourceOf(body.params);
  if (!text) throw errors.emptySource();
  return text;
}
