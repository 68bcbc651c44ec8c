import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Settings } from '../config/settings.js';
import { newAvatarKey, renderAvatar } from '../accounts/avatar.js';
import { formatUtc } from '../core/dates.js';
import { PublicIdCodec } from '../core/public-id.js';
import type { DatabaseHandle } from '../db/database.js';
import {
  claimImportedFileName,
  countImported,
  existingIdsOf,
  hasOwnContent,
  importedIdsOf,
  insertImportedAlbums,
  insertImportedApiKeys,
  insertImportedCategories,
  insertImportedDeletions,
  insertImportedImages,
  insertImportedUsers,
  linkImportedAlbums, makeAlbumsPrivate,
  maxId,
  raiseIdSequence,
  releaseImportedFileName,
  setVariables,
  takenFileNames,
  takenUserNames,
} from '../db/repositories/chevereto-import.js';
import { NameClaimLostError, refreshFileNameClaim } from '../db/repositories/images.js';
import { getVariable } from '../db/repositories/variables.js';
import { hashPassword } from '../db/repositories/users.js';
import type { Insertable } from 'kysely';
import type { ImagesTable, UsersTable } from '../db/schema.js';
import type { MediaBinaries } from '../media/binaries.js';
import { md5OfFile } from '../media/file-md5.js';
import { FORMATS, mimeOfExtension, type MediaFormat } from '../media/formats.js';
import { renderThumbFromFrame } from '../media/image.js';
import { remakeDerivatives } from '../media/remake-derivatives.js';
import { objectKey, type FileIdentity, type FileRole } from '../storage/object-keys.js';
import type { Storage } from '../storage/storage.js';
import { CheveretoDecrypter, looksEncrypted } from './chevereto-crypto.js';
import {
  CheveretoSource,
  type CheveretoAlbum,
  type CheveretoImage,
  type CheveretoStorage,
  type CheveretoUser,
} from './chevereto-source.js';

/**
 * `shoebox import-chevereto`: moves a Chevereto site into this one, keeping every id, file path
 * and secret, so every link the old site handed out keeps working (docs/MIGRATING.md).
 *
 * Its own writer (not a pass through ingest: the files are kept byte for byte at the paths
 * Chevereto served them from, under the ids it gave them), with ingest's rules: each file's
 * name is claimed (file_names) before its bytes are copied into storage, a batch's rows go in
 * one transaction after its files (with a `chevereto_imported` marker each), and when anything
 * fails the files it copied are deleted and their names given back. Rows already marked are
 * skipped, so a stopped import resumes and a finished one adds nothing. A row whose file is
 * missing (or on an external storage and not copied into the images folder) is reported and
 * skipped. Missing derivatives are made by media's remakeDerivatives, avatars by accounts' renderAvatar:
 * both come out as a new upload's would.
 */

export interface ImportServices {
  database: DatabaseHandle;
  storage: Storage;
  settings: Pick<
    Settings,
    | 'dataDir' | 'thumbWidth' | 'thumbHeight' | 'mediumWidth' | 'cryptSalt' | 'idPadding' | 'mediaTimeoutMs' | 'maxPixels' | 'maxAnimationFrames'
    | 'uploadClaimTimeoutSeconds'
  >;
  binaries: MediaBinaries;
}

export interface ImportOptions {
  from: string;
  prefix?: string;
  imagesDir: string;
  /**
   * Chevereto's user pictures folder (`content/images/users`, one folder per user's encoded id);
   * by default the one beside the images folder (`<images>/../content/images/users`).
   */
  avatarsDir?: string;
  dryRun?: boolean;
  /** Chevereto's CHEVERETO_ENCRYPTION_KEY, to read encrypted album passwords. */
  encryptionKey?: string;
  batchSize?: number;
  /** Files copied at once within a batch. */
  concurrency?: number;
  progress?: { setTotal(n: number): void; advance(n?: number, note?: string): void };
  log?: (line: string) => void;
  /** Called after each committed batch (tests stop an import half-way with it). */
  onBatch?: (kind: string, done: number) => void;
  /** Called once a batch's files are in storage, before their rows are written (tests look at that moment with it). */
  onFilesStored?: (keys: string[]) => Promise<void> | void;
}

export interface ImportProblem {
  kind: string;
  id: number;
  problem: string;
}

export interface ImportCounts {
  found: number;
  imported: number;
  alreadyImported: number;
  skipped: number;
}

/** Files Chevereto kept on one of its external storages (`storages`), and how many were found under the images folder. */
export interface ExternalStorageReport {
  id: number;
  name: string;
  /** s3, s3compatible, gcloud, azure, b2, ftp, sftp, local… (null when Chevereto does not say). */
  type: string | null;
  bucket: string | null;
  url: string;
  files: number;
  found: number;
  missing: number;
}

export interface ImportReport {
  dryRun: boolean;
  counts: Record<'users' | 'avatars' | 'albums' | 'images' | 'apiKeys' | 'categories' | 'deletions', ImportCounts>;
  regenerated: number;
  /** Files on Chevereto's external storages, per storage (empty when every file was in the images folder). */
  externalStorage: ExternalStorageReport[];
  problems: ImportProblem[];
  /** Settings the operator should give Shoebox so the old URLs and dates come out the same. */
  suggestedSettings: Record<string, string>;
  notes: string[];
}

export class ImportError extends Error {}

const PRIVACY: Record<string, string> = { public: 'public', private_but_link: 'unlisted', password: 'password', private: 'private', custom: 'private' };
const ROUTE_SETTINGS = ['route_image', 'route_video', 'route_album', 'route_user', 'root_route'] as const;

