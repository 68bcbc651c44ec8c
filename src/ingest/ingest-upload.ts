import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Settings } from '../config/settings.js';
import { formatUtc } from '../core/dates.js';
import { errors, ShoeboxError } from '../core/errors.js';
import type { AlbumRow, Database, ImageRow, NewImageRow, UserRow } from '../db/schema.js';
import { claimFileName, findDuplicate, insertImageWithTags, NameClaimLostError, refreshFileNameClaim, releaseFileName, type TagRow } from '../db/repositories/images.js';
import type { MediaBinaries } from '../media/binaries.js';
import { dateTakenToUtc, type DateTaken } from '../media/date-taken.js';
import { md5OfFile } from '../media/file-md5.js';
import { storedExtensionOf, type MediaFormat } from '../media/formats.js';
import type { RenderedFile } from '../media/image.js';
import { prepareImage } from '../media/prepare-image.js';
import { prepareVideo } from '../media/prepare-video.js';
import { sniffFile } from '../media/sniff.js';
import type { UploadModeration } from '../moderation/moderation.js';
import { dateFolder, objectKey, type FileIdentity, type FileRole } from '../storage/object-keys.js';
import { chainOf } from '../storage/image-files.js';
import type { Storage } from '../storage/storage.js';
import { storedNameFor, titleFromFilename, truncateTitle, withRandomSuffix } from './naming.js';
import { materializeSource, type MaterializedSource, type UploadSource } from './upload-source.js';
import { removeQuietly, SPOOL_FILE_NAME } from './spool.js';
import { makeWorkDir } from './work-dir.js';
import { reportUploadFinished } from './upload-events.js';
import { reportChange } from './change-events.js';

export interface IngestServices {
  settings: Settings;
  db: Kysely<Database>;
  storage: Storage;
  binaries: MediaBinaries;
  /** Bans, flood limits, stop words, approval and the takedown blocklist. */
  moderation: UploadModeration;
}

export interface Uploader {
  user: UserRow | null;
  ip: string;
}

export interface UploadOptions {
  title?: string | null;
  description?: string | null;
  tags?: string[];
  albumId?: number | null;
  categoryId?: number | null;
  width?: number;
  expiration?: string;
  nsfw?: boolean;
  useFileDate?: boolean;
}

/**
 * An upload the rules let in (`admitUpload`, uploads/upload-rules.ts: parameters, size, expiry,
 * album, moderation before any byte): the pipeline takes these as decided.
 */
export interface Admission {
  options: UploadOptions;
  /** The album it goes into (the uploader's own), or null. */
  album: AlbumRow | null;
  /** Waits for approval (moderation). */
  hold: boolean;
  /** When it expires (the asked expiration, capped for guests), or null. */
  expiresAt: Date | null;
}

export interface IngestedImage {
  image: ImageRow;
  tags: TagRow[];
  /** Plain delete secret: returned once, stored only as a hash. */
  deleteSecret: string;
}

/** A file about to be stored, by role. */
interface PreparedFile {
  role: FileRole;
  file: RenderedFile;
  mime: string;
}

interface Analysis {
  format: MediaFormat;
  width: number;
  height: number;
  isAnimated: boolean;
  duration: number;
  files: PreparedFile[];
  storedExtension: string;
  derivativeExtension: string;
  main: RenderedFile & { rewritten: boolean };
  /** From the file's own metadata (EXIF/XMP/IPTC, or the video container's tags). */
  title: string | null;
  description: string | null;
  dateTaken: DateTaken | null;
  /** `original_exifdata`: JSON text of the EXIF the stored file carries, or null. */
  exifJson: string | null;
  is360: boolean;
  /** Perceptual hash of the picture (a video's frame), or null. */
  phash: string | null;
}

const MAX_TAGS = 30;
const MAX_TAG_LENGTH = 50;

export function parseTags(text: string | undefined | null): string[] {
  if (!text) return [];
  const seen = new Set<string>();
  for (const raw of text.split(',')) {
    const tag = raw.trim().replace(/\s+/g, ' ').slice(0, MAX_TAG_LENGTH);
    if (tag && ![...seen].some((t) => t.toLowerCase() === tag.toLowerCase())) seen.add(tag);
    if (seen.size >= MAX_TAGS) break;
  }
  return [...seen];
}

export function hashDeleteSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Whether an upload that does not say is marked NSFW (SHOEBOX_NSFW_BY_DEFAULT), for this uploader. */
export function nsfwByDefaultFor(settings: Pick<Settings, 'nsfwByDefault'>, uploader: Pick<Uploader, 'user'>): boolean {
  return settings.nsfwByDefault === 'everyone' || (settings.nsfwByDefault === 'guests' && !uploader.user);
}

/** Size limit that applies to this uploader (guests may have a smaller one). */
export function maxBytesFor(settings: Settings, uploader: Uploader): number {
  return uploader.user ? settings.maxUploadBytes : Math.min(settings.maxUploadBytes, settings.guestMaxUploadBytes);
}

