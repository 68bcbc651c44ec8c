import { formatBytes } from './text.js';

export { formatBytes } from './text.js';

/**
 * THE table of errors. Every error Shoebox answers with is declared here once, under a stable
 * name, with its HTTP status and its Chevereto error number (`code`, the number clients branch
 * on: shared/reference/API-V1.md). Code anywhere raises one with `errors.<name>(…)`; nothing
 * builds a status/number pair of its own. The envelope (`uploads/envelope.ts`) and the pages
 * answer with `httpStatus`; the API envelope carries `code`.
 *
 * Chevereto's numbers are kept where Chevereto has one (100 for keys, 101 duplicate, 110/120
 * for the route, 130 empty source and flooding, 400 too big, 610 unreadable, 613 format);
 * Shoebox's own errors use their HTTP status as their number, as before. Several names may
 * share a number (every "who are you" refusal is Chevereto's 100): the name tells them apart.
 *
 * `message` is the text, or a function of the arguments the error is raised with; `details`
 * (optional) is extra data the error carries to the client, e.g. the existing file of a duplicate;
 * `page` (optional) is the key of its translated text on the dashboard's pages
 * (`dashboard.error.<page>` in locales/<lang>/translation.dashboard.json): the pages show that,
 * the API and the CLI the message.
 */
/** Which limit a text passed: `characters` (max characters), `tags` (max tags), `tagCharacters` (tags of at most max characters each). */
export interface TextLimitBreach {
  unit: 'characters' | 'tags' | 'tagCharacters';
  max: number;
  /** For `tagCharacters`: how many tags are allowed. */
  tags?: number;
}

function describeBreach(limit: TextLimitBreach): string {
  if (limit.unit === 'tags') return `at most ${limit.max} tags`;
  if (limit.unit === 'tagCharacters') return `at most ${limit.tags} tags of at most ${limit.max} characters`;
  return `at most ${limit.max} characters`;
}

interface ErrorSpec {
  status: number;
  code: number;
  message: string | ((...args: never[]) => string);
  details?: (...args: never[]) => Record<string, unknown> | undefined;
  page?: string;
}

const declare = <T extends Record<string, ErrorSpec>>(table: T): T => table;