function emptyCounts(): ImportCounts {
  return { found: 0, imported: 0, alreadyImported: 0, skipped: 0 };
}

async function fileSize(file: string): Promise<number | null> {
  const info = await stat(file).catch(() => null);
  return info?.isFile() ? info.size : null;
}

/**
 * Runs `work` over `items`, at most `limit` at a time. After a failure no new item starts, and
 * the call returns (with the first error) only once every started item has finished, so
 * nothing is still writing when the caller cleans up.
 */
async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | null = null;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failure && next < items.length) {
      try {
        await work(items[next++]);
      } catch (error) {
        failure ??= { error };
      }
    }
  });
  await Promise.all(runners);
  if (failure) throw (failure as { error: unknown }).error;
}

/** The format of a stored extension (`jpeg` is the jpg format), or undefined. */
function formatOfExtension(extension: string): MediaFormat | undefined {
  return FORMATS[extension === 'jpeg' ? 'jpg' : extension];
}

function isVideoExtension(extension: string): boolean {
  return formatOfExtension(extension)?.type === 'video';
}

/** A file that cannot come over (its derivatives cannot be made): reported, and the file skipped. */
class FileProblem extends Error {}

/** Chevereto's date folder: the local date it stored (`image_date`), as `YYYY/MM/DD`. */
export function dateFolderOf(localDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(localDate);
  if (!m) throw new Error(`unreadable date ${localDate}`);
  return `${m[1]}/${m[2]}/${m[3]}`;
}

interface PlannedFile {
  role: FileRole;
  key: string;
  mime: string;
  /** The file in the old images folder, or null when it must be made again. */
  source: string | null;
}

interface PlannedImage {
  row: CheveretoImage;
  identity: FileIdentity;
  chain: number;
  files: PlannedFile[];
}

