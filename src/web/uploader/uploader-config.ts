import type { AppContext } from '../../context.js';
import { formatBytes } from '../../core/text.js';
import { listAllAlbumsOfUser } from '../../db/repositories/album-edits.js';
import { maxBytesFor, nsfwByDefaultFor } from '../../ingest/ingest-upload.js';
import { acceptedLabel, FORMATS } from '../../media/formats.js';
import { buildEmbedCodes } from '../embed-codes.js';
import type { Visitor } from '../web-kit.js';
import { NEW_ALBUM_PATH, URL_UPLOAD_PATH } from './json-routes.js';
import { RESUMABLE_PATH } from './resumable.js';
import type { ExpirationChoice, PeriodOf, UploaderConfig } from './uploader-config-types.js';
import { uploaderStrings } from './uploader-strings.js';

/** File name extensions browsers give each format (Uppy matches on these or on the MIME type). */
const EXTENSIONS: Record<string, string[]> = {
  jpg: ['.jpg', '.jpeg', '.jpe', '.jfif'], png: ['.png'], gif: ['.gif'], webp: ['.webp'], avif: ['.avif'], bmp: ['.bmp'],
  heic: ['.heic', '.heif'], tiff: ['.tif', '.tiff'], mp4: ['.mp4', '.m4v'], mov: ['.mov', '.qt'], webm: ['.webm'],
};
const EXTRA_MIMES: Record<string, string[]> = { heic: ['image/heif'], bmp: ['image/x-ms-bmp'] };

export function allowedFileTypes(accepted: string[]): string[] {
  const types = new Set<string>();
  for (const name of accepted) {
    for (const ext of EXTENSIONS[name] ?? [`.${name}`]) types.add(ext);
    if (FORMATS[name]) types.add(FORMATS[name].mime);
    for (const mime of EXTRA_MIMES[name] ?? []) types.add(mime);
  }
  return [...types];
}

const UNIT_SECONDS: Record<PeriodOf['unit'], number> = {
  minutes: 60, hours: 3600, days: 86_400, weeks: 604_800, months: 2_592_000, years: 31_536_000,
};

/** Chevereto's auto-delete choices. */
const EXPIRATIONS: ExpirationChoice[] = [
  ['PT5M', 'minutes', 5], ['PT15M', 'minutes', 15], ['PT30M', 'minutes', 30], ['PT1H', 'hours', 1], ['PT3H', 'hours', 3],
  ['PT6H', 'hours', 6], ['PT12H', 'hours', 12], ['P1D', 'days', 1], ['P2D', 'days', 2], ['P3D', 'days', 3], ['P4D', 'days', 4],
  ['P5D', 'days', 5], ['P6D', 'days', 6], ['P1W', 'weeks', 1], ['P2W', 'weeks', 2], ['P3W', 'weeks', 3], ['P1M', 'months', 1],
  ['P2M', 'months', 2], ['P3M', 'months', 3], ['P4M', 'months', 4], ['P5M', 'months', 5], ['P6M', 'months', 6], ['P1Y', 'years', 1],
].map(([value, unit, count]) => ({ value: value as string, unit: unit as PeriodOf['unit'], count: count as number }));

function secondsOf(period: PeriodOf): number {
  return UNIT_SECONDS[period.unit] * period.count;
}

/** A number of seconds in the largest unit that divides it (604800 → 1 week). */
export function periodOf(seconds: number): PeriodOf {
  const units = Object.entries(UNIT_SECONDS).reverse() as [PeriodOf['unit'], number][];
  for (const [unit, size] of units) if (seconds >= size && seconds % size === 0) return { unit, count: seconds / size };
  return { unit: 'minutes', count: Math.max(1, Math.round(seconds / 60)) };
}

function embedLabels(visitor: Visitor) {
  const sample = { filename: 'x', url: 'x', url_viewer: 'x', mediumUrl: 'x', thumbUrl: 'x', frameUrl: 'x', width: 1, height: 1, mime: 'x' };
  const codes: Record<string, string> = {};
  const groups: Record<string, string> = {};
  for (const type of ['image', 'video']) {
    for (const group of buildEmbedCodes({ ...sample, type })) {
      groups[group.id] = visitor.t(`embed.group.${group.id}`);
      for (const code of group.codes) codes[code.id] = visitor.t(`embed.code.${code.id}`);
    }
  }
  return { codes, groups };
}

export async function buildUploaderConfig(ctx: AppContext, visitor: Visitor): Promise<UploaderConfig> {
  const { settings, urls } = ctx;
  const base = urls.basePath;
  const strings = uploaderStrings(visitor.lang);
  const maxFileSize = maxBytesFor(settings, { user: visitor.user, ip: '' });
  const limitsTemplate = typeof strings.limits === 'string' ? strings.limits : '{{types}} max {{size}}';
  const albums = visitor.user ? await listAllAlbumsOfUser(ctx.db, visitor.user.id) : [];
  const guestExpiry = settings.guestExpirationSeconds > 0 ? settings.guestExpirationSeconds : 0;
  return {
    canUpload: true,
    lang: visitor.lang,
    strings,
    endpoints: { tus: `${base}${RESUMABLE_PATH}`, url: `${base}${URL_UPLOAD_PATH}`, album: `${base}${NEW_ALBUM_PATH}` },
    chunkSize: settings.chunkSizeBytes,
    maxFileSize,
    allowedFileTypes: allowedFileTypes(settings.acceptedExtensions),
    limitsLabel: limitsTemplate
      .replace('{{types}}', acceptedLabel(settings.acceptedExtensions))
      // The API's wording of sizes ("100 MB"), so the limit reads the same as its error message.
      .replace('{{size}}', formatBytes(maxFileSize)),
    typesLabel: acceptedLabel(settings.acceptedExtensions),
    urlUploads: settings.urlUploads,
    nsfwDefault: nsfwByDefaultFor(settings, { user: visitor.user }),
    user: visitor.user
      ? { username: visitor.user.username, albums: albums.map((a) => ({ id: ctx.ids.encode(a.id), name: a.name, url: urls.albumUrl(a.id) })) }
      : null,
    guest: visitor.user
      ? null
      : {
          expiration: guestExpiry ? periodOf(guestExpiry) : null,
          signupUrl: settings.signup === 'closed' ? null : `${base}/signup`,
          loginUrl: `${base}/login?next=${encodeURIComponent(`${base}/upload`)}`,
        },
    expirations: EXPIRATIONS.filter((e) => settings.maxExpirationSeconds <= 0 || secondsOf(e) <= settings.maxExpirationSeconds),
    embed: embedLabels(visitor),
  };
}
