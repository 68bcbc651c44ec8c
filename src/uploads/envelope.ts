import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors, ShoeboxError } from '../core/errors.js';

/** How the API answers: the JSON envelope, the bare URL or message as text, or a redirect to the viewer. */
export type ResponseFormat = 'json' | 'txt' | 'redirect';

/** What a door sends back: an HTTP status and a JSON body. */
export interface Answer {
  status: number;
  body: unknown;
}

/** Chevereto's status_txt: the reason phrase of the status. */
export function statusText(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

/** Chevereto's error envelope: `{status_code, error: {message, code, context}, status_txt}`. */
export function errorEnvelope(error: ShoeboxError, extra?: Record<string, unknown>) {
  return {
    status_code: error.httpStatus,
    error: { message: error.message, code: error.code, context: 'Shoebox\\Upload', ...extra },
    status_txt: statusText(error.httpStatus),
  };
}

export function errorAnswer(error: ShoeboxError, extra?: Record<string, unknown>): Answer {
  return { status: error.httpStatus, body: errorEnvelope(error, extra) };
}

/** Where a failure is logged (Fastify's request or reply logger fits). */
export interface FailureLog {
  error(facts: object, message: string): void;
}

/**
 * THE mapper every door answers a failure with: anything thrown becomes an error of the table
 * (`asShoeboxError`), a failure of the server's own (5xx) is logged with what was thrown, and the
 * answer is Chevereto's envelope with the table's status. No door builds an envelope itself.
 */
export function failureAnswer(thrown: unknown, log?: FailureLog, extra?: Record<string, unknown>): Answer & { error: ShoeboxError } {
  const error = asShoeboxError(thrown);
  if (error.httpStatus >= 500) log?.error({ err: thrown }, 'request failed');
  return { ...errorAnswer(error, extra), error };
}

export interface SendErrorOptions {
  format?: ResponseFormat;
  /** Defaults to the reply's own logger. */
  log?: FailureLog;
  headers?: Record<string, string>;
}

/** Sends a failure (anything thrown) in the format the client asked for: the JSON envelope, or the message as text. */
export function sendApiError(reply: FastifyReply, thrown: unknown, options: SendErrorOptions = {}) {
  const { status, body, error } = failureAnswer(thrown, options.log ?? reply.log);
  reply.code(status);
  if (options.headers) reply.headers(options.headers);
  if (options.format === 'txt') return reply.type('text/plain; charset=utf-8').send(error.message);
  return reply.type('application/json; charset=utf-8').send(body);
}

/**
 * A Fastify error handler for a door's scope: bodies that fail to parse, schemas that refuse the
 * input and anything a handler throws are answered through `sendApiError`. `format` reads the
 * asked format from the request; `map` turns a door's own case into an error first.
 */
export function envelopeErrorHandler(options: { format?: (request: FastifyRequest) => ResponseFormat; map?: (thrown: unknown) => unknown; headers?: Record<string, string> } = {}) {
  return (thrown: unknown, request: FastifyRequest, reply: FastifyReply) =>
    sendApiError(reply, options.map ? options.map(thrown) : thrown, { format: options.format?.(request), log: request.log, headers: options.headers });
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: { missingProperty?: string; allowedValues?: unknown[] };
}

/** A route schema refused the input: a 400 naming the field, in the envelope like any bad parameter. */
function validationError(issue: ValidationIssue, context = 'body'): ShoeboxError {
  const field = issue.params?.missingProperty ?? (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const why = issue.params?.missingProperty ? 'is required' : (issue.message ?? 'is not valid');
  return errors.badParameter(field || context, why);
}

const FASTIFY_MULTIPART_LIMITS = new Set(['FST_INVALID_MULTIPART_CONTENT_TYPE', 'FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT']);

/**
 * Anything thrown becomes an error of the table: ours as they are, Fastify's and the
 * multipart parser's client errors by their status, anything else an internal error.
 */
export function asShoeboxError(error: unknown): ShoeboxError {
  if (error instanceof ShoeboxError) return error;
  const e = error as { statusCode?: number; code?: string; message?: string; validation?: ValidationIssue[]; validationContext?: string };
  if (e?.code === 'FST_ERR_VALIDATION' && e.validation?.length) return validationError(e.validation[0], e.validationContext);
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errors.requestTooLarge();
  if (e?.code === 'FST_REQ_FILE_TOO_LARGE' || e?.statusCode === 413) return errors.bodyTooLarge();
  if (e?.code && FASTIFY_MULTIPART_LIMITS.has(e.code)) return errors.badRequest(e.message ?? 'Malformed multipart body');
  const status = e?.statusCode;
  if (status && status >= 400 && status < 500) {
    if (status === 404) return errors.notFound(e.message);
    if (status === 405) return errors.methodNotAllowed();
    if (status === 415) return errors.unsupportedMediaType(e.message);
    return errors.badRequest(e.message);
  }
  return errors.internal();
}