export async function importChevereto(services: ImportServices, options: ImportOptions): Promise<ImportReport> {
  const { database, storage } = services;
  const db = database.db;
  const log = options.log ?? (() => undefined);
  const batchSize = options.batchSize ?? 100;
  const dryRun = options.dryRun === true;
  const decrypter = options.encryptionKey ? new CheveretoDecrypter(options.encryptionKey) : null;
  const report: ImportReport = {
    dryRun,
    counts: { users: emptyCounts(), avatars: emptyCounts(), albums: emptyCounts(), images: emptyCounts(), apiKeys: emptyCounts(), categories: emptyCounts(), deletions: emptyCounts() },
    regenerated: 0,
    externalStorage: [],
    problems: [],
    suggestedSettings: {},
    notes: [],
  };
  const problem = (kind: string, id: number, text: string) => {
    report.problems.push({ kind, id, problem: text });
    log(`${kind} ${id}: ${text}`);
  };
  const imagesDir = path.resolve(options.imagesDir);
  const dirInfo = await stat(imagesDir).catch(() => null);
  if (!dirInfo?.isDirectory()) throw new ImportError(`--images ${imagesDir} is not a folder (give Chevereto's images folder, the one holding its date folders)`);

  const source = await CheveretoSource.open(options.from, options.prefix ?? 'chv_').catch((error: Error) => {
    throw new ImportError(`cannot read the Chevereto database: ${error.message}`);
  });
  const workDir = await mkdtemp(path.join(services.settings.dataDir, 'tmp', 'import-'));
  try {
    // ---- Settings that shape URLs and ids -------------------------------------------------
    const settings = await source.settings();
    const salt = settings.get('crypt_salt');
    if (!salt) throw new ImportError('the Chevereto database has no crypt_salt (settings/variables): its ids cannot be kept');
    const padding = Number(settings.get('id_padding') ?? 0) || 0;
    const codec = new PublicIdCodec(salt, padding);
    if (services.settings.cryptSalt !== undefined && services.settings.cryptSalt !== salt) {
      throw new ImportError('SHOEBOX_CRYPT_SALT differs from the Chevereto site\'s crypt_salt: unset it (the import stores Chevereto\'s) or set it to the same value');
    }
    if (services.settings.idPadding !== undefined && services.settings.idPadding !== padding) {
      throw new ImportError(`SHOEBOX_ID_PADDING differs from the Chevereto site's id_padding (${padding}): unset it or set it to ${padding}`);
    }
    const currentSalt = await getVariable(db, 'crypt_salt');
    const currentPadding = await getVariable(db, 'id_padding');
    const ownContent = await hasOwnContent(db);
    if (ownContent && ((currentSalt !== undefined && currentSalt !== salt) || (currentPadding !== undefined && Number(currentPadding) !== padding))) {
      throw new ImportError(
        'this site already has its own content under another crypt_salt/id_padding: importing would change the links of one site or the other. ' +
          'Import into an empty site, or into a site started with SHOEBOX_CRYPT_SALT and SHOEBOX_ID_PADDING set to the Chevereto values.',
      );
    }
    const timezone = settings.get('default_timezone') ?? 'UTC';
    const mode = settings.get('website_mode') ?? 'community';
    const personalUid = Number(settings.get('website_mode_personal_uid') ?? 1) || 1;
    const variables: Record<string, string> = {
      crypt_salt: salt,
      id_padding: String(padding),
      chevereto_website_mode: mode,
      chevereto_timezone: timezone,
      chevereto_site_name: settings.get('website_name') ?? '',
    };
    if (mode === 'personal') {
      variables.chevereto_personal_user_id = String(personalUid);
      variables.chevereto_personal_routing = (settings.get('website_mode_personal_routing') ?? '/') || '/';
    }
    for (const name of ROUTE_SETTINGS) {
      const value = settings.get(name);
      if (value) variables[`chevereto_${name}`] = value;
    }
    report.suggestedSettings.SHOEBOX_TIMEZONE = timezone;
    report.suggestedSettings.SHOEBOX_IMAGE_ROUTE = settings.get('route_image') || 'image';
    report.suggestedSettings.SHOEBOX_VIDEO_ROUTE = settings.get('route_video') || 'video';
    // Chevereto 3's one site-wide upload key (Chevereto-Free's api_v1_key): it uploads as a guest, as Shoebox's guest key does.
    const siteKey = settings.get('api_v1_key');
    if (siteKey) {
      report.suggestedSettings.SHOEBOX_GUEST_API_KEY = siteKey;
      report.notes.push('the old site had a site-wide API key (api_v1_key) that uploaded as a guest: set SHOEBOX_GUEST_API_KEY to it (and allow guest uploads) so tools configured with it keep working');
    }
    if ((settings.get('root_route') ?? 'user') === 'image') {
      report.notes.push('root_route is "image" (viewer pages at /<id>): Shoebox serves them at /image/<id>; the old root URLs are not answered');
    }
    if (settings.get('website_privacy_mode') === 'private') {
      report.notes.push('the old site was private (website_privacy_mode): Shoebox has no site-wide sign-in wall, so make albums private or keep the site off the internet until you decide');
    }
    const uploadPath = settings.get('upload_image_path');
    if (uploadPath && uploadPath.replace(/^\/+|\/+$/g, '') !== 'images') {
      report.notes.push(`files were served under /${uploadPath}/: Shoebox serves them under /images/ (point a redirect at it)`);
    }
    const thumbBox = {
      width: Number(settings.get('upload_thumb_width') ?? 0) || services.settings.thumbWidth,
      height: Number(settings.get('upload_thumb_height') ?? 0) || services.settings.thumbHeight,
    };
    const mediumWidth = Number(settings.get('upload_medium_size') ?? 0) || services.settings.mediumWidth;

    const totals = {
      users: await source.count('users'),
      albums: await source.count('albums'),
      images: await source.count('images'),
      deletions: await source.count('deletions'),
    };
    options.progress?.setTotal(totals.users + totals.albums + totals.images + totals.deletions);
    log(`${dryRun ? 'Checking (dry run)' : 'Importing'}: ${totals.users} users, ${totals.albums} albums, ${totals.images} files, ${totals.deletions} deleted ids`);

    if (!dryRun) await setVariables(db, variables);

    // ---- Users (and their avatars: bytes first, then the batch's rows in one transaction) --
    const importedAt = formatUtc(new Date());
    const avatarsDir = path.resolve(options.avatarsDir ?? path.join(imagesDir, '..', 'content', 'images', 'users'));
    const avatarsDirFound = (await stat(avatarsDir).catch(() => null))?.isDirectory() === true;
    if (options.avatarsDir !== undefined && !avatarsDirFound) throw new ImportError(`--avatars ${avatarsDir} is not a folder (give Chevereto's content/images/users folder)`);
    const presentUsers = new Set<number>();
    const privateUsers = new Set<number>();
    for (let after = 0; ; ) {
      const rows = await source.users(after, batchSize);
      if (rows.length === 0) break;
      after = rows[rows.length - 1].user_id;
      const ids = rows.map((r) => Number(r.user_id));
      const done = await importedIdsOf(db, 'user', ids);
      const existing = await existingIdsOf(db, 'users', ids);
      const taken = await takenUserNames(db, rows.map((r) => r.user_username), rows.flatMap((r) => (r.user_email ? [r.user_email] : [])));
      const batch: (Insertable<UsersTable> & { id: number })[] = [];
      const avatarFiles = new Map<number, string>();
      for (const row of rows) {
        const id = Number(row.user_id);
        report.counts.users.found++;
        if (row.user_avatar_filename) report.counts.avatars.found++;
        if (row.user_is_private) privateUsers.add(id);
        if (done.has(id)) {
          report.counts.users.alreadyImported++;
          if (row.user_avatar_filename) report.counts.avatars.alreadyImported++;
          presentUsers.add(id);
          continue;
        }
        const clash = existing.has(id)
          ? `user id ${id} is already used on this site`
          : taken.usernames.has(row.user_username.toLowerCase())
            ? `user name ${row.user_username} is already taken on this site`
            : row.user_email && taken.emails.has(row.user_email.toLowerCase())
              ? `email ${row.user_email} is already used on this site`
              : null;
        if (clash) {
          report.counts.users.skipped++;
          if (row.user_avatar_filename) report.counts.avatars.skipped++;
          problem('user', id, `${clash}; the user and their albums and files are skipped`);
          continue;
        }
        presentUsers.add(id);
        batch.push(mapUser(row, importedAt));
        if (row.user_avatar_filename) {
          // Chevereto keeps a user's pictures in content/images/users/<encoded user id>/ (User::uploadPicture).
          const relative = `${codec.encode(id)}/${row.user_avatar_filename}`;
          const file = /^[A-Za-z0-9._-]+$/.test(row.user_avatar_filename) ? path.join(avatarsDir, relative) : null;
          if (file && (await fileSize(file)) !== null) {
            avatarFiles.set(id, file);
          } else {
            report.counts.avatars.skipped++;
            problem('user', id, `the avatar ${relative} is not in ${avatarsDir}${avatarsDirFound ? '' : " (no such folder: give --avatars DIR, the old site's content/images/users)"}; the user comes over without it`);
          }
        }
      }
      if (dryRun) {
        report.counts.avatars.imported += avatarFiles.size;
      } else {
        const stored: string[] = [];
        try {
          for (const user of batch) {
            const file = avatarFiles.get(user.id);
            if (!file) continue;
            let webp: Buffer;
            try {
              webp = await renderAvatar(file);
            } catch {
              report.counts.avatars.skipped++;
              problem('user', user.id, 'the avatar is not an image this site can read; the user comes over without it');
              continue;
            }
            const key = newAvatarKey(user.id);
            const local = path.join(workDir, `avatar-${user.id}.webp`);
            await writeFile(local, webp);
            stored.push(key);
            await storage.moveIn(key, local, 'image/webp');
            user.avatar_key = key;
          }
          await insertImportedUsers(db, batch);
        } catch (error) {
          // Nothing half-written: the avatars this batch stored go again.
          await storage.delete(stored).catch(() => undefined);
          throw error;
        }
        report.counts.avatars.imported += stored.length;
      }
      report.counts.users.imported += batch.length;
      options.progress?.advance(rows.length, 'users');
      options.onBatch?.('users', report.counts.users.found);
    }
    if (mode === 'personal' && !presentUsers.has(personalUid)) {
      report.notes.push(`personal mode names user ${personalUid}, who was not imported: / and /albums of the old site have no owner here`);
    }

    // ---- API keys (bcrypt as stored, looked up by their encoded id) ----------------------
    const keys = await source.apiKeys();
    const keysDone = await importedIdsOf(db, 'api_key', keys.map((k) => Number(k.api_key_id)));
    const keyBatch = [];
    for (const key of keys) {
      const id = Number(key.api_key_id);
      report.counts.apiKeys.found++;
      if (keysDone.has(id)) {
        report.counts.apiKeys.alreadyImported++;
        continue;
      }
      if (!presentUsers.has(Number(key.api_key_user_id))) {
        report.counts.apiKeys.skipped++;
        problem('api_key', id, `its user ${key.api_key_user_id} was not imported`);
        continue;
      }
      keyBatch.push({ chevereto_id: id, public_id: codec.encode(id), user_id: Number(key.api_key_user_id), key_hash: key.api_key_hash, created_at: key.api_key_date_gmt });
    }
    if (!dryRun) await insertImportedApiKeys(db, keyBatch);
    report.counts.apiKeys.imported += keyBatch.length;

    // ---- Categories ----------------------------------------------------------------------
    const categories = await source.categories();
    const categoriesDone = await importedIdsOf(db, 'category', categories.map((c) => Number(c.category_id)));
    const categoryBatch = [];
    for (const c of categories) {
      report.counts.categories.found++;
      if (categoriesDone.has(Number(c.category_id))) {
        report.counts.categories.alreadyImported++;
        continue;
      }
      categoryBatch.push({ id: Number(c.category_id), name: c.category_name, url_key: c.category_url_key, description: c.category_description });
    }
    if (!dryRun) await insertImportedCategories(db, categoryBatch);
    report.counts.categories.imported += categoryBatch.length;
    const importedCategories = new Set(categories.map((c) => Number(c.category_id)));

    // ---- Albums --------------------------------------------------------------------------
    const albums = await source.albums();
    const albumById = new Map(albums.map((a) => [Number(a.album_id), a]));
    const presentAlbums = new Set<number>();
    for (let i = 0; i < albums.length; i += batchSize) {
      const rows = albums.slice(i, i + batchSize);
      const ids = rows.map((r) => Number(r.album_id));
      const done = await importedIdsOf(db, 'album', ids);
      const existing = await existingIdsOf(db, 'albums', ids);
      const batch = [];
      for (const row of rows) {
        const id = Number(row.album_id);
        report.counts.albums.found++;
        if (done.has(id)) {
          report.counts.albums.alreadyImported++;
          presentAlbums.add(id);
          continue;
        }
        const clash = existing.has(id)
          ? `album id ${id} is already used on this site`
          : row.album_user_id === null
            ? 'it has no owner (Shoebox albums always belong to a user)'
            : !presentUsers.has(Number(row.album_user_id))
              ? `its user ${row.album_user_id} was not imported`
              : null;
        if (clash) {
          report.counts.albums.skipped++;
          problem('album', id, `${clash}; the album and its files are skipped`);
          continue;
        }
        presentAlbums.add(id);
        batch.push(await mapAlbum(row, decrypter, (text) => problem('album', id, text)));
      }
      if (!dryRun) await insertImportedAlbums(db, batch);
      report.counts.albums.imported += batch.length;
      options.progress?.advance(rows.length, 'albums');
      options.onBatch?.('albums', report.counts.albums.found);
    }
    // An album inside a skipped album is skipped too: it could otherwise become more visible.
    const albumPresent = (id: number): boolean => {
      for (let a: CheveretoAlbum | undefined = albumById.get(id), depth = 0; a && depth < 100; depth++) {
        if (!presentAlbums.has(Number(a.album_id))) return false;
        a = a.album_parent_id ? albumById.get(Number(a.album_parent_id)) : undefined;
      }
      return presentAlbums.has(id);
    };
    const listedOf = new Map<number, number>();
    const albumListed = (id: number): number => {
      const known = listedOf.get(id);
      if (known !== undefined) return known;
      const album = albumById.get(id)!;
      const parentId = album.album_parent_id ? Number(album.album_parent_id) : null;
      const own = (PRIVACY[album.album_privacy ?? 'public'] ?? 'private') === 'public' && !privateUsers.has(Number(album.album_user_id)) ? 1 : 0;
      listedOf.set(id, 0); // a cycle lists nothing
      const listed = own === 1 && (parentId === null || !albumById.has(parentId) || albumListed(parentId) === 1) ? 1 : 0;
      listedOf.set(id, listed);
      return listed;
    };
    const links = albums
      .filter((a) => presentAlbums.has(Number(a.album_id)))
      .map((a) => {
        const id = Number(a.album_id);
        const parent = a.album_parent_id ? Number(a.album_parent_id) : null;
        return { id, parent_id: parent !== null && presentAlbums.has(parent) && albumPresent(parent) ? parent : null, listed: albumListed(id) };
      });
    for (const link of links) {
      const parent = albumById.get(link.id)?.album_parent_id;
      if (parent && link.parent_id === null) {
        // The parent was not imported: keep the album, as private, so it is never more visible than before.
        problem('album', link.id, `its parent album ${parent} was not imported; it is kept as a top-level album, made private`);
      }
    }
    if (!dryRun) {
      await linkImportedAlbums(db, links);
      const orphaned = links.filter((l) => l.parent_id === null && albumById.get(l.id)?.album_parent_id);
      await makeAlbumsPrivate(db, orphaned.map((l) => l.id));
    }

    // ---- Images and videos: name claimed, bytes stored, then the batch's rows in one transaction
    const storages = new Map((await source.storages()).map((st) => [Number(st.storage_id), st]));
    const external = new Map<number, ExternalStorageReport>();
    const onStorage = (id: number, found: boolean) => {
      const known = storages.get(id);
      let entry = external.get(id);
      if (!entry) {
        entry = { id, name: known?.storage_name ?? `storage ${id}`, type: known?.api_type ?? null, bucket: known?.storage_bucket ?? null, url: known?.storage_url ?? '', files: 0, found: 0, missing: 0 };
        external.set(id, entry);
      }
      entry.files++;
      if (found) entry.found++;
      else entry.missing++;
    };
    const derivativeSizes = { thumbBox, mediumWidth };
    for (let after = 0; ; ) {
      const rows = await source.images(after, batchSize);
      if (rows.length === 0) break;
      after = rows[rows.length - 1].image_id;
      const ids = rows.map((r) => Number(r.image_id));
      const done = await importedIdsOf(db, 'image', ids);
      const existing = await existingIdsOf(db, 'images', ids);
      const planned: PlannedImage[] = [];
      for (const row of rows) {
        const id = Number(row.image_id);
        report.counts.images.found++;
        if (done.has(id)) {
          report.counts.images.alreadyImported++;
          if (row.image_storage_id !== null) onStorage(Number(row.image_storage_id), true);
          continue;
        }
        const plan = await planImage(row, imagesDir, storages);
        if (row.image_storage_id !== null) onStorage(Number(row.image_storage_id), typeof plan !== 'string');
        const reason = existing.has(id)
          ? `file id ${id} is already used on this site`
          : row.image_user_id !== null && !presentUsers.has(Number(row.image_user_id))
            ? `its user ${row.image_user_id} was not imported`
            : row.image_album_id !== null && !albumPresent(Number(row.image_album_id))
              ? `its album ${row.image_album_id} was not imported`
              : typeof plan === 'string'
                ? plan
                : null;
        if (reason) {
          report.counts.images.skipped++;
          problem('image', id, `${reason}; skipped`);
          continue;
        }
        planned.push(plan as PlannedImage);
      }
      const nameTaken = (p: PlannedImage) => {
        report.counts.images.skipped++;
        problem('image', Number(p.row.image_id), `a file named ${p.identity.folder}/${p.identity.name} already exists on this site; skipped`);
      };
      if (dryRun) {
        const taken = await takenFileNames(db, planned.map((p) => ({ folder: p.identity.folder, name: p.identity.name })));
        const ours = await importedIdsOf(db, 'image_claim', planned.map((p) => Number(p.row.image_id)));
        const accepted = planned.filter((p) => {
          if (!taken.has(`${p.identity.folder}/${p.identity.name}`) || ours.has(Number(p.row.image_id))) return true;
          nameTaken(p);
          return false;
        });
        report.regenerated += accepted.reduce((n, p) => n + p.files.filter((f) => f.source === null).length, 0);
        report.counts.images.imported += accepted.length;
      } else {
        const claimed: PlannedImage[] = [];
        const keysOf = new Map<PlannedImage, string[]>();
        const given = new Set<PlannedImage>();
        const giveBack = async (p: PlannedImage) => {
          given.add(p);
          await storage.delete(keysOf.get(p) ?? []).catch(() => undefined);
          await releaseImportedFileName(db, p.identity.folder, p.identity.name, Number(p.row.image_id)).catch(() => undefined);
        };
        const rowsToInsert: (Insertable<ImagesTable> & { id: number })[] = [];
        // While the batch copies, every claim it holds stays fresh (as an upload's does), so a
        // running site's stale-claims job never takes one whose row is still to come.
        const heartbeat = setInterval(() => {
          void (async () => {
            for (const p of claimed) if (!given.has(p)) await refreshFileNameClaim(db, p.identity.folder, p.identity.name);
          })().catch(() => undefined);
        }, (services.settings.uploadClaimTimeoutSeconds * 1000) / 3);
        heartbeat.unref();
        try {
          // The name first (as every upload claims it), so a crash while copying leaves claimed files, never orphans.
          for (const p of planned) {
            if (await claimImportedFileName(db, p.identity.folder, p.identity.name, Number(p.row.image_id))) claimed.push(p);
            else nameTaken(p);
          }
          const tagsOf = await source.tagsOf(claimed.map((p) => Number(p.row.image_id)));
          await eachLimited(claimed, options.concurrency ?? 4, async (p) => {
            const keys: string[] = [];
            keysOf.set(p, keys);
            try {
              const sizes = await storeFiles(p, services, workDir, derivativeSizes, keys, (n) => (report.regenerated += n));
              const md5 = await md5OfFile(p.files[0].source!);
              if (md5 !== p.row.image_md5) problem('image', Number(p.row.image_id), `the file's md5 (${md5}) differs from the one Chevereto recorded (${p.row.image_md5}); copied as it is`);
              rowsToInsert.push(mapImage(p, sizes, { categories: importedCategories, privateUsers, albumListed: (id) => albumListed(id) }));
            } catch (error) {
              if (error instanceof NameClaimLostError) {
                // The stale-claims job took the name and removed its files: nothing of ours is left to clean.
                given.add(p);
                report.counts.images.skipped++;
                problem('image', Number(p.row.image_id), 'its name claim expired while its files were copied (a very slow storage?); skipped, run the import again');
                return;
              }
              if (!(error instanceof FileProblem)) throw error;
              await giveBack(p);
              report.counts.images.skipped++;
              problem('image', Number(p.row.image_id), `${error.message}; skipped`);
            }
          });
          await options.onFilesStored?.(claimed.filter((p) => !given.has(p)).flatMap((p) => keysOf.get(p) ?? []));
          rowsToInsert.sort((a, b) => a.id - b.id);
          await insertImportedImages(db, rowsToInsert, tagsOf);
        } catch (error) {
          clearInterval(heartbeat);
          // Nothing half-written: the files this batch stored go again, and so do its names.
          for (const p of claimed) if (!given.has(p)) await giveBack(p);
          throw error;
        } finally {
          clearInterval(heartbeat);
        }
        report.counts.images.imported += rowsToInsert.length;
      }
      options.progress?.advance(rows.length, 'files');
      options.onBatch?.('images', report.counts.images.found);
    }
    report.externalStorage = [...external.values()].sort((a, b) => a.id - b.id);
    for (const st of report.externalStorage) {
      const where = [st.type, st.bucket && `bucket ${st.bucket}`, st.url && `served from ${st.url}`].filter(Boolean).join(', ');
      report.notes.push(
        `${st.files} files were on Chevereto's external storage #${st.id} "${st.name}"${where ? ` (${where})` : ''}: ` +
          `${st.found} found in the images folder, ${st.missing} not. ` +
          (st.missing > 0
            ? `Copy that storage's files into ${imagesDir} keeping their paths (YYYY/MM/DD/name.ext): sync the bucket (e.g. rclone copy <remote>:${st.bucket ?? '<bucket>'} ${imagesDir}) or mount it and copy, then run the import again. `
            : '') +
          (st.url ? `Old links to ${st.url} keep pointing at that storage: keep it online, or send that address to this site's /images/.` : ''),
      );
    }

    // ---- Deleted ids ---------------------------------------------------------------------
    let highestDeleted = 0;
    for (let after = 0; ; ) {
      const rows = await source.deletions(after, batchSize);
      if (rows.length === 0) break;
      after = rows[rows.length - 1].deleted_id;
      const done = await importedIdsOf(db, 'deletion', rows.map((r) => Number(r.deleted_id)));
      const batch = [];
      for (const row of rows) {
        report.counts.deletions.found++;
        highestDeleted = Math.max(highestDeleted, Number(row.deleted_content_id));
        if (done.has(Number(row.deleted_id))) {
          report.counts.deletions.alreadyImported++;
          continue;
        }
        batch.push({
          chevereto_id: Number(row.deleted_id),
          kind: 'image',
          id: Number(row.deleted_content_id),
          deleted_at: row.deleted_date_gmt,
          md5: row.deleted_content_md5,
          original_filename: row.deleted_content_original_filename,
        });
      }
      if (!dryRun) await insertImportedDeletions(db, batch);
      report.counts.deletions.imported += batch.length;
      options.progress?.advance(rows.length, 'deleted ids');
    }

    // ---- New ids start after every id the old site ever handed out -----------------------
    if (!dryRun) {
      const next = {
        users: Math.max((await source.nextAutoIncrement('users')) - 1, await maxId(db, 'users')),
        albums: Math.max((await source.nextAutoIncrement('albums')) - 1, await maxId(db, 'albums')),
        images: Math.max((await source.nextAutoIncrement('images')) - 1, highestDeleted, await maxId(db, 'images')),
      };
      for (const [table, n] of Object.entries(next) as ['users' | 'albums' | 'images', number][]) await raiseIdSequence(database, table, n);
      const imported = await countImported(db, 'image');
      log(`${imported} files are imported in all`);
    }
    return report;
  } finally {
    await rm(workDir, { recursive: true, force: true });
    await source.close();
  }
}

