import { errors } from '../core/errors.js';
import { checkTagsText, checkTextLength, TEXT_LIMITS } from '../core/text-limits.js';
import type { PublicIdCodec } from '../core/public-id.js';
import { parseTags, type Uploader, type UploadOptions } from '../ingest/ingest-upload.js';
import { classifyTextSource, type UploadSource } from '../ingest/upload-source.js';
import type { ResponseFormat } from './envelope.js';

/**
 * Chevereto's upload parameters (title, description, tags, album_id, category_id, width,
 * expiration, nsfw, use_file_date, format) as every door receives them: strings by name,
 * from a query string, a form, multipart fields, JSON or tus metadata.
 */

export type RawParams = Record<string, string | undefined>;

/** Merges query-string and body parameters; the body wins. Arrays (repeated fields) keep their first value. */
export function mergeParams(query: unknown, body: unknown): RawParams {
  const out: RawParams = {};
  for (const source of [query, body]) {
    if (!source || typeof source !== 'object') continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      const value = Array.isArray(v) ? v[0] : v;
      if (value === undefined || value === null) continue;
      if (typeof value === 'object') continue;
      out[k] = String(value);
    }
  }
  return out;
}

export function parseFormat(raw: string | undefined): ResponseFormat {
  const f = raw?.trim().toLowerCase();
  return f === 'txt' || f === 'redirect' ? f : 'json';
}

function parseFlag(name: string, raw: string | undefined): boolean | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = raw.trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false') return false;
  throw errors.badParameter(name, 'use 0, 1, true or false');
}

function parsePositiveInt(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < 1 || !Number.isSafeInteger(Number(raw))) {
    throw errors.badParameter(name, 'must be a positive integer');
  }
  return Number(raw);
}

/** Field names a file or text source may arrive under; `image` is imgbb's name and switches to its response shape. */
export const SOURCE_FIELDS = ['source', 'image'] as const;
export type SourceField = (typeof SOURCE_FIELDS)[number];

/** The answer's shape a request asks for by the field it sent its source in. */
export type AnswerShape = 'chevereto' | 'imgbb';

export function shapeOfField(field: string): AnswerShape {
  return field === 'image' ? 'imgbb' : 'chevereto';
}

/** A text source (URL, base64, data: URI) from the parameters, with the field it came in; null when there is none. */
export function textSourceOf(params: RawParams): { source: UploadSource; field: SourceField } | null {
  for (const field of SOURCE_FIELDS) {
    const text = params[field];
    if (text !== undefined && text.trim() !== '') return { source: classifyTextSource(text), field };
  }
  return null;
}

/**
 * The URL of an "add by URL" request (`url`, or `source` as the API names it), classified by the
 * same rule as any text source (`classifyTextSource`): anything but an http(s) URL is refused.
 */
export function urlSourceOf(params: RawParams): UploadSource {
  const text = (params.url ?? params.source ?? '').trim();
  if (!text) throw errors.emptySource();
  const source = classifyTextSource(text);
  if (source.kind !== 'url') throw errors.urlRefused('only http and https URLs can be fetched');
  return source;
}

/**
 * Parameters into pipeline options for this uploader: anything malformed is a 400 that names
 * the parameter; options only an administrator may use (use_file_date) are dropped for others.
 */
export function uploadOptionsFor(params: RawParams, ids: PublicIdCodec, uploader: Uploader): UploadOptions {
  const options = parseUploadOptions(params, ids);
  if (options.useFileDate && !uploader.user?.is_admin) options.useFileDate = false;
  return options;
}

/** Turns API parameters into pipeline options; anything malformed is a 400 that names the parameter. */
export function parseUploadOptions(params: RawParams, ids: PublicIdCodec): UploadOptions {
  checkTextLength('title', params.title, TEXT_LIMITS.title);
  checkTextLength('description', params.description, TEXT_LIMITS.description);
  checkTagsText('tags', params.tags);
  let albumId: number | null = null;
  const albumText = params.album_id?.trim();
  if (albumText) {
    albumId = ids.decode(albumText);
    if (albumId === null) throw errors.notFound('Album not found');
  }
  return {
    title: params.title ?? null,
    description: params.description ?? null,
    tags: parseTags(params.tags),
    albumId,
    categoryId: parsePositiveInt('category_id', params.category_id) ?? null,
    width: parsePositiveInt('width', params.width),
    expiration: params.expiration?.trim() ? params.expiration : undefined,
    // Not given: the site's default applies (SHOEBOX_NSFW_BY_DEFAULT, in ingestUpload).
    nsfw: parseFlag('nsfw', params.nsfw),
    useFileDate: parseFlag('use_file_date', params.use_file_date) ?? false,
  };
}
