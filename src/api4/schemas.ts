import { Type, type TSchema } from 'typebox';
import { uploadSharedSchemasFor, type ChecksumFields } from '../uploads/schemas.js';

/**
 * Request and response schemas of the management API (and the V1 upload answer): Fastify
 * validates requests and serialises answers with them, and @fastify/swagger builds
 * /api/openapi.json from the same objects, so the description cannot drift from the code.
 */

const Str = Type.String();
const Num = Type.Number();
const Int = Type.Integer();
const NullableStr = Type.Union([Type.String(), Type.Null()]);
const NullableNum = Type.Union([Type.Number(), Type.Null()]);

export const AlbumPrivacy = Type.Union([Type.Literal('public'), Type.Literal('private'), Type.Literal('unlisted'), Type.Literal('password')]);

export const AlbumObject = Type.Object(
  {
    id_encoded: Str, name: Str, description: NullableStr, privacy: AlbumPrivacy,
    parent_id_encoded: NullableStr, cover_id_encoded: NullableStr, date_gmt: Str, url: Str,
    image_count: Type.Optional(Int),
  },
  { $id: 'AlbumObject', additionalProperties: false },
);

const Success = Type.Object({ message: Str, code: Int });

function answer<T extends Record<string, TSchema>>(fields: T) {
  return Type.Object({ status_code: Type.Literal(200), success: Success, ...fields, status_txt: Type.Literal('OK') });
}

const ImageRef = Type.Unsafe<unknown>({ $ref: 'ImageObject#' });
const AlbumRef = Type.Unsafe<unknown>({ $ref: 'AlbumObject#' });
const ErrorRef = Type.Unsafe<unknown>({ $ref: 'ErrorEnvelope#' });

export const ImageAnswer = answer({ image: ImageRef });
export const AlbumAnswer = answer({ album: AlbumRef });
export const ImageListAnswer = answer({ images: Type.Array(ImageRef), next_cursor: NullableStr });
export const AlbumListAnswer = answer({ albums: Type.Array(AlbumRef), next_cursor: NullableStr });
export const DeletedAnswer = answer({ deleted: Type.Array(Str) });
export const BulkAnswer = answer({ updated: Type.Array(Str), deleted: Type.Array(Str), not_found: Type.Array(Str) });

export const UserObject = Type.Object({
  id_encoded: Str, username: Str, email: NullableStr, is_admin: Type.Boolean(), disabled: Type.Boolean(), date_gmt: Str,
});
export const UserAnswer = answer({ user: UserObject });
export const UserListAnswer = answer({ users: Type.Array(UserObject), next_cursor: NullableStr });
export const AccountAnswer = answer({
  user: UserObject,
  key: Type.Object({ label: Str, scopes: Type.Array(Str) }),
  limits: Type.Object({ max_upload_bytes: Int, uploads_per_minute: Type.Union([Int, Type.Null()]) }),
  usage: Type.Object({ images: Int, bytes: Int, albums: Int }),
});

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });

/**
 * A yes/no input: true/false or 1/0 alike, in a query string and in a JSON body (the API's
 * objects answer flags as 0/1, so they go back as they came). `isOn` reads it.
 */
const Flag = Type.Union([Type.Boolean(), Type.Literal(0), Type.Literal(1)], { description: 'true/false or 1/0' });
export type FlagValue = boolean | 0 | 1;
export const isOn = (value: FlagValue): boolean => value === true || value === 1;

const Limit = Type.Integer({ minimum: 1, maximum: 100, default: 50 });
const Cursor = Type.String({ minLength: 1, maxLength: 64, description: 'next_cursor of the previous page' });
const DateText = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}( \\d{2}:\\d{2}:\\d{2})?$', description: 'YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, UTC' });

export const ImageListQuery = Type.Object(
  {
    limit: Type.Optional(Limit),
    cursor: Type.Optional(Cursor),
    album: Type.Optional(Type.String({ maxLength: 64, description: 'an album id_encoded, or "none" for files in no album' })),
    type: Type.Optional(Type.Union([Type.Literal('image'), Type.Literal('video')])),
    nsfw: Type.Optional(Flag),
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'text in the title' })),
    from: Type.Optional(DateText),
    to: Type.Optional(DateText),
  },
  { additionalProperties: false },
);

export const PageQuery = Type.Object({ limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) }, { additionalProperties: false });