/**
 * A Chevereto user as a Shoebox account. Role: admin stays admin, `user_is_manager` becomes
 * manager. Status (docs/MIGRATING.md): `banned` comes over disabled (no sign-in, its API key
 * stops), `awaiting-confirmation` and `awaiting-email` with their address unchecked (held at
 * sign-in when SHOEBOX_EMAIL_VERIFICATION=required), `valid` as it is.
 */
function mapUser(row: CheveretoUser, importedAt: string): Insertable<UsersTable> & { id: number } {
  const role = row.user_is_admin ? 'admin' : row.user_is_manager ? 'manager' : 'user';
  const status = row.user_status || 'valid';
  return {
    id: Number(row.user_id),
    username: row.user_username,
    email: row.user_email || null,
    // No password (a social sign-in account): nothing verifies against '!', so it signs in only after a reset.
    password_hash: row.password_hash || '!',
    is_admin: role === 'admin' ? 1 : 0,
    role,
    language: row.user_language || null,
    timezone: row.user_timezone || null,
    created_at: row.user_date_gmt,
    show_nsfw: row.user_show_nsfw_listings ? 1 : 0,
    display_name: row.user_name || null,
    bio: row.user_bio || null,
    website: row.user_website || null,
    is_private: row.user_is_private ? 1 : 0,
    status,
    disabled_at: status === 'banned' ? importedAt : null,
    email_unverified: status === 'awaiting-confirmation' || status === 'awaiting-email' ? 1 : 0,
  };
}

