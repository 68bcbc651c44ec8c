import type { Settings } from '../config/settings.js';
import { formatInZone, howLongAgo, parseUtc } from '../core/dates.js';
import { durationTime, escapeHtml, formatBytes, rawUrlEncode, truncateForDisplay } from '../core/text.js';
import type { SiteUrls } from '../core/site-urls.js';
import type { ImageRow } from '../db/schema.js';
import type { TagRow } from '../db/repositories/images.js';
import { mimeOfExtension } from '../media/formats.js';
import { fileNameOf, objectKey, type FileRole } from '../storage/object-keys.js';
import { extensionOf, hasRole, sizeOf } from '../storage/image-files.js';

/**
 * The `image` object of the upload response, field for field as a Chevereto V4 server sends
 * it (shared/reference/FIELDS.md), in the same key order as the example responses.
 */

export interface FileObject {
  filename: string | null;
  name: string | null;
  mime: string | null;
  extension: string | null;
  url: string | null;
  size?: number;
}

const EMPTY_FILE: FileObject = { filename: null, name: null, mime: null, extension: null, url: null };

export interface ResponseContext {
  settings: Pick<Settings, 'timezone' | 'checksumFields' | 'loaderThresholdBytes' | 'thumbWidth' | 'thumbHeight' | 'mediumWidth'>;
  urls: SiteUrls;
  now?: Date;
}

function fileObject(image: ImageRow, role: FileRole, urls: SiteUrls, size?: number): FileObject {
  const filename = fileNameOf(image, role);
  const extension = extensionOf(image, role);
  const object: FileObject = {
    filename,
    name: filename.slice(0, -(extension.length + 1)),
    mime: role === 'image' ? image.mime : mimeOfExtension(extension),
    extension,
    url: urls.fileUrl(objectKey(image, role)),
  };
  if (size !== undefined) object.size = size;
  return object;
}

/** display_url and its size, following Chevereto's Image::fill. */
function displayOf(image: ImageRow, files: { url: string; frame: FileObject; medium: FileObject; thumb: FileObject }, settings: ResponseContext['settings']) {
  const hasFrame = hasRole(image, 'frame');
  let url = hasFrame ? files.frame.url! : files.url;
  let width = image.width;
  let height = image.height;
  let chosenSize = image.size;
  if (hasRole(image, 'medium')) {
    url = files.medium.url!;
    width = settings.mediumWidth;
    height = Math.round(settings.mediumWidth / (image.width / image.height));
    chosenSize = image.medium_size;
  } else if (hasRole(image, 'thumb') && image.size > 200_000 && image.type === 'image') {
    url = files.thumb.url!;
    width = Math.min(settings.thumbWidth, image.width);
    height = Math.min(settings.thumbHeight, image.height);
    chosenSize = image.thumb_size;
  }
  if (hasFrame && image.frame_size < chosenSize) {
    url = files.frame.url!;
    width = image.width;
    height = image.height;
  }
  return { url, width, height };
}