export const ERROR_TABLE = declare({
  // Who is uploading (Chevereto 100).
  noKey: { status: 401, code: 100, message: 'No key provided' },
  invalidKey: { status: 401, code: 100, message: 'Invalid API key.' },
  guestsDisabled: { status: 401, code: 100, message: 'No key provided' },
  signInToUpload: { status: 401, code: 100, message: 'Sign in to upload' },
  signInToCreateAlbums: { status: 401, code: 100, message: 'Sign in to create albums' },
  uploadOwnerUnknown: { status: 401, code: 100, message: 'This upload has no owner' },
  uploadOwnerGone: { status: 401, code: 100, message: 'The account that started this upload no longer exists' },
  // The API's routes.
  invalidVersion: { status: 404, code: 110, message: 'Invalid API version.' },
  invalidAction: { status: 404, code: 120, message: 'Invalid API action' },
  // The source.
  emptySource: { status: 400, code: 130, message: 'Empty upload source' },
  invalidBase64: { status: 400, code: 120, message: 'Invalid base64 string' },
  duplicate: { status: 409, code: 101, message: 'Duplicated upload', details: (details: Record<string, unknown>) => details },
  unreadable: {
    status: 400,
    code: 610,
    message: "Can't get target upload source info",
    details: (why?: string) => (why ? { reason: why } : undefined),
  },
  unavailableFormat: {
    status: 415,
    code: 613,
    message: 'Unavailable image format',
    details: (accepted: string[]) => ({ accepted: accepted.join(',') }),
  },
  videoUnavailable: { status: 415, code: 613, message: (binary: string) => `Video is not available on this site (no ${binary})` },
  urlRefused: { status: 400, code: 610, message: (why: string) => `Can't fetch the source URL: ${why}` },
  urlUploadsDisabled: { status: 403, code: 403, message: 'Uploading by URL is disabled on this site' },
  malformedMultipart: { status: 400, code: 400, message: (why: string) => `Malformed multipart body: ${why}` },
  jsonBodyRequired: { status: 415, code: 400, message: 'Send a JSON body (Content-Type: application/json)' },
  // Limits (Chevereto 400 for sizes).
  tooBig: { status: 413, code: 400, message: (maxBytes: number) => `File too big - max ${formatBytes(maxBytes)}` },
  bodyTooLarge: { status: 413, code: 400, message: 'File too big' },
  // A form or JSON body over SHOEBOX_FORM_BODY_LIMIT (routes that take no file).
  requestTooLarge: { status: 413, code: 400, message: 'Request body too large' },
  tooManyPixels: {
    status: 413,
    code: 400,
    message: (maxPixels: number) => `Image too large - max ${maxPixels.toLocaleString('en-US')} pixels`,
  },
  tooManyFrames: { status: 413, code: 400, message: (maxFrames: number) => `Too many animation frames - max ${maxFrames}` },
  animationTooLarge: {
    status: 413,
    code: 400,
    message: (maxPixels: number) => `Animation too large - max ${maxPixels.toLocaleString('en-US')} pixels in all frames`,
  },
  videoTooLong: { status: 413, code: 400, message: (maxSeconds: number) => `Video too long - max ${maxSeconds} seconds` },
  widthTooBig: { status: 400, code: 610, message: 'Target width is greater than the original image width' },
  tooManyUnfinished: { status: 429, code: 130, message: (why: string) => `Too many unfinished uploads: ${why}` },
  flooding: {
    status: 429,
    code: 130,
    message: (limit: number, period: string = 'minute') => `Flooding detected. You can only upload ${limit} images per ${period}`,
  },
  // Moderation (docs/MODERATION.md).
  banned: {
    status: 403,
    code: 403,
    message: (note?: string | null) => `Your address is banned from uploading or posting to this site${note ? `: ${note}` : ''}`,
  },
  blocklisted: { status: 403, code: 403, message: (reason: string) => `This file was removed from this site and can't be uploaded again (${reason})` },
  /** A stop word (docs/MODERATION.md) in a text; the edit services name the field (`title`, `tags`, `name`, `username`...), an upload's check does not. */
  stopWord: {
    status: 400,
    code: 400,
    message: (field?: string) => (field ? `Invalid ${field}: this text contains a word that is not allowed on this site` : 'This text contains a word that is not allowed on this site'),
    details: (field?: string) => (field ? { field } : {}),
  },
  notABlocklist: { status: 400, code: 400, message: (why: string) => `Not a Shoebox blocklist: ${why}` },
  // Categories (docs/MODERATION.md): category_id of an upload or an edit names none of the site's.
  unknownCategory: { status: 400, code: 400, message: (id: number | string) => `Invalid category_id: there is no category ${id}` },
  // Parameters and requests.
  badParameter: { status: 400, code: 400, message: (name: string, why: string) => `Invalid ${name}: ${why}` },
  /** A text over its limit (core/text-limits.ts); `details` name the field and the limit, for pages to say it in the visitor's language. */
  textTooLong: {
    status: 400,
    code: 400,
    message: (field: string, limit: TextLimitBreach) => `Invalid ${field}: ${describeBreach(limit)}`,
    details: (field: string, limit: TextLimitBreach) => ({ field, ...limit }),
  },
  badRequest: { status: 400, code: 400, message: (why: string = 'Bad request') => why },
  forbidden: { status: 403, code: 403, message: (why: string) => why },
  missingScope: { status: 403, code: 403, message: (scope: string) => `This API key lacks the "${scope}" scope` },
  crossSite: { status: 403, code: 403, message: 'Cross-site upload refused' },
  notFound: { status: 404, code: 404, message: (what: string = 'Not found') => what },
  methodNotAllowed: { status: 405, code: 405, message: 'Method not allowed' },
  unsupportedMediaType: { status: 415, code: 415, message: (why: string = 'Unsupported media type') => why },
  // Accounts.
  invalidUsername: { status: 400, code: 400, message: 'Username must be 2-32 letters, digits, dots, dashes or underscores' },
  passwordTooShort: { status: 400, code: 400, message: 'Password must have at least 6 characters' },
  usernameTaken: { status: 409, code: 409, message: (username: string) => `User ${username} already exists` },
  noSuchUser: { status: 404, code: 404, message: (username: string) => `No user named ${username}` },
  // Administration: the dashboard, the CLI and the management API (admin/). The dashboard shows `page`'s text.
  notAllowed: { status: 403, code: 403, message: "Only an admin may change an admin's account", page: 'not-allowed' },
  badRole: { status: 400, code: 400, message: (role: string) => `Role must be admin, manager or user, not "${role}"`, page: 'bad-role' },
  lastAdmin: { status: 409, code: 409, message: (username: string, what: string) => `${username} is the only admin; ${what}`, page: 'last-admin' },
  ownAccount: { status: 400, code: 400, message: 'You cannot do this to your own account', page: 'self' },
  confirmRequired: { status: 400, code: 400, message: 'Tick the box to confirm', page: 'confirm' },
  adminPasswordTooShort: { status: 400, code: 400, message: (min: number) => `The password needs at least ${min} characters`, page: 'password-too-short' },
  passwordMismatch: { status: 400, code: 400, message: 'The passwords differ', page: 'password-mismatch' },
  noMail: { status: 409, code: 409, message: 'This site sends no email', page: 'no-mail' },
  noEmail: { status: 409, code: 409, message: 'This account has no email address', page: 'no-email' },
  unknownSetting: { status: 400, code: 400, message: (env: string) => `${env} cannot be changed here`, page: 'unknown-setting' },
  settingLocked: { status: 409, code: 409, message: (env: string, where: string) => `${env} is set in the ${where} and cannot be changed here`, page: 'locked' },
  invalidSetting: { status: 400, code: 400, message: (why: string) => why, page: 'invalid' },
  noAssetFile: { status: 400, code: 400, message: 'Choose a file', page: 'no-file' },
  // Categories (admin/categories.ts).
  badCategoryName: { status: 400, code: 400, message: (max: number) => `A category needs a name of 1 to ${max} characters`, page: 'category-name' },
  badCategorySlug: { status: 400, code: 400, message: 'A category\'s URL key may have lower-case letters, digits and inner hyphens, up to 64', page: 'category-slug' },
  categoryDescriptionTooLong: { status: 400, code: 400, message: (max: number) => `A category's description has at most ${max} characters`, page: 'category-description' },
  categorySlugTaken: { status: 409, code: 409, message: (slug: string) => `Another category has the URL key ${slug}`, page: 'category-slug-taken' },
  noSuchCategory: { status: 404, code: 404, message: (id: number) => `No category ${id}`, page: 'category-not-found' },
  assetTooBig: { status: 400, code: 400, message: (maxBytes: number) => `At most ${maxBytes / 1024} KiB`, page: 'asset-too-big' },
  assetType: { status: 400, code: 400, message: 'PNG, JPEG, GIF, WebP or ICO only', page: 'asset-type' },
  // Command line.
  commandRefused: { status: 400, code: 400, message: (why: string) => why },
  // The server's side.
  outOfSpace: { status: 507, code: 507, message: 'The server is out of disk space' },
  stillProcessing: { status: 503, code: 503, message: 'This upload is still being processed; ask for its result again in a moment' },
  internal: { status: 500, code: 500, message: 'Internal error while processing the upload' },
});