async function mapAlbum(row: CheveretoAlbum, decrypter: CheveretoDecrypter | null, problem: (text: string) => void) {
  const privacy = PRIVACY[row.album_privacy ?? 'public'] ?? 'private';
  let passwordHash: string | null = null;
  if (privacy === 'password') {
    let plain = row.album_password ?? '';
    if (decrypter && plain) {
      try {
        plain = decrypter.decrypt(plain);
      } catch {
        problem('its password could not be decrypted with --encryption-key; the album stays locked (set a new password)');
        plain = '';
      }
    } else if (plain && looksEncrypted(plain)) {
      problem('its password looks encrypted (CHEVERETO_ENCRYPTION_KEY); without --encryption-key the stored text is taken as the password');
    }
    // An empty password opens nothing: the album stays locked until its owner sets one.
    passwordHash = plain ? await hashPassword(plain) : '!';
    if (!plain) problem('it is password-protected with no readable password; it stays locked until its owner sets one');
  }
  return {
    id: Number(row.album_id),
    user_id: Number(row.album_user_id),
    parent_id: null,
    name: row.album_name,
    description: row.album_description || null,
    privacy,
    password_hash: passwordHash,
    // Chevereto 3 has no covers and no sub-albums (album_cover_id, album_parent_id came with 4.0).
    cover_image_id: row.album_cover_id === null || row.album_cover_id === undefined ? null : Number(row.album_cover_id),
    created_at: row.album_date_gmt,
    listed: 0,
  };
}

