import { Type } from 'typebox';

/**
 * Route schemas (TypeBox, JSON Schema underneath; Fastify validates with them and
 * `@fastify/type-provider-typebox` types the handlers). Validation errors are answered in
 * Chevereto's envelope as `badParameter` naming the field (`uploads/envelope.ts`).
 */

/** Chevereto's upload parameters as strings (Fastify's validator turns JSON numbers and booleans into strings). */
const uploadParameterProperties = {
  key: Type.Optional(Type.String()),
  source: Type.Optional(Type.String()),
  image: Type.Optional(Type.String()),
  format: Type.Optional(Type.String()),
  title: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  tags: Type.Optional(Type.String()),
  album_id: Type.Optional(Type.String()),
  category_id: Type.Optional(Type.String()),
  width: Type.Optional(Type.String()),
  expiration: Type.Optional(Type.String()),
  nsfw: Type.Optional(Type.String()),
  use_file_date: Type.Optional(Type.String()),
};

/**
 * The V1 upload route's query string: everything Chevereto accepts is accepted (unknown
 * fields such as `action` or `type` pass, a repeated field keeps its first value).
 */
const oneOrMany = Type.Union([Type.String(), Type.Array(Type.String())]);
export const uploadQuerySchema = Type.Object(
  Object.fromEntries(Object.keys(uploadParameterProperties).map((name) => [name, Type.Optional(oneOrMany)])),
  { additionalProperties: true },
);

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