export const ImagePatch = Type.Object(
  {
    title: Type.Optional(Type.Union([Type.String({ maxLength: 100 }), Type.Null()])),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
    tags: Type.Optional(Type.Union([Type.Array(Type.String({ maxLength: 100 }), { maxItems: 100 }), Type.String({ maxLength: 5000 })])),
    nsfw: Type.Optional(Flag),
    album_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    expiration: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 40, description: 'as V1: PT5M, P1D… or a date' }), Type.Null()])),
    category_id: Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[1-9][0-9]{0,14}$' })], { description: "one of the site's categories (unknown: 400), or null for none" })),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const BulkPatch = Type.Object(
  {
    ids: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 500 }),
    action: Type.Optional(Type.Union([Type.Literal('update'), Type.Literal('delete')], { default: 'update' })),
    changes: Type.Optional(ImagePatch),
  },
  { additionalProperties: false },
);

export const AlbumCreate = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
    privacy: Type.Optional(AlbumPrivacy),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    parent_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
  },
  { additionalProperties: false },
);

export const AlbumPatch = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    description: Type.Optional(Type.Union([Type.String({ maxLength: 5000 }), Type.Null()])),
    privacy: Type.Optional(AlbumPrivacy),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
    parent_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    cover_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const AlbumDeleteQuery = Type.Object(
  { files: Type.Optional(Type.Union([Type.Literal('keep'), Type.Literal('delete')], { default: 'keep', description: 'keep: files move out of the album; delete: files are deleted' })) },
  { additionalProperties: false },
);

export const UserCreate = Type.Object(
  {
    username: Type.String({ minLength: 2, maxLength: 32, pattern: '^[a-zA-Z0-9_][a-zA-Z0-9_.-]{1,31}$' }),
    password: Type.String({ minLength: 8, maxLength: 1024 }),
    email: Type.Optional(Type.Union([Type.String({ maxLength: 200, format: 'email' }), Type.Null()])),
    is_admin: Type.Optional(Flag),
  },
  { additionalProperties: false },
);

export const UserDeleteQuery = Type.Object(
  { files: Type.Optional(Type.Union([Type.Literal('keep'), Type.Literal('delete')], { default: 'delete', description: 'delete (default): the files go too; keep: they stay as guest files' })) },
  { additionalProperties: false },
);

export const UserPatch = Type.Object({ disabled: Flag }, { additionalProperties: false });

/** Standard error answers for a route's `response`. */
export function errorAnswers(...statuses: number[]) {
  return Object.fromEntries(statuses.map((status) => [status, ErrorRef]));
}

/** The shared schemas, added once with `app.addSchema` (referenced by `$id`); the image object as the site's settings shape it. */
export function sharedSchemasFor(settings: { checksumFields: ChecksumFields }): TSchema[] {
  return [...uploadSharedSchemasFor(settings), AlbumObject];
}

/** The V1 upload's answer (uploads/schemas.ts): `POST images/` answers it too. */
export { UploadAnswer, ErrorEnvelope, imageObjectSchema, type ChecksumFields } from '../uploads/schemas.js';

// ---- admin: moderation (approval queue, takedowns, IP bans) ------------------------------

const IdList = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 500, description: 'file ids (id_encoded)' });

export const ApproveBody = Type.Object({ ids: IdList }, { additionalProperties: false });
export const TakedownBody = Type.Object(
  { ids: IdList, reason: Type.Optional(Type.String({ maxLength: 500, description: 'kept on the blocklist and in the audit log' })) },
  { additionalProperties: false },
);
export const QueueQuery = Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }, { additionalProperties: false });

export const ApproveAnswer = answer({ approved: Type.Array(Str), not_waiting: Type.Array(Str), not_found: Type.Array(Str) });
export const TakedownAnswer = answer({ removed: Type.Array(Str), not_found: Type.Array(Str) });
export const QueueAnswer = answer({ images: Type.Array(ImageRef), total: Int });

export const BanObject = Type.Object(
  { range: Str, message: NullableStr, expires_at: NullableStr, created_at: Str, created_by: NullableStr },
  { additionalProperties: false },
);
export const BanAnswer = answer({ ban: BanObject });
export const BanListAnswer = answer({ bans: Type.Array(BanObject) });
export const BanCreate = Type.Object(
  {
    ip: Type.String({ minLength: 1, maxLength: 64, description: 'an IPv4/IPv6 address or CIDR range' }),
    message: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()])),
    expires: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 20, description: 'how long: 30m, 12h, 7d, 2w, 3mo, 1y; omitted or null: no end' }), Type.Null()])),
  },
  { additionalProperties: false },
);
export const BanPatch = Type.Object(
  {
    message: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Null()], { description: 'the text a banned client is shown; null: none' })),
    expires: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 20, description: 'a new end, from now: 30m, 12h, 7d, 2w, 3mo, 1y' }), Type.Null()], { description: 'null: no end' })),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const BanParams = Type.Object({ ip: Type.String({ minLength: 1, maxLength: 64, description: 'the banned address or range (URL-encode the / of a range)' }) });