/**
 * Where the files of a row are in the old images folder, and which must be made again. A file
 * Chevereto kept on an external storage (image_storage_id) is looked for at the same path under
 * the images folder, where a synced or mounted copy of that storage puts it.
 */
async function planImage(row: CheveretoImage, imagesDir: string, storages: Map<number, CheveretoStorage>): Promise<PlannedImage | string> {
  if (row.image_storage_mode !== 'datefolder') return `its storage mode "${row.image_storage_mode}" is not a date folder`;
  if (!/^[A-Za-z0-9._-]+$/.test(row.image_name) || !/^[a-z0-9]{2,5}$/i.test(row.image_extension)) return `its file name ${row.image_name}.${row.image_extension} is not one Shoebox can serve`;
  const extension = row.image_extension.toLowerCase();
  const isVideo = isVideoExtension(extension);
  const identity: FileIdentity = { folder: dateFolderOf(row.image_date), name: row.image_name, extension, derivative_extension: isVideo ? 'jpeg' : extension };
  // Chevereto's chain bits: frame 16, original 8 (not kept), image 4, medium 2, thumb 1. Every file has a thumb.
  const chain = (Number(row.image_chain) & (16 | 2 | 1)) | 4 | 1 | (isVideo ? 16 : 0);
  const roles: FileRole[] = ['image', 'thumb'];
  if (chain & 2) roles.push('medium');
  if (chain & 16) roles.push('frame');
  const files: PlannedFile[] = [];
  for (const role of roles) {
    const key = objectKey(identity, role);
    const relative = key.slice('images/'.length);
    const local = path.join(imagesDir, relative);
    const exists = (await fileSize(local)) !== null;
    if (role === 'image' && !exists) {
      if (row.image_storage_id === null) return `its file ${relative} is missing from the images folder`;
      const st = storages.get(Number(row.image_storage_id));
      const name = st ? `"${st.storage_name}"${st.api_type ? ` (${st.api_type})` : ''}` : `#${row.image_storage_id}`;
      return `its file ${relative} is on Chevereto's external storage ${name}, not in the images folder (copy that storage into it, then run the import again)`;
    }
    files.push({ role, key, mime: role === 'image' ? mimeOfExtension(extension) : mimeOfExtension(identity.derivative_extension), source: exists ? local : null });
  }
  return { row, identity, chain, files };
}