export function buildImageObject(image: ImageRow, tags: TagRow[], deleteSecret: string | null, ctx: ResponseContext) {
  const { settings, urls } = ctx;
  const dateGmt = parseUtc(image.date_gmt);
  const url = urls.fileUrl(objectKey(image, 'image'));
  const hasFrame = hasRole(image, 'frame');
  const fileOrEmpty = (role: FileRole) => (hasRole(image, role) ? fileObject(image, role, urls, sizeOf(image, role)) : { ...EMPTY_FILE });
  const frame = fileOrEmpty('frame');
  const thumb = fileOrEmpty('thumb');
  const medium = fileOrEmpty('medium');
  const display = displayOf(image, { url, frame, medium, thumb }, settings);
  const viewerFacts = { id: image.id, type: image.type, title: image.title, folder: image.folder };
  const urlViewer = urls.viewerUrl(viewerFacts);
  const titleTruncated = truncateForDisplay(image.title);

  const checksums: Record<string, string | null> = {};
  if (settings.checksumFields !== 'checksum') {
    checksums.md5 = image.md5;
    checksums.source_md5 = image.source_md5;
  }
  if (settings.checksumFields !== 'md5') {
    checksums.checksum = image.md5;
    checksums.source_checksum = image.source_md5;
  }

  return {
    name: image.name,
    extension: image.extension,
    size: image.size,
    width: image.width,
    height: image.height,
    date: formatInZone(dateGmt, settings.timezone),
    date_gmt: image.date_gmt,
    title: image.title,
    tags: tags.map((t) => ({
      name: t.name,
      name_safe_html: escapeHtml(t.name),
      url_key: rawUrlEncode(t.name),
      url: urls.tagUrl(rawUrlEncode(t.name)),
    })),
    description: image.description,
    nsfw: image.nsfw,
    storage_mode: 'datefolder',
    ...checksums,
    original_filename: image.original_filename,
    original_exifdata: image.exifdata,
    views: image.views,
    category_id: image.category_id,
    chain: image.chain,
    thumb_size: image.thumb_size,
    medium_size: image.medium_size,
    frame_size: image.frame_size,
    expiration_date_gmt: image.expires_at,
    likes: image.likes,
    is_animated: image.is_animated,
    is_approved: image.is_approved,
    is_360: image.is_360,
    duration: image.duration,
    type: image.type,
    tags_string: tags.map((t) => t.name).join(', '),
    file: { resource: { type: 'url' } },
    id_encoded: urls.ids.encode(image.id),
    filename: `${image.name}.${image.extension}`,
    mime: image.mime,
    url,
    ratio: image.width / image.height,
    size_formatted: formatBytes(image.size),
    frame,
    image: fileObject(image, 'image', urls, image.size),
    thumb,
    url_frame: hasFrame ? frame.url : '',
    medium,
    duration_time: durationTime(image.duration),
    url_viewer: urlViewer,
    path_viewer: new URL(urlViewer).pathname,
    url_short: urls.shortUrl(viewerFacts),
    display_url: display.url,
    display_width: display.width,
    display_height: display.height,
    views_label: image.views === 1 ? 'view' : 'views',
    likes_label: image.likes === 1 ? 'like' : 'likes',
    how_long_ago: howLongAgo(dateGmt, ctx.now),
    date_fixed_peer: image.date_gmt,
    title_truncated: titleTruncated,
    title_truncated_html: escapeHtml(titleTruncated),
    is_use_loader: image.size > settings.loaderThresholdBytes,
    display_title: image.title ?? `${image.name}.${image.extension}`,
    delete_url: deleteSecret ? urls.deleteUrl(viewerFacts, deleteSecret) : null,
  };
}

export type ImageObject = ReturnType<typeof buildImageObject>;

export function cheveretoUploadResponse(image: ImageObject) {
  return { status_code: 200, success: { message: 'file uploaded', code: 200 }, image: withoutUrlsWhileWaiting(image), status_txt: 'OK' };
}

/**
 * A file waiting for approval (`is_approved: 0`, moderation) is answered without any URL of its
 * files: they answer 404 to everyone but the uploader's session and moderators until approved.
 * The viewer URLs stay (they say "awaits review" to the uploader), and so does delete_url.
 */
export function withoutUrlsWhileWaiting(image: ImageObject): ImageObject {
  if (image.is_approved !== 0) return image;
  const hide = <T extends { url: string | null }>(file: T): T => ({ ...file, url: null });
  return {
    ...image,
    url: null as unknown as string,
    display_url: null as unknown as string,
    url_frame: '',
    image: hide(image.image),
    thumb: hide(image.thumb),
    medium: hide(image.medium),
    ...(image.frame ? { frame: hide(image.frame) } : {}),
  };
}

/**
 * The answer to a request that sent its file as `image` (imgbb's name), as Chevereto itself
 * answers it: Chevereto's envelope (`status_code`, `success` object, `status_txt`) plus `status`,
 * and under `data` the full Chevereto image object with `id` (the encoded id) and imgbb's own
 * `time` and `expiration` (seconds until the file expires, 0 for never). imgbb's `display_url`
 * and `delete_url` are fields of the Chevereto object already: one superset serves both kinds
 * of client.
 */
export function imgbbUploadResponse(image: ImageObject, row: ImageRow) {
  const uploadedAt = parseUtc(row.date_gmt).getTime();
  const expiresIn = row.expires_at ? Math.max(0, Math.round((parseUtc(row.expires_at).getTime() - uploadedAt) / 1000)) : 0;
  return {
    status_code: 200,
    success: { message: 'file uploaded', code: 200 },
    data: { id: image.id_encoded, ...withoutUrlsWhileWaiting(image), time: String(Math.floor(uploadedAt / 1000)), expiration: String(expiresIn) },
    status: 200,
    status_txt: 'OK',
  };
}