async function analyze(services: IngestServices, source: MaterializedSource, options: UploadOptions, workDir: string): Promise<Analysis> {
  const { settings } = services;
  const sniffed = await sniffFile(source.path);
  if (!sniffed) throw errors.unreadable('not an image or video');
  const format = sniffed.format;
  if (!settings.acceptedExtensions.includes(format.name)) throw errors.unavailableFormat(settings.acceptedExtensions);

  if (format.type === 'video') {
    const video = await prepareVideo(source.path, workDir, services.binaries, settings);
    const { probe, frame, thumb } = video;
    const main = { path: source.path, size: source.size, width: probe.width, height: probe.height, rewritten: false };
    return {
      format, width: probe.width, height: probe.height, isAnimated: false, duration: probe.duration,
      storedExtension: storedExtensionOf(format, source.originalFilename), derivativeExtension: 'jpeg', main,
      files: [
        { role: 'image', file: main, mime: format.mime },
        { role: 'frame', file: frame, mime: 'image/jpeg' },
        { role: 'thumb', file: thumb, mime: 'image/jpeg' },
      ],
      title: probe.title, description: probe.description, dateTaken: probe.createdAt, exifJson: null, is360: false,
      phash: video.phash,
    };
  }

  const image = await prepareImage(
    { file: source.path, format, originalFilename: source.originalFilename, workDir, width: options.width },
    settings,
  );
  const files: PreparedFile[] = [
    { role: 'image', file: image.main, mime: image.mime },
    { role: 'thumb', file: image.thumb, mime: image.mime },
  ];
  if (image.medium) files.push({ role: 'medium', file: image.medium, mime: image.mime });
  const { metadata } = image;
  return {
    format, width: image.width, height: image.height,
    isAnimated: image.isAnimated || sniffed.animatedPng, duration: 0,
    storedExtension: image.storedExtension, derivativeExtension: image.storedExtension, main: image.main, files,
    title: metadata.title, description: metadata.description, dateTaken: metadata.dateTaken,
    exifJson: metadata.exif && Object.keys(metadata.exif).length > 0 ? JSON.stringify(metadata.exif) : null,
    is360: metadata.isPanorama,
    phash: image.phash,
  };
}

/** Claims a free name in the folder: the cleaned filename, or that name with a random suffix. */
async function claimName(db: Kysely<Database>, folder: string, wanted: string): Promise<string> {
  let candidate = wanted;
  for (let attempt = 0; attempt < 8; attempt++) {
    if (await claimFileName(db, folder, candidate)) return candidate;
    candidate = withRandomSuffix(wanted);
  }
  throw new Error(`could not find a free name for ${wanted} in ${folder}`);
}

/**
 * The one ingest pipeline: every door reaches it through `runUpload` (uploads/run-upload.ts),
 * after the rules that need no bytes (`admitUpload`, uploads/upload-rules.ts) let the upload in.
 * Order: spool (hash + size cap) → sniff →
 * probe → derive → claim a name → move files into storage → one transaction inserts the row.
 * Any failure removes every file it stored and the name it claimed; temp files always go.
 */