/**
 * Makes the derivatives Chevereto's chain names but the folder lacks, as an upload of that file
 * makes them here (media/remake-derivatives.ts: renderImageFiles for images, prepareVideo for
 * videos, the same path `shoebox doctor --fix` takes), so a thumb made again is the one a new
 * upload gets. A video whose frame is there but not its thumb gets the thumb cut from that frame,
 * as uploads cut theirs. Returns the made files by role; a medium the renderer does not make (the
 * image is not wider than the medium width) is left out.
 */
async function makeDerivatives(
  plan: PlannedImage,
  services: ImportServices,
  scratch: string,
  sizes: { thumbBox: { width: number; height: number }; mediumWidth: number },
): Promise<Map<FileRole, string>> {
  const made = new Map<FileRole, string>();
  const missing = plan.files.filter((f) => f.source === null).map((f) => f.role);
  const isVideo = isVideoExtension(plan.identity.extension);
  const frame = plan.files.find((f) => f.role === 'frame')?.source ?? null;
  if (isVideo && frame !== null) {
    made.set('thumb', (await renderThumbFromFrame(frame, path.join(scratch, 'out.th.jpeg'), sizes.thumbBox)).path);
    return made;
  }
  const { settings } = services;
  const remade = await remakeDerivatives(
    plan.files[0].source!,
    scratch,
    { type: isVideo ? 'video' : 'image', derivativeExtension: plan.identity.derivative_extension },
    services.binaries,
    {
      maxPixels: settings.maxPixels,
      maxAnimationFrames: settings.maxAnimationFrames,
      mediaTimeoutMs: settings.mediaTimeoutMs,
      // The old site's sizes: the derivatives beside the ones it made itself.
      thumbWidth: sizes.thumbBox.width,
      thumbHeight: sizes.thumbBox.height,
      mediumWidth: sizes.mediumWidth,
      maxVideoSeconds: 0,
    },
  );
  for (const role of missing) {
    const file = role === 'image' ? undefined : remade[role];
    if (file) made.set(role, file.path);
  }
  return made;
}

