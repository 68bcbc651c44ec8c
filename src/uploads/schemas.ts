import { Type, type TSchema } from 'typebox';

/**
 * Route schemas (TypeBox, JSON Schema underneath; Fastify validates with them and
 * `@fastify/type-provider-typebox` types the handlers). Validation errors are answered in
 * Chevereto's envelope as `badParameter` naming the field (`uploads/envelope.ts`).
 */

/**
 * Chevereto's upload parameters (shared/reference/API-V1.md), as strings: the one list the V1
 * route validates its query string and its body's fields with, and that /api/openapi.json
 * describes (Fastify's validator turns JSON numbers and booleans into strings; the body's
 * fields arrive as strings from uploads/upload-params.ts mergeParams).
 */
const uploadParameterProperties = {
  key: Type.Optional(Type.String({ description: 'the API key, when not sent as X-API-Key' })),
  source: Type.Optional(Type.String({ description: 'the file (multipart), a URL, or base64 / a data: URI' })),
  image: Type.Optional(Type.String({ description: 'as source, imgbb\'s name (the answer then has imgbb\'s shape too: data, status)' })),
  format: Type.Optional(Type.String({ description: 'json (default), txt (the URL as text) or redirect (to the viewer page)' })),
  title: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  tags: Type.Optional(Type.String({ description: 'comma-separated' })),
  album_id: Type.Optional(Type.String({ description: 'an album id_encoded' })),
  category_id: Type.Optional(Type.String()),
  width: Type.Optional(Type.String({ description: 'resize to this width (height follows)' })),
  expiration: Type.Optional(Type.String({ description: 'PT5M, P1D… (ISO-8601 duration) or seconds' })),
  nsfw: Type.Optional(Type.String({ description: '0 or 1' })),
  use_file_date: Type.Optional(Type.String({ description: '0 or 1 (admins)' })),
};

/**
 * The V1 upload route's query string: everything Chevereto accepts is accepted (unknown
 * fields such as `action` or `type` pass, a repeated field keeps its first value).
 */
export const uploadQuerySchema = Type.Object(
  Object.fromEntries(Object.entries(uploadParameterProperties).map(([name, schema]) => [name, Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: (schema as { description?: string }).description }))])),
  { additionalProperties: true },
);

/**
 * The V1 upload's body (a form, multipart or JSON): the same parameters, the file in `source`
 * (or `image`). The route reads the body as a stream (uploads/upload-body.ts) and checks the
 * fields it read against this schema (`uploadBodyProblem`); the description shows it per type.
 */
export const uploadBodySchema = Type.Object(
  { ...uploadParameterProperties, source: Type.Optional(Type.String({ description: 'the file (multipart), a URL, or base64 / a data: URI', format: 'binary' })) },
  { additionalProperties: true },
);

type TypeBoxValue = (typeof import('typebox/value'))['Value'];
let value: TypeBoxValue | undefined;

/**
 * TypeBox's run-time checker (`Value`), loaded by the first upload that is checked with it, not at
 * start (it is most of TypeBox: about 0.13 s of CPU). `loadedValue` is it once loaded, for
 * callers that must answer synchronously when they can.
 */
export async function loadValue(): Promise<TypeBoxValue> {
  value ??= (await import('typebox/value')).Value;
  return value;
}

export function loadedValue(): TypeBoxValue | undefined {
  return value;
}

