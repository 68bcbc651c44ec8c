import { Transform } from 'node:stream';
import { errorCodes, type FastifyRequest, type RequestPayload } from 'fastify';
import type { Settings } from '../config/settings.js';

/** Request bodies that carry a file as text (base64 in a form or JSON) need room for the encoding's growth. */
export function textBodyLimit(maxUploadBytes: number): number {
  return Math.ceil(maxUploadBytes * 1.4) + 1024 * 1024;
}

/**
 * The routes that take a file as text (`/api/1/upload`, V4 `POST images/`) declare this as their
 * Fastify `bodyLimit`: Fastify fixes a route's limit when the server starts, and the upload size
 * may be raised (or lowered) in the dashboard while it runs, so the real limit is applied per
 * request by `liveTextBodyLimit` instead.
 */
export const TEXT_BODY_ROUTE_LIMIT = Number.MAX_SAFE_INTEGER;

function tooLarge(): Error {
  return new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE();
}

/**
 * A `preParsing` hook holding a body parsed whole (JSON) to textBodyLimit(SHOEBOX_MAX_UPLOAD_SIZE)
 * as the setting is now: a declared Content-Length over it is refused before anything is read,
 * and a body that grows past it is cut as it arrives (Fastify's own body-too-large error, 413).
 * Multipart and form bodies are left alone: readUploadBody streams them to disk with the same
 * limits, read at each request (uploads/upload-body.ts).
 */
export function liveTextBodyLimit(settings: Pick<Settings, 'maxUploadBytes'>) {
  return async (request: FastifyRequest, _reply: unknown, payload: RequestPayload): Promise<RequestPayload> => {
    const type = request.headers['content-type'] ?? '';
    const hasBody = request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined;
    // Multipart and form bodies are streamed by readUploadBody, with the same live limits.
    if (!hasBody || /^(multipart\/|application\/x-www-form-urlencoded)/i.test(type)) return payload;
    const limit = textBodyLimit(settings.maxUploadBytes);
    if (Number(request.headers['content-length']) > limit) throw tooLarge();
    let received = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        received += chunk.length;
        if (received > limit) callback(tooLarge());
        else callback(null, chunk);
      },
    });
    payload.on('error', (error) => counted.destroy(error));
    return payload.pipe(counted);
  };
}