/**
 * Copies the files of one row into storage (byte for byte), making missing derivatives again;
 * returns their sizes. The row's name is already claimed: the claim is refreshed before each
 * file, as an upload does, so the stale-claims job never takes it while the copy is slow.
 * Every key is added to `keys` before its copy starts (the caller deletes them on failure).
 */
async function storeFiles(
  plan: PlannedImage,
  services: ImportServices,
  workDir: string,
  sizes: { thumbBox: { width: number; height: number }; mediumWidth: number },
  keys: string[],
  regenerated: (n: number) => void,
): Promise<Partial<Record<FileRole, number>>> {
  const out: Partial<Record<FileRole, number>> = {};
  const scratch = await mkdtemp(path.join(workDir, `${plan.row.image_id}-`));
  try {
    let made = new Map<FileRole, string>();
    if (plan.files.some((f) => f.source === null)) {
      try {
        made = await makeDerivatives(plan, services, scratch, sizes);
      } catch (error) {
        if (error instanceof FileProblem) throw error;
        throw new FileProblem(`its missing derivatives could not be made again (${(error as Error).message})`);
      }
      regenerated(made.size);
    }
    // A medium Chevereto's chain names but this renderer does not make: the row says it has none.
    if (plan.files.some((f) => f.role === 'medium' && f.source === null && !made.has('medium'))) {
      plan.chain &= ~2;
      plan.files = plan.files.filter((f) => f.role !== 'medium');
    }
    for (const file of plan.files) {
      const local = file.source ?? made.get(file.role);
      if (!local) throw new FileProblem(`its ${file.role} could not be made again`);
      if (!(await refreshFileNameClaim(services.database.db, plan.identity.folder, plan.identity.name))) throw new NameClaimLostError(plan.identity.folder, plan.identity.name);
      keys.push(file.key);
      await services.storage.copyIn(file.key, local, file.mime);
      out[file.role] = (await fileSize(local)) ?? 0;
    }
    return out;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function mapImage(
  plan: PlannedImage,
  sizes: Partial<Record<FileRole, number>>,
  context: { categories: Set<number>; privateUsers: Set<number>; albumListed: (id: number) => number },
): Insertable<ImagesTable> & { id: number } {
  const row = plan.row;
  const albumId = row.image_album_id === null ? null : Number(row.image_album_id);
  const userId = row.image_user_id === null ? null : Number(row.image_user_id);
  const listed = (albumId === null ? 1 : context.albumListed(albumId)) === 1 && !(userId !== null && context.privateUsers.has(userId)) && Number(row.image_is_approved) === 1 ? 1 : 0;
  const isVideo = isVideoExtension(plan.identity.extension);
  return {
    id: Number(row.image_id),
    user_id: userId,
    album_id: albumId,
    category_id: row.image_category_id !== null && context.categories.has(Number(row.image_category_id)) ? Number(row.image_category_id) : null,
    folder: plan.identity.folder,
    name: plan.identity.name,
    extension: plan.identity.extension,
    mime: mimeOfExtension(plan.identity.extension),
    type: isVideo ? 'video' : 'image',
    size: Number(row.image_size),
    width: Number(row.image_width),
    height: Number(row.image_height),
    md5: row.image_md5,
    source_md5: row.image_source_md5,
    title: row.image_title || null,
    description: row.image_description || null,
    nsfw: row.image_nsfw ? 1 : 0,
    original_filename: row.image_original_filename,
    exifdata: row.image_original_exifdata || null,
    chain: plan.chain,
    thumb_size: sizes.thumb ?? Number(row.image_thumb_size),
    medium_size: sizes.medium ?? 0,
    frame_size: sizes.frame ?? 0,
    derivative_extension: plan.identity.derivative_extension,
    is_animated: row.image_is_animated ? 1 : 0,
    is_approved: Number(row.image_is_approved) === 1 ? 1 : 0,
    is_360: row.image_is_360 ? 1 : 0,
    duration: Number(row.image_duration ?? 0),
    views: Number(row.image_views),
    likes: Number(row.image_likes),
    uploader_ip: row.image_uploader_ip || null,
    date_gmt: row.image_date_gmt,
    expires_at: row.image_expiration_date_gmt,
    // Shoebox's own delete secret is unknown to anyone (a random hash); the old link's bcrypt is kept beside it.
    delete_hash: randomBytes(32).toString('hex'),
    listed,
    date_local: row.image_date,
    legacy_delete_hash: row.delete_hash,
  };
}
