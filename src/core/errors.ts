/**
 * Errors are values with a code. `code` is the Chevereto error code clients branch on
 * (API-V1.md), `httpStatus` the status the API and the web answer with.
 */
export class ShoeboxError extends Error {
  constructor(
    readonly code: number,
    readonly httpStatus: number,
    message: string,
    /** Extra data an error carries to the client, e.g. the existing file of a duplicate. */
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ShoeboxError';
  }
}

export const errors = {
  noKey: () => new ShoeboxError(100, 401, 'No key provided'),
  invalidKey: () => new ShoeboxError(100, 401, 'Invalid API key.'),
  invalidVersion: () => new ShoeboxError(110, 404, 'Invalid API version.'),
  invalidAction: () => new ShoeboxError(120, 404, 'Invalid API action'),
  emptySource: () => new ShoeboxError(130, 400, 'Empty upload source'),
  invalidBase64: () => new ShoeboxError(120, 400, 'Invalid base64 string'),
  duplicate: (details: Record<string, unknown>) => new ShoeboxError(101, 409, 'Duplicated upload', details),
  unreadable: (why?: string) =>
    new ShoeboxError(610, 400, "Can't get target upload source info", why ? { reason: why } : undefined),
  unavailableFormat: (accepted: string[]) =>
    new ShoeboxError(613, 415, 'Unavailable image format', { accepted: accepted.join(',') }),
  tooBig: (maxBytes: number) => new ShoeboxError(400, 413, `File too big - max ${formatBytes(maxBytes)}`),
  tooManyPixels: (maxPixels: number) =>
    new ShoeboxError(400, 413, `Image too large - max ${maxPixels.toLocaleString('en-US')} pixels`),
  widthTooBig: () => new ShoeboxError(610, 400, 'Target width is greater than the original image width'),
  flooding: (perMinute: number) =>
    new ShoeboxError(130, 429, `Flooding detected. You can only upload ${perMinute} images per minute`),
  badParameter: (name: string, why: string) => new ShoeboxError(400, 400, `Invalid ${name}: ${why}`),
  forbidden: (message: string) => new ShoeboxError(403, 403, message),
  notFound: (message = 'Not found') => new ShoeboxError(404, 404, message),
  urlRefused: (why: string) => new ShoeboxError(610, 400, `Can't fetch the source URL: ${why}`),
  urlUploadsDisabled: () => new ShoeboxError(403, 403, 'Uploading by URL is disabled on this site'),
  busy: (message: string) => new ShoeboxError(503, 503, message),
  guestsDisabled: () => new ShoeboxError(100, 401, 'No key provided'),
};

/** Chevereto's format_bytes: decimal units, "N B" under 1000, else one decimal, trailing .0 dropped. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const rounded = Math.round(value * 10) / 10;
  return `${rounded} ${units[unit]}`;
}
