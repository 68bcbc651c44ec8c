import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import mysql from 'mysql2/promise';
import sharp from 'sharp';
import { PublicIdCodec } from '../../src/core/public-id.js';
import { makeMp4 } from '../web/web-client.js';
import { chevereto3SchemaSql, cheveretoSchemaSql } from './chevereto-schema.js';
import type { TestMariaDatabase } from '../support/mariadb.js';

/**
 * A Chevereto site as Chevereto 4 leaves it: rows written the way its code writes them
 * (bcrypt from PHP's password_hash, `$2y$`; API keys `chv_<encoded key id>_<random>`; delete
 * secrets of 48 random characters; dates in the site's zone with GMT beside them; date folders
 * from the local date) and real files in an images folder.
 */

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function randomString(length: number): string {
  const bytes = randomBytes(length);
  return [...bytes].map((b) => ALNUM[b % ALNUM.length]).join('');
}

/** PHP's password_hash(…, PASSWORD_BCRYPT): cost 10, written `$2y$`. */
export async function phpBcrypt(secret: string): Promise<string> {
  return `$2y$${(await bcrypt.hash(secret, 10)).slice(4)}`;
}

/** Chevereto 4's encrypt(): base64(nonce ‖ ChaCha20(key, nonce, counter 0)). */
export function cheveretoEncrypt(base64Key: string, plain: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('chacha20', Buffer.from(base64Key, 'base64'), Buffer.concat([Buffer.alloc(4), nonce]));
  return Buffer.concat([nonce, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

export interface SiteFile {
  id: number;
  encoded: string;
  /** Path under the images folder, e.g. 2023/12/31/abc.jpg, and of each derivative. */
  paths: Record<string, string>;
  bytes: Record<string, Buffer>;
}

export interface CheveretoSite {
  salt: string;
  /** Chevereto's user pictures folder (content/images/users), beside the images folder. */
  avatarsDir?: string;
  /** The bytes of the avatars the site kept, by username. */
  avatars?: Record<string, Buffer>;
  /** An API key of a banned user. */
  bannedKey?: string;
  padding: number;
  codec: PublicIdCodec;
  files: Record<string, SiteFile>;
  albums: Record<string, number>;
  passwords: Record<string, string>;
  apiKey: string;
  deleteSecret: string;
  albumPassword: string;
}

interface FileSpec {
  key: string;
  id: number;
  ext: 'jpg' | 'png' | 'mp4';
  width: number;
  height: number;
  local: string;
  gmt: string;
  userId: number | null;
  albumId: number | null;
  title: string | null;
  /** Derivatives written to disk (the others are left missing). */
  derivatives: ('th' | 'md' | 'fr')[];
  chain: number;
  skipOriginal?: boolean;
  approved?: number;
  /** On one of Chevereto's external storages (image_storage_id). */
  storageId?: number;
}

async function imageBytes(ext: 'jpg' | 'png', width: number, height: number, seed: number): Promise<Buffer> {
  const img = sharp({ create: { width, height, channels: 3, background: { r: (seed * 53) % 256, g: (seed * 97) % 256, b: (seed * 31) % 256 } } })
    .composite([{ input: Buffer.from(`<svg width="${width}" height="${height}"><circle cx="${width / 2}" cy="${height / 2}" r="${Math.min(width, height) / 3}" fill="white"/></svg>`) }]);
  return ext === 'jpg' ? img.jpeg({ quality: 80 }).toBuffer() : img.png().toBuffer();
}

/** Community site: several users, every album privacy, a video, tags, a deleted id, a missing file. */
export async function buildCommunitySite(database: TestMariaDatabase, imagesDir: string): Promise<CheveretoSite> {
  const salt = randomString(8);
  const padding = 5000;
  const codec = new PublicIdCodec(salt, padding);
  await database.sql(cheveretoSchemaSql());
  const conn = await mysql.createConnection({ uri: database.url });
  try {
    const settings: Record<string, string> = {
      website_name: 'Old Pictures', website_mode: 'community', default_timezone: 'America/Santiago',
      route_image: 'image', route_album: 'album', route_user: 'user', route_video: 'video', root_route: 'user',
      upload_image_path: 'images', upload_thumb_width: '160', upload_thumb_height: '160', upload_medium_size: '500',
    };
    for (const [name, value] of Object.entries(settings)) await conn.query('insert into chv_settings (setting_name, setting_value, setting_default) values (?, ?, ?)', [name, value, value]);
    // Chevereto 4.2 keeps the id settings in variables (installer.php).
    await conn.query("insert into chv_variables (variable_name, variable_value, variable_type) values ('crypt_salt', ?, 'string'), ('id_padding', ?, 'int')", [salt, String(padding)]);

    const passwords = { alice: 'alice-old-secret', bob: 'bob-old-secret', dave: 'dave-old-secret', erin: 'erin-old-secret' };
    const users: [number, string, string, number, number, string | null][] = [
      [1, 'alice', 'Alice Liddell', 1, 0, passwords.alice],
      [2, 'bob', 'Bob', 0, 1, passwords.bob],
      [3, 'carol', 'Carol (signs in with a social account)', 0, 0, null],
      [4, 'dave', 'Dave (banned)', 0, 0, passwords.dave],
      [5, 'erin', 'Erin (never confirmed her address)', 0, 0, passwords.erin],
    ];
    for (const [id, username, name, admin, isPrivate, password] of users) {
      await conn.query(
        "insert into chv_users (user_id, user_name, user_username, user_date, user_date_gmt, user_email, user_website, user_bio, user_timezone, user_language, user_status, user_is_admin, user_is_private, user_registration_ip) values (?, ?, ?, '2023-05-01 09:00:00', '2023-05-01 13:00:00', ?, ?, ?, 'America/Santiago', 'en', 'valid', ?, ?, '203.0.113.9')",
        [id, name, username, `${username}@old.example`, `https://${username}.example`, `I am ${username}`, admin, isPrivate],
      );
      if (password) await conn.query("insert into chv_login_passwords (login_password_user_id, login_password_date_gmt, login_password_hash) values (?, '2023-05-01 13:00:00', ?)", [id, await phpBcrypt(password)]);
    }
    // Bob helped run the site; dave was banned; erin signed up and never used the emailed link.
    await conn.query("update chv_users set user_is_manager = 1 where user_id = 2");
    await conn.query("update chv_users set user_status = 'banned' where user_id = 4");
    await conn.query("update chv_users set user_status = 'awaiting-confirmation' where user_id = 5");
    // Alice's avatar, where User::uploadPicture puts it: content/images/users/<encoded user id>/av_<time>.jpg.
    const avatarsDir = path.join(imagesDir, '..', 'content', 'images', 'users');
    const aliceAvatar = await imageBytes('jpg', 500, 400, 77);
    await mkdir(path.join(avatarsDir, codec.encode(1)), { recursive: true });
    await writeFile(path.join(avatarsDir, codec.encode(1), 'av_1685610000.jpg'), aliceAvatar);
    await conn.query("update chv_users set user_avatar_filename = 'av_1685610000.jpg' where user_id = 1");
    // An external storage (Storage::insert): some files went to an S3 bucket instead of the images folder.
    await conn.query(
      "insert into chv_storages (storage_id, storage_api_id, storage_name, storage_url, storage_bucket, storage_region, storage_key, storage_secret, storage_is_https, storage_is_active) values (1, 1, 'Old S3', 'https://old-pics.s3.amazonaws.com/', 'old-pics', 'us-east-1', 'AKIA', 'secret', 1, 1)",
    );
    // An older, replaced key, then the one alice uses (ApiKey::insert: row first, then its hash).
    await conn.query("insert into chv_api_keys (api_key_id, api_key_user_id, api_key_date_gmt, api_key_hash) values (6, 1, '2023-05-02 00:00:00', ?)", [await phpBcrypt(`chv_${codec.encode(6)}_${randomString(128)}`)]);
    const apiKey = `chv_${codec.encode(7)}_${randomString(128)}`;
    await conn.query("insert into chv_api_keys (api_key_id, api_key_user_id, api_key_date_gmt, api_key_hash) values (7, 1, '2023-06-01 00:00:00', ?)", [await phpBcrypt(apiKey)]);
    const bannedKey = `chv_${codec.encode(8)}_${randomString(128)}`;
    await conn.query("insert into chv_api_keys (api_key_id, api_key_user_id, api_key_date_gmt, api_key_hash) values (8, 4, '2023-06-01 00:00:00', ?)", [await phpBcrypt(bannedKey)]);

    const albumPassword = 'open sesame';
    const albums = { holidays: 1, secret: 2, beach: 3, diary: 4, link: 5, bobs: 6 };
    const albumRows: [number, string, number, string, string | null, number | null][] = [
      [1, 'Holidays', 1, 'public', null, null],
      [2, 'Secret plans', 1, 'password', albumPassword, null],
      [3, 'Beach', 1, 'public', null, 1],
      [4, 'Diary', 1, 'private', null, null],
      [5, 'For friends', 1, 'private_but_link', null, null],
      [6, 'Bob things', 2, 'public', null, null],
    ];
    for (const [id, name, userId, privacy, password, parent] of albumRows) {
      await conn.query(
        "insert into chv_albums (album_id, album_name, album_user_id, album_date, album_date_gmt, album_creation_ip, album_privacy, album_password, album_description, album_parent_id) values (?, ?, ?, '2023-06-01 10:00:00', '2023-06-01 14:00:00', '203.0.113.9', ?, ?, ?, ?)",
        [id, name, userId, privacy, password, `About ${name}`, parent],
      );
    }
    await conn.query("insert into chv_categories (category_id, category_name, category_url_key, category_description) values (1, 'Nature', 'nature', 'Trees and such')");

    // 22:30 on 31 December in Santiago is already 1 January in GMT: the folder follows the local date.
    const specs: FileSpec[] = [
      { key: 'sunset', id: 1, ext: 'jpg', width: 800, height: 600, local: '2023-12-31 22:30:00', gmt: '2024-01-01 01:30:00', userId: 1, albumId: 1, title: 'Sunset at the beach', derivatives: ['th', 'md'], chain: 7 },
      { key: 'plans', id: 2, ext: 'png', width: 300, height: 200, local: '2024-01-02 10:00:00', gmt: '2024-01-02 13:00:00', userId: 1, albumId: 2, title: 'The plan', derivatives: ['th'], chain: 5 },
      { key: 'diary', id: 3, ext: 'jpg', width: 640, height: 480, local: '2024-01-03 10:00:00', gmt: '2024-01-03 13:00:00', userId: 1, albumId: 4, title: 'Dear diary', derivatives: ['th', 'md'], chain: 7 },
      { key: 'shells', id: 4, ext: 'jpg', width: 320, height: 240, local: '2024-01-04 10:00:00', gmt: '2024-01-04 13:00:00', userId: 1, albumId: 3, title: 'Shells', derivatives: ['th'], chain: 5 },
      { key: 'guest', id: 5, ext: 'png', width: 900, height: 300, local: '2024-01-05 10:00:00', gmt: '2024-01-05 13:00:00', userId: null, albumId: null, title: null, derivatives: ['th'], chain: 7 },
      { key: 'clip', id: 6, ext: 'mp4', width: 320, height: 240, local: '2024-01-06 10:00:00', gmt: '2024-01-06 13:00:00', userId: 1, albumId: 1, title: 'A short clip', derivatives: ['th'], chain: 21 },
      { key: 'lost', id: 7, ext: 'jpg', width: 320, height: 240, local: '2024-01-07 10:00:00', gmt: '2024-01-07 13:00:00', userId: 1, albumId: null, title: 'Lost file', derivatives: ['th'], chain: 5, skipOriginal: true },
      { key: 'bobs', id: 8, ext: 'jpg', width: 320, height: 240, local: '2024-01-08 10:00:00', gmt: '2024-01-08 13:00:00', userId: 2, albumId: 6, title: 'Bob at home', derivatives: [], chain: 5 },
      // On the S3 storage: one the operator synced into the images folder, one still only in the bucket.
      { key: 'synced', id: 11, ext: 'jpg', width: 320, height: 240, local: '2024-02-02 10:00:00', gmt: '2024-02-02 13:00:00', userId: 1, albumId: null, title: 'From the bucket', derivatives: ['th'], chain: 5, storageId: 1 },
      { key: 'cloud', id: 12, ext: 'jpg', width: 320, height: 240, local: '2024-02-03 10:00:00', gmt: '2024-02-03 13:00:00', userId: 1, albumId: null, title: 'Still in the bucket', derivatives: [], chain: 5, storageId: 1, skipOriginal: true },
    ];
    const files: Record<string, SiteFile> = {};
    const deleteSecret = randomString(48);
    const video = await makeMp4(320, 240);
    for (const spec of specs) {
      const name = randomString(7);
      const folder = spec.local.slice(0, 10).replace(/-/g, '/');
      const dir = path.join(imagesDir, folder);
      await mkdir(dir, { recursive: true });
      const original = spec.ext === 'mp4' ? video : await imageBytes(spec.ext, spec.width, spec.height, spec.id);
      const derivativeExt = spec.ext === 'mp4' ? 'jpeg' : spec.ext;
      const paths: Record<string, string> = { image: `${folder}/${name}.${spec.ext}` };
      const bytes: Record<string, Buffer> = { image: original };
      const still = spec.ext === 'mp4' ? await imageBytes('jpg', 320, 240, 99) : original;
      for (const d of spec.derivatives) {
        const out = d === 'th'
          ? await sharp(still).resize(160, 160, { fit: 'cover' }).toFormat(derivativeExt === 'png' ? 'png' : 'jpeg').toBuffer()
          : d === 'md'
            ? await sharp(still).resize({ width: 500 }).toFormat(derivativeExt === 'png' ? 'png' : 'jpeg').toBuffer()
            : still;
        paths[d] = `${folder}/${name}.${d}.${derivativeExt}`;
        bytes[d] = out;
        await writeFile(path.join(imagesDir, paths[d]), out);
      }
      // Derivatives the chain names but the disk lacks: the import makes them again.
      if (spec.chain & 1 && !paths.th) paths.th = `${folder}/${name}.th.${derivativeExt}`;
      if (spec.chain & 2 && !paths.md) paths.md = `${folder}/${name}.md.${derivativeExt}`;
      if (spec.chain & 16 && !paths.fr) paths.fr = `${folder}/${name}.fr.jpeg`;
      if (!spec.skipOriginal) await writeFile(path.join(imagesDir, paths.image), original);
      await conn.query(
        `insert into chv_images (image_id, image_name, image_extension, image_size, image_width, image_height, image_date, image_date_gmt, image_title, image_description,
          image_nsfw, image_user_id, image_album_id, image_uploader_ip, image_storage_mode, image_md5, image_original_filename, image_original_exifdata, image_views,
          image_category_id, image_chain, image_thumb_size, image_medium_size, image_frame_size, image_is_approved, image_duration, image_storage_id)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '203.0.113.7', 'datefolder', ?, ?, null, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [spec.id, name, spec.ext, original.length, spec.width, spec.height, spec.local, spec.gmt, spec.title, spec.title ? `About ${spec.title}` : null,
          spec.key === 'shells' ? 1 : 0, spec.userId, spec.albumId, createHash('md5').update(original).digest('hex'), `${spec.key}-original.${spec.ext}`, 10 + spec.id,
          spec.key === 'sunset' ? 1 : null, spec.chain, bytes.th?.length ?? 0, bytes.md?.length ?? 0, bytes.fr?.length ?? 0, spec.approved ?? 1, spec.ext === 'mp4' ? 1 : 0, spec.storageId ?? null],
      );
      // Image::upload: every upload gets a delete password, stored as its bcrypt.
      await conn.query('insert into chv_images_hash (image_hash_image_id, image_hash_hash) values (?, ?)', [spec.id, await phpBcrypt(spec.key === 'sunset' ? deleteSecret : randomString(48))]);
      files[spec.key] = { id: spec.id, encoded: codec.encode(spec.id), paths, bytes };
    }
    await conn.query("insert into chv_tags (tag_id, tag_name, tag_user_id) values (1, 'sunset', 1), (2, 'beach', 1)");
    await conn.query('insert into chv_tags_files (tag_file_tag_id, tag_file_file_id) values (1, 1), (2, 1), (2, 4)');
    // Files 9 and 10 were uploaded, then deleted: their ids stay taken.
    await conn.query(
      "insert into chv_deletions (deleted_date_gmt, deleted_content_id, deleted_content_date_gmt, deleted_content_user_id, deleted_content_ip, deleted_content_md5, deleted_content_original_filename) values ('2024-02-01 00:00:00', 9, '2024-01-09 13:00:00', 1, '203.0.113.7', ?, 'gone.jpg'), ('2024-02-01 00:00:00', 10, '2024-01-10 13:00:00', 1, '203.0.113.7', ?, 'gone2.jpg')",
      ['0'.repeat(32), '1'.repeat(32)],
    );
    await conn.query('alter table chv_images auto_increment = 13');
    return { salt, padding, codec, files, albums, passwords, apiKey, deleteSecret, albumPassword, avatarsDir, avatars: { alice: aliceAvatar }, bannedKey };
  } finally {
    await conn.end();
  }
}

/** Personal-mode site: one owner, an album whose password Chevereto stored encrypted. */
export async function buildPersonalSite(database: TestMariaDatabase, imagesDir: string, encryptionKey: string): Promise<CheveretoSite> {
  const salt = randomString(8);
  const padding = 0;
  const codec = new PublicIdCodec(salt, padding);
  await database.sql(cheveretoSchemaSql());
  const conn = await mysql.createConnection({ uri: database.url });
  try {
    const settings: Record<string, string> = {
      website_name: 'My Pictures', website_mode: 'personal', website_mode_personal_uid: '4', website_mode_personal_routing: '/',
      // This site renamed its routes: its links read /pics/<id> and /gallery/<id>.
      default_timezone: 'Asia/Tokyo', route_image: 'pics', route_album: 'gallery', upload_image_path: 'images',
    };
    for (const [name, value] of Object.entries(settings)) await conn.query('insert into chv_settings (setting_name, setting_value) values (?, ?)', [name, value]);
    await conn.query("insert into chv_variables (variable_name, variable_value) values ('crypt_salt', ?), ('id_padding', '0')", [salt]);
    await conn.query(
      "insert into chv_users (user_id, user_username, user_date, user_date_gmt, user_email, user_timezone, user_status, user_is_admin, user_registration_ip) values (4, 'owner', '2023-01-01 09:00:00', '2023-01-01 00:00:00', 'owner@old.example', 'Asia/Tokyo', 'valid', 1, '203.0.113.1')",
    );
    await conn.query("insert into chv_login_passwords (login_password_user_id, login_password_date_gmt, login_password_hash) values (4, '2023-01-01 00:00:00', ?)", [await phpBcrypt('owner-old-secret')]);
    // The owner's avatar; this site's files were moved, so its pictures folder is not beside the images folder.
    const avatarsDir = path.join(imagesDir, '..', 'moved', 'users');
    const ownerAvatar = await imageBytes('png', 300, 300, 4);
    await mkdir(path.join(avatarsDir, codec.encode(4)), { recursive: true });
    await writeFile(path.join(avatarsDir, codec.encode(4), 'av_1672531200.png'), ownerAvatar);
    await conn.query("update chv_users set user_avatar_filename = 'av_1672531200.png' where user_id = 4");
    const albumPassword = 'only for family';
    await conn.query(
      "insert into chv_albums (album_id, album_name, album_user_id, album_date, album_date_gmt, album_creation_ip, album_privacy, album_password) values (12, 'Family', 4, '2023-02-01 09:00:00', '2023-02-01 00:00:00', '203.0.113.1', 'password', ?), (13, 'Trips', 4, '2023-02-01 09:00:00', '2023-02-01 00:00:00', '203.0.113.1', 'public', null)",
      [cheveretoEncrypt(encryptionKey, albumPassword)],
    );
    const files: Record<string, SiteFile> = {};
    // 08:00 on 1 March in Tokyo is still 28 February in GMT.
    for (const [key, id, albumId] of [['family', 30, 12], ['trip', 31, 13]] as const) {
      const name = randomString(7);
      const folder = '2024/03/01';
      await mkdir(path.join(imagesDir, folder), { recursive: true });
      const original = await imageBytes('jpg', 640, 480, id);
      const thumb = await sharp(original).resize(160, 160, { fit: 'cover' }).jpeg().toBuffer();
      const medium = await sharp(original).resize({ width: 500 }).jpeg().toBuffer();
      const paths = { image: `${folder}/${name}.jpg`, th: `${folder}/${name}.th.jpg`, md: `${folder}/${name}.md.jpg` };
      await writeFile(path.join(imagesDir, paths.image), original);
      await writeFile(path.join(imagesDir, paths.th), thumb);
      await writeFile(path.join(imagesDir, paths.md), medium);
      await conn.query(
        `insert into chv_images (image_id, image_name, image_extension, image_size, image_width, image_height, image_date, image_date_gmt, image_title, image_user_id, image_album_id,
          image_uploader_ip, image_md5, image_original_filename, image_chain, image_thumb_size, image_medium_size)
         values (?, ?, 'jpg', ?, 640, 480, '2024-03-01 08:00:00', '2024-02-29 23:00:00', ?, 4, ?, '203.0.113.1', ?, ?, 7, ?, ?)`,
        [id, name, original.length, `Photo ${key}`, albumId, createHash('md5').update(original).digest('hex'), `${key}.jpg`, thumb.length, medium.length],
      );
      files[key] = { id, encoded: codec.encode(id), paths, bytes: { image: original, th: thumb, md: medium } };
    }
    return { salt, padding, codec, files, albums: { family: 12, trips: 13 }, passwords: { owner: 'owner-old-secret' }, apiKey: '', deleteSecret: '', albumPassword, avatarsDir, avatars: { owner: ownerAvatar } };
  } finally {
    await conn.end();
  }
}

/**
 * A Chevereto 3 site (Chevereto-Free 1.6, the 3.x line): ids under crypt_salt/id_padding kept in
 * `settings`, passwords in `logins`, album passwords stored as typed, one site-wide API key, a
 * manager with an avatar, a banned user, files in the images folder and on an external storage.
 */
export async function buildChevereto3Site(database: TestMariaDatabase, imagesDir: string): Promise<CheveretoSite & { siteKey: string }> {
  const salt = randomString(8);
  const padding = 5000;
  const codec = new PublicIdCodec(salt, padding);
  await database.sql(chevereto3SchemaSql());
  const conn = await mysql.createConnection({ uri: database.url });
  try {
    const siteKey = randomString(32);
    // What the 3.x installer writes (installer.php): crypt_salt and id_padding are settings here.
    const settings: Record<string, string> = {
      crypt_salt: salt, id_padding: String(padding), chevereto_version_installed: '1.6.2',
      website_name: 'Free Pictures', website_mode: 'community', default_timezone: 'Europe/Athens',
      upload_image_path: 'images', upload_storage_mode: 'datefolder', upload_thumb_width: '160', upload_thumb_height: '160',
      upload_medium_size: '500', api_v1_key: siteKey,
    };
    for (const [name, value] of Object.entries(settings)) await conn.query('insert into chv_settings (setting_name, setting_value, setting_default) values (?, ?, ?)', [name, value, value]);
    const passwords = { admin: 'admin-free-secret', mona: 'mona-free-secret', troll: 'troll-free-secret' };
    const users: [number, string, number, number, string][] = [
      [1, 'admin', 1, 0, 'valid'],
      [2, 'mona', 0, 1, 'valid'],
      [3, 'troll', 0, 0, 'banned'],
    ];
    for (const [id, username, admin, manager, status] of users) {
      await conn.query(
        "insert into chv_users (user_id, user_name, user_username, user_date, user_date_gmt, user_email, user_timezone, user_language, user_status, user_is_admin, user_is_manager, user_registration_ip) values (?, ?, ?, '2019-03-01 12:00:00', '2019-03-01 10:00:00', ?, 'Europe/Athens', 'en', ?, ?, ?, '198.51.100.4')",
        [id, username.toUpperCase(), username, `${username}@free.example`, status, admin, manager],
      );
      // Login::addPassword: a 'password' login whose secret is password_hash(…, PASSWORD_BCRYPT).
      await conn.query(
        "insert into chv_logins (login_user_id, login_type, login_ip, login_date, login_date_gmt, login_secret) values (?, 'password', '198.51.100.4', '2019-03-01 12:00:00', '2019-03-01 10:00:00', ?)",
        [id, await phpBcrypt(passwords[username as keyof typeof passwords])],
      );
    }
    const avatarsDir = path.join(imagesDir, '..', 'content', 'images', 'users');
    const monaAvatar = await imageBytes('jpg', 160, 160, 55);
    await mkdir(path.join(avatarsDir, codec.encode(2)), { recursive: true });
    await writeFile(path.join(avatarsDir, codec.encode(2), 'av_1551434400.jpg'), monaAvatar);
    await conn.query("update chv_users set user_avatar_filename = 'av_1551434400.jpg' where user_id = 2");
    const albumPassword = 'free as in beer';
    await conn.query(
      "insert into chv_albums (album_id, album_name, album_user_id, album_date, album_date_gmt, album_creation_ip, album_privacy, album_password, album_description) values (1, 'Cats', 1, '2019-04-01 12:00:00', '2019-04-01 09:00:00', '198.51.100.4', 'public', null, 'All the cats'), (2, 'Locked', 1, '2019-04-01 12:00:00', '2019-04-01 09:00:00', '198.51.100.4', 'password', ?, null)",
      [albumPassword],
    );
    await conn.query("insert into chv_categories (category_id, category_name, category_url_key, category_description) values (1, 'Animals', 'animals', 'Furry')");
    await conn.query(
      "insert into chv_storages (storage_id, storage_api_id, storage_name, storage_url, storage_bucket, storage_is_https, storage_is_active) values (1, 9, 'Minio', 'https://cdn.free.example/', 'free-images', 1, 1)",
    );
    const specs: { key: string; id: number; userId: number | null; albumId: number | null; category: number | null; derivatives: ('th' | 'md')[]; chain: number; storageId?: number; onDisk: boolean; local: string }[] = [
      // 00:30 on 2 May in Athens is still 1 May in GMT: the folder is the local date.
      { key: 'cat', id: 1, userId: 1, albumId: 1, category: 1, derivatives: ['th', 'md'], chain: 7, onDisk: true, local: '2019-05-02 00:30:00' },
      { key: 'locked', id: 2, userId: 1, albumId: 2, category: null, derivatives: ['th'], chain: 5, onDisk: true, local: '2019-05-03 12:00:00' },
      { key: 'guest', id: 3, userId: null, albumId: null, category: 1, derivatives: [], chain: 7, onDisk: true, local: '2019-05-04 12:00:00' },
      { key: 'bucket', id: 4, userId: 2, albumId: null, category: null, derivatives: ['th'], chain: 5, storageId: 1, onDisk: true, local: '2019-05-05 12:00:00' },
      { key: 'away', id: 5, userId: 2, albumId: null, category: null, derivatives: [], chain: 5, storageId: 1, onDisk: false, local: '2019-05-06 12:00:00' },
    ];
    const files: Record<string, SiteFile> = {};
    for (const spec of specs) {
      const name = randomString(7);
      const folder = spec.local.slice(0, 10).replace(/-/g, '/');
      await mkdir(path.join(imagesDir, folder), { recursive: true });
      const original = await imageBytes('jpg', 800, 600, spec.id + 40);
      const paths: Record<string, string> = { image: `${folder}/${name}.jpg`, th: `${folder}/${name}.th.jpg` };
      if (spec.chain & 2) paths.md = `${folder}/${name}.md.jpg`;
      const bytes: Record<string, Buffer> = { image: original };
      for (const d of spec.derivatives) {
        bytes[d] = d === 'th' ? await sharp(original).resize(160, 160, { fit: 'cover' }).jpeg().toBuffer() : await sharp(original).resize({ width: 500 }).jpeg().toBuffer();
        await writeFile(path.join(imagesDir, paths[d]), bytes[d]);
      }
      if (spec.onDisk) await writeFile(path.join(imagesDir, paths.image), original);
      const gmt = new Date(`${spec.local.replace(' ', 'T')}+03:00`).toISOString().slice(0, 19).replace('T', ' ');
      await conn.query(
        `insert into chv_images (image_id, image_name, image_extension, image_size, image_width, image_height, image_date, image_date_gmt, image_title, image_user_id, image_album_id,
          image_uploader_ip, image_storage_mode, image_storage_id, image_md5, image_original_filename, image_views, image_category_id, image_chain, image_thumb_size, image_medium_size)
         values (?, ?, 'jpg', ?, 800, 600, ?, ?, ?, ?, ?, '198.51.100.4', 'datefolder', ?, ?, ?, 3, ?, ?, ?, ?)`,
        [spec.id, name, original.length, spec.local, gmt, `The ${spec.key}`, spec.userId, spec.albumId, spec.storageId ?? null,
          createHash('md5').update(original).digest('hex'), `${spec.key}.jpg`, spec.category, spec.chain, bytes.th?.length ?? 0, bytes.md?.length ?? 0],
      );
      files[spec.key] = { id: spec.id, encoded: codec.encode(spec.id), paths, bytes };
    }
    await conn.query(
      "insert into chv_deletions (deleted_date_gmt, deleted_content_id, deleted_content_date_gmt, deleted_content_user_id, deleted_content_ip, deleted_content_md5, deleted_content_original_filename) values ('2019-06-01 00:00:00', 6, '2019-05-07 09:00:00', 1, '198.51.100.4', ?, 'gone.jpg')",
      ['2'.repeat(32)],
    );
    await conn.query('alter table chv_images auto_increment = 7');
    return {
      salt, padding, codec, files, albums: { cats: 1, locked: 2 }, passwords, apiKey: '', deleteSecret: '', albumPassword,
      avatarsDir, avatars: { mona: monaAvatar }, siteKey,
    };
  } finally {
    await conn.end();
  }
}