/** The first field of a read upload body that its schema refuses, or null. */
export async function uploadBodyProblem(fields: Record<string, unknown>): Promise<{ field: string; message: string } | null> {
  const Value = await loadValue();
  const first = [...Value.Errors(uploadBodySchema, fields)][0];
  if (!first) return null;
  return { field: first.instancePath.replace(/^\//, '') || 'body', message: first.message };
}

/** `POST /upload/url`: the URL (in `url`, or `source` as the API names it) and the upload parameters. */
export const urlUploadBodySchema = Type.Object(
  { url: Type.Optional(Type.String()), ...uploadParameterProperties },
  { additionalProperties: true },
);

export const NEW_ALBUM_PRIVACIES = ['public', 'private', 'unlisted'] as const;

/** `POST /upload/album`: a new album from the caller's just-uploaded files. */
export const newAlbumBodySchema = Type.Object({
  name: Type.String(),
  description: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  privacy: Type.Optional(Type.Union(NEW_ALBUM_PRIVACIES.map((p) => Type.Literal(p)))),
  ids: Type.Optional(Type.Array(Type.String())),
});

export const newAlbumResponseSchema = Type.Object({
  status_code: Type.Number(),
  album: Type.Object({ id_encoded: Type.String(), name: Type.String(), privacy: Type.String(), url: Type.String() }),
  moved: Type.Number(),
  status_txt: Type.String(),
});

/** Chevereto's error envelope, for routes that declare their error answers. */
export const errorEnvelopeSchema = Type.Object({
  status_code: Type.Number(),
  error: Type.Object({ message: Type.String(), code: Type.Number(), context: Type.String() }, { additionalProperties: true }),
  status_txt: Type.String(),
});

/**
 * A stored upload in Chevereto's shape (`cheveretoUploadResponse`): the envelope is checked field
 * by field; the image object (its fields follow the site's settings, uploads/image-object.ts) is
 * passed through whole.
 */
export const uploadAnswerSchema = Type.Object({
  status_code: Type.Number(),
  success: Type.Object({ message: Type.String(), code: Type.Number() }),
  image: Type.Object({}, { additionalProperties: true }),
  status_txt: Type.String(),
});

// ---- the upload's answer: the image object, and the envelopes around it ----------------------

const Str = Type.String();
const Num = Type.Number();
const Int = Type.Integer();
const NullableStr = Type.Union([Type.String(), Type.Null()]);
const NullableNum = Type.Union([Type.Number(), Type.Null()]);

const FileObject = Type.Object({
  filename: NullableStr,
  name: NullableStr,
  mime: NullableStr,
  extension: NullableStr,
  url: NullableStr,
  size: Type.Optional(Num),
});

const Tag = Type.Object({ name: Str, name_safe_html: Str, url_key: Str, url: Str });

export type ChecksumFields = 'both' | 'md5' | 'checksum';

/**
 * The `image` of the V1 upload answer, field for field and in its key order
 * (buildImageObject in uploads/image-object.ts, shared/reference/FIELDS.md). Every field is
 * required: the serialiser (fast-json-stringify) writes required fields before optional ones,
 * so the checksum fields the site answers with (SHOEBOX_CHECKSUM_FIELDS) are chosen here, not
 * made optional. `url` and `display_url` are null while a file waits for approval.
 */
export function imageObjectSchema(checksumFields: ChecksumFields) {
  const checksums = {
    ...(checksumFields !== 'checksum' ? { md5: NullableStr, source_md5: NullableStr } : {}),
    ...(checksumFields !== 'md5' ? { checksum: NullableStr, source_checksum: NullableStr } : {}),
  };
  return Type.Object(
    {
      name: Str, extension: Str, size: Int, width: Int, height: Int, date: Str, date_gmt: Str, title: NullableStr,
      tags: Type.Array(Tag), description: NullableStr, nsfw: Int, storage_mode: Str,
      ...checksums,
      original_filename: Str, original_exifdata: NullableStr, views: Int, category_id: NullableNum, chain: Int,
      thumb_size: Int, medium_size: Int, frame_size: Int, expiration_date_gmt: NullableStr, likes: Int, is_animated: Int,
      is_approved: Int, is_360: Int, duration: Num, type: Str, tags_string: Str,
      file: Type.Object({ resource: Type.Object({ type: Str }) }),
      id_encoded: Str, filename: Str, mime: Str, url: NullableStr, ratio: Num, size_formatted: Str,
      frame: FileObject, image: FileObject, thumb: FileObject, url_frame: NullableStr, medium: FileObject,
      duration_time: Str, url_viewer: Str, path_viewer: Str, url_short: Str, display_url: NullableStr,
      display_width: Num, display_height: Num, views_label: Str, likes_label: Str, how_long_ago: Str,
      date_fixed_peer: Str, title_truncated: Str, title_truncated_html: Str, is_use_loader: Type.Boolean(),
      display_title: Str, delete_url: NullableStr,
    },
    { $id: 'ImageObject', additionalProperties: false },
  );
}

export const ErrorEnvelope = Type.Object(
  {
    status_code: Type.Integer(),
    error: Type.Object({ message: Type.String(), code: Type.Integer(), context: Type.String() }, { additionalProperties: true }),
    status_txt: Type.String(),
  },
  { $id: 'ErrorEnvelope' },
);

const Success = Type.Object({ message: Type.String(), code: Type.Integer() });

/** The answer in Chevereto's shape (cheveretoUploadResponse in image-object.ts). */
export const UploadAnswer = Type.Object({
  status_code: Type.Literal(200),
  success: Success,
  image: Type.Unsafe<unknown>({ $ref: 'ImageObject#' }),
  status_txt: Type.Literal('OK'),
});

/** imgbb's `data`: the image object with imgbb's `id` first and its `time` and `expiration` last (imgbbUploadResponse). */
export function imgbbImageObjectSchema(checksumFields: ChecksumFields) {
  const image = imageObjectSchema(checksumFields);
  return Type.Object({ id: Type.String(), ...image.properties, time: Type.String(), expiration: Type.String() }, { $id: 'ImgbbImageObject', additionalProperties: false });
}

/** The answer when the file came as `image` (imgbb's name): Chevereto's envelope, `data` and `status`. */
export const ImgbbUploadAnswer = Type.Object({
  status_code: Type.Literal(200),
  success: Success,
  data: Type.Unsafe<unknown>({ $ref: 'ImgbbImageObject#' }),
  status: Type.Literal(200),
  status_txt: Type.Literal('OK'),
});

/** What the V1 route answers a stored upload with, in either shape: its 200 response schema. */
export const V1UploadAnswer = Type.Union([UploadAnswer, ImgbbUploadAnswer]);

/** Statuses the V1 upload answers with the error envelope (the error table's statuses an upload can meet). */
export const V1_ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 415, 429] as const;

/** The schemas referenced by `$id`, added once with `app.addSchema` (the image objects as the site's settings shape them). */
export function uploadSharedSchemasFor(settings: { checksumFields: ChecksumFields }): TSchema[] {
  return [imageObjectSchema(settings.checksumFields), imgbbImageObjectSchema(settings.checksumFields), ErrorEnvelope];
}
