import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';
import { ShoeboxError } from '../core/errors.js';

export type ResponseFormat = 'json' | 'txt' | 'redirect';

/** Chevereto's status_txt: the reason phrase of the status. */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

export function errorEnvelope(error: ShoeboxError, extra?: Record<string, unknown>) {
  return {
    status_code: error.httpStatus,
    error: { message: error.message, code: error.code, context: error.name === 'ShoeboxError' ? 'Shoebox\\Upload' : error.name, ...extra },
    status_txt: statusText(error.httpStatus),
  };
}

/** Sends an error in the format the client asked for: the JSON envelope, or the message as text. */
export function sendApiError(reply: FastifyReply, error: ShoeboxError, format: ResponseFormat, extra?: Record<string, unknown>) {
  reply.code(error.httpStatus);
  if (format === 'txt') return reply.type('text/plain; charset=utf-8').send(error.message);
  return reply.type('application/json; charset=utf-8').send(errorEnvelope(error, extra));
}

/** Anything unexpected becomes a ShoeboxError; bad input has already been classified by the pipeline. */
export function asShoeboxError(error: unknown): ShoeboxError {
  if (error instanceof ShoeboxError) return error;
  const e = error as { statusCode?: number; code?: string; message?: string };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return new ShoeboxError(400, 413, 'Request body too large');
  if (e?.code === 'FST_REQ_FILE_TOO_LARGE' || e?.statusCode === 413) return new ShoeboxError(400, 413, 'File too big');
  if (e?.code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || e?.code === 'FST_PARTS_LIMIT' || e?.code === 'FST_FILES_LIMIT' || e?.code === 'FST_FIELDS_LIMIT') {
    return new ShoeboxError(400, 400, e.message ?? 'Malformed multipart body');
  }
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new ShoeboxError(e.statusCode, e.statusCode, e.message ?? 'Bad request');
  return new ShoeboxError(500, 500, 'Internal error while processing the upload');
}