export type ErrorName = keyof typeof ERROR_TABLE;

/** An error from the table: its stable name, HTTP status, Chevereto number and message. */
export class ShoeboxError extends Error {
  readonly code: number;
  readonly httpStatus: number;

  constructor(
    /** The error's stable name in ERROR_TABLE. */
    readonly errorName: ErrorName,
    message: string,
    /** Extra data an error carries to the client, e.g. the existing file of a duplicate. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ShoeboxError';
    this.code = ERROR_TABLE[errorName].code;
    this.httpStatus = ERROR_TABLE[errorName].status;
  }
}

type ArgsOf<S> = S extends { message: (...args: infer A) => string }
  ? A
  : S extends { details: (...args: infer A) => unknown }
    ? A
    : [];

type Raisers = { [K in ErrorName]: (...args: ArgsOf<(typeof ERROR_TABLE)[K]>) => ShoeboxError };

/** `errors.tooBig(limit)`: the one way to make an error of the table. */
export const errors = Object.fromEntries(
  Object.entries(ERROR_TABLE).map(([name, spec]) => {
    const s = spec as ErrorSpec;
    const raise = (...args: never[]) => {
      const message = typeof s.message === 'function' ? s.message(...args) : s.message;
      return new ShoeboxError(name as ErrorName, message, s.details?.(...args));
    };
    return [name, raise];
  }),
) as Raisers;

/** The key of an error's text on the dashboard's pages (`dashboard.error.<key>`), or undefined when it has none. */
export function pageKeyOf(error: unknown): string | undefined {
  return error instanceof ShoeboxError ? (ERROR_TABLE[error.errorName] as ErrorSpec).page : undefined;
}

/** Is this error the one of that name? */
export function isError(error: unknown, name: ErrorName): error is ShoeboxError {
  return error instanceof ShoeboxError && error.errorName === name;
}