async function ingestUploadSteps(
  services: IngestServices,
  source: UploadSource,
  uploader: Uploader,
  admission: Admission,
): Promise<IngestedImage> {
  const { settings, db, storage } = services;
  const { options, album, hold, expiresAt } = admission;
  const now = new Date();

  // A file the door spooled lies alone in a folder the door made for this request
  // (uploads/upload-body.ts): the pipeline works in that folder rather than make another and
  // move the file; the door's own removal of it afterwards finds nothing left.
  const workDir = source.kind === 'spooled' && path.basename(source.file.path) === SPOOL_FILE_NAME
    ? path.dirname(source.file.path)
    : await makeWorkDir(settings.dataDir, 'ingest-');
  const storedKeys: string[] = [];
  let claimed: { folder: string; name: string } | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  try {
    const materialized = await materializeSource(source, workDir, {
      maxBytes: maxBytesFor(settings, uploader),
      urlUploads: settings.urlUploads,
      allowPrivateUrls: settings.allowPrivateUrls,
      urlFetchTimeoutMs: settings.urlFetchTimeoutMs,
    });
    if (materialized.size === 0) throw errors.emptySource();

    if (settings.refuseDuplicates) {
      const existing = await findDuplicate(db, uploader.user?.id ?? null, materialized.md5);
      if (existing) throw errors.duplicate({ existingImage: existing });
    }

    const analysis = await analyze(services, materialized, options, workDir);
    const folder = dateFolder(now);
    const name = await claimName(db, folder, storedNameFor(materialized.originalFilename));
    claimed = { folder, name };
    let claimSeenAt = performance.now();
    // While a single big file is still on its way to storage, the claim stays fresh too.
    heartbeat = setInterval(() => void refreshFileNameClaim(db, folder, name).catch(() => undefined), (settings.uploadClaimTimeoutSeconds * 1000) / 3);
    heartbeat.unref();
    const identity: FileIdentity = {
      folder, name, extension: analysis.storedExtension, derivative_extension: analysis.derivativeExtension,
    };

    const storedMd5 = analysis.main.rewritten ? await md5OfFile(analysis.main.path) : materialized.md5;
    await services.moderation.checkFile(uploader, [materialized.md5, storedMd5], analysis.phash);
    for (const prepared of analysis.files) {
      const key = objectKey(identity, prepared.role);
      // The name claim is what a restarted (or any other) instance finds if this process dies
      // from here on: after SHOEBOX_UPLOAD_CLAIM_TIMEOUT without a refresh or a row, the
      // stale-name-claims job deletes these files. A slow storage keeps it fresh file by file;
      // a claim taken or refreshed within a tenth of the timeout cannot have been swept, so a
      // fast one (local storage) moves its files without a write per file.
      if (performance.now() - claimSeenAt > (settings.uploadClaimTimeoutSeconds * 1000) / 10) {
        if (!(await refreshFileNameClaim(db, folder, name))) throw new NameClaimLostError(folder, name);
        claimSeenAt = performance.now();
      }
      storedKeys.push(key);
      await storage.moveIn(key, prepared.file.path, prepared.mime);
    }

    const sizeOf = (role: FileRole) => analysis.files.find((f) => f.role === role)?.file.size ?? 0;
    const deleteSecret = randomBytes(24).toString('hex');
    // Title and description: the request's, else the file's own metadata, else (title) the filename.
    const title = options.title?.trim()
      ? truncateTitle(options.title.trim())
      : analysis.title ? truncateTitle(analysis.title)
      : materialized.filenameIsSynthetic ? null : titleFromFilename(materialized.originalFilename);
    // use_file_date (admin keys only, checked by the front doors): date the upload by when it was taken.
    const dated = options.useFileDate && analysis.dateTaken ? dateTakenToUtc(analysis.dateTaken, settings.timezone) : now;
    const row: NewImageRow = {
      user_id: uploader.user?.id ?? null,
      album_id: album?.id ?? null,
      category_id: options.categoryId ?? null,
      folder,
      name,
      extension: analysis.storedExtension,
      mime: analysis.files[0].mime,
      type: analysis.format.type,
      size: analysis.main.size,
      width: analysis.width,
      height: analysis.height,
      md5: storedMd5,
      source_md5: analysis.main.rewritten ? materialized.md5 : null,
      title,
      description: options.description?.trim() || analysis.description || null,
      // The uploader's own choice, else the site's default for them.
      nsfw: (options.nsfw ?? nsfwByDefaultFor(settings, uploader)) ? 1 : 0,
      original_filename: materialized.originalFilename ?? `${name}.${analysis.storedExtension}`,
      exifdata: analysis.exifJson,
      chain: chainOf(analysis.files.map((f) => f.role)),
      thumb_size: sizeOf('thumb'),
      medium_size: sizeOf('medium'),
      frame_size: sizeOf('frame'),
      derivative_extension: analysis.derivativeExtension,
      is_animated: analysis.isAnimated ? 1 : 0,
      // Waiting for approval: hidden from everyone but the uploader and moderators (docs/MODERATION.md).
      is_approved: hold ? 0 : 1,
      is_360: analysis.is360 ? 1 : 0,
      duration: analysis.duration,
      views: 0,
      likes: 0,
      uploader_ip: uploader.ip,
      date_gmt: formatUtc(dated),
      expires_at: expiresAt ? formatUtc(expiresAt) : null,
      delete_hash: hashDeleteSecret(deleteSecret),
      // Files in private, unlisted and password albums (or albums inside one) stay out of public listings.
      listed: !hold && (!album || album.listed === 1) ? 1 : 0,
      phash: analysis.phash,
    };
    const { image, tags } = await insertImageWithTags(db, row, parseTags(options.tags?.join(',')), { requireNameClaim: true, listedFromAlbum: true });
    return { image, tags, deleteSecret };
  } catch (error) {
    if (heartbeat) clearInterval(heartbeat);
    // A lost claim was taken by the stale-claims job, which removed the files; the name may be
    // someone else's by now, so neither it nor those keys are ours to touch.
    if (!(error instanceof NameClaimLostError)) {
      await storage.delete(storedKeys).catch(() => undefined);
      if (claimed) await releaseFileName(db, claimed.folder, claimed.name).catch(() => undefined);
    }
    throw asUploadError(error);
  } finally {
    if (heartbeat) clearInterval(heartbeat);
    await removeQuietly(workDir);
  }
}

/** The pipeline above, timed and reported to the site's upload listeners (metrics), stored or refused. */
export async function ingestUpload(
  services: IngestServices,
  source: UploadSource,
  uploader: Uploader,
  admission: Admission,
): Promise<IngestedImage> {
  const startedAt = performance.now();
  const seconds = () => (performance.now() - startedAt) / 1000;
  try {
    const result = await ingestUploadSteps(services, source, uploader, admission);
    reportUploadFinished(services.db, { seconds: seconds(), image: result.image });
    await reportChange(services.db, { type: 'image.created', image: result.image });
    return result;
  } catch (error) {
    reportUploadFinished(services.db, { seconds: seconds(), error });
    throw error;
  }
}

/** Errors that are not ours yet (a stream that broke, a codec that threw) become a clean 400. */
function asUploadError(error: unknown): unknown {
  if (error instanceof ShoeboxError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC') return errors.outOfSpace();
  return error;
}
