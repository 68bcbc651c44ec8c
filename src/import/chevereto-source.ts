import mysql from 'mysql2/promise';

/**
 * Reads a Chevereto 3.x/4.x database (MySQL or MariaDB) with mysql2, read-only: every query
 * here is a SELECT. Dates come back as the `YYYY-MM-DD HH:MM:SS` text MySQL stores (no time
 * zone conversion), which is what Shoebox's columns hold too.
 */

export interface CheveretoUser {
  user_id: number;
  user_name: string | null;
  user_username: string;
  user_date: string;
  user_date_gmt: string;
  user_email: string | null;
  user_website: string | null;
  user_bio: string | null;
  user_timezone: string | null;
  user_language: string | null;
  user_status: string;
  user_avatar_filename: string | null;
  user_is_admin: number;
  user_is_manager: number;
  user_is_private: number;
  user_show_nsfw_listings: number;
  password_hash: string | null;
}

export interface CheveretoAlbum {
  album_id: number;
  album_name: string;
  album_user_id: number | null;
  album_date: string;
  album_date_gmt: string;
  album_privacy: string | null;
  album_password: string | null;
  album_description: string | null;
  album_cover_id: number | null;
  album_parent_id: number | null;
  album_views: number;
}

export interface CheveretoImage {
  image_id: number;
  image_name: string;
  image_extension: string;
  image_size: number;
  image_width: number;
  image_height: number;
  image_date: string;
  image_date_gmt: string;
  image_title: string | null;
  image_description: string | null;
  image_nsfw: number;
  image_user_id: number | null;
  image_album_id: number | null;
  image_uploader_ip: string;
  image_storage_mode: string;
  image_path: string | null;
  image_storage_id: number | null;
  image_md5: string;
  image_source_md5: string | null;
  image_original_filename: string;
  image_original_exifdata: string | null;
  image_views: number;
  image_category_id: number | null;
  image_chain: number;
  image_thumb_size: number;
  image_medium_size: number;
  image_frame_size: number | null;
  image_expiration_date_gmt: string | null;
  image_likes: number;
  image_is_animated: number;
  image_is_approved: number;
  image_is_360: number | null;
  image_duration: number | null;
  delete_hash: string | null;
}

export interface CheveretoApiKey {
  api_key_id: number;
  api_key_user_id: number;
  api_key_date_gmt: string;
  api_key_hash: string;
}

export interface CheveretoCategory {
  category_id: number;
  category_name: string;
  category_url_key: string;
  category_description: string | null;
}

/** A storage Chevereto kept files on (`storages`, with its kind from `storage_apis`). */
export interface CheveretoStorage {
  storage_id: number;
  storage_name: string;
  storage_url: string;
  storage_bucket: string | null;
  /** s3, s3compatible, gcloud, azure, b2, ftp, sftp, local… (null without a storage_apis table). */
  api_type: string | null;
}

export interface CheveretoDeletion {
  deleted_id: number;
  deleted_date_gmt: string;
  deleted_content_id: number;
  deleted_content_md5: string | null;
  deleted_content_original_filename: string | null;
}

export class CheveretoSource {
  private constructor(
    private readonly connection: mysql.Connection,
    private readonly prefix: string,
    private readonly tables: Set<string>,
  ) {}

  /** `mysql://USER:PASS@HOST:3306/DB`; `prefix` is Chevereto's table prefix (chv_ by default). */
  static async open(url: string, prefix: string): Promise<CheveretoSource> {
    if (!/^(mysql|mariadb):\/\//.test(url)) throw new Error('--from must be a mysql://USER:PASS@HOST:3306/DB URL');
    if (!/^[A-Za-z0-9_]*$/.test(prefix)) throw new Error('--prefix may only hold letters, digits and _');
    const connection = await mysql.createConnection({ uri: url.replace(/^mariadb:/, 'mysql:'), dateStrings: true, supportBigNumbers: true, bigNumberStrings: false, charset: 'utf8mb4' });
    const [rows] = await connection.query<mysql.RowDataPacket[]>('select table_name as name from information_schema.tables where table_schema = database()');
    const tables = new Set(rows.map((r) => String(r.name)));
    const source = new CheveretoSource(connection, prefix, tables);
    for (const needed of ['users', 'albums', 'images']) {
      if (!source.has(needed)) {
        await connection.end();
        throw new Error(`no ${prefix}${needed} table in that database: is it a Chevereto database, and is --prefix right (it is "${prefix}")?`);
      }
    }
    return source;
  }

  has(table: string): boolean {
    return this.tables.has(this.prefix + table);
  }

  private t(table: string): string {
    return `\`${this.prefix}${table}\``;
  }

  private async select<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    const [rows] = await this.connection.query<mysql.RowDataPacket[]>(sql, params);
    return rows as unknown as T[];
  }

  async count(table: string): Promise<number> {
    if (!this.has(table)) return 0;
    const [row] = await this.select<{ n: number }>(`select count(*) as n from ${this.t(table)}`);
    return Number(row.n);
  }

  /** Next AUTO_INCREMENT of a table: ids below it may have been handed out, even if their rows are gone. */
  async nextAutoIncrement(table: string): Promise<number> {
    const [row] = await this.select<{ n: number | null }>(
      'select auto_increment as n from information_schema.tables where table_schema = database() and table_name = ?',
      [this.prefix + table],
    );
    return Number(row?.n ?? 0);
  }

  /** `settings` (setting_name → setting_value) overlaid by `variables` (4.x keeps crypt_salt and id_padding there). */
  async settings(): Promise<Map<string, string | null>> {
    const out = new Map<string, string | null>();
    for (const row of await this.select<{ name: string; value: string | null }>(`select setting_name as name, setting_value as value from ${this.t('settings')}`)) {
      out.set(row.name, row.value);
    }
    if (this.has('variables')) {
      for (const row of await this.select<{ name: string; value: string | null }>(`select variable_name as name, variable_value as value from ${this.t('variables')}`)) {
        if (row.value !== null && row.value !== '') out.set(row.name, row.value);
      }
    }
    return out;
  }

  /** Users with their password hash: 4.x `login_passwords`, 3.x `logins` of type password. */
  async users(afterId: number, limit: number): Promise<CheveretoUser[]> {
    const password = this.has('login_passwords')
      ? `(select login_password_hash from ${this.t('login_passwords')} p where p.login_password_user_id = u.user_id order by p.login_password_id desc limit 1)`
      : this.has('logins')
        ? `(select login_secret from ${this.t('logins')} l where l.login_user_id = u.user_id and l.login_type = 'password' order by l.login_id desc limit 1)`
        : 'null';
    return this.select<CheveretoUser>(
      `select u.*, ${password} as password_hash from ${this.t('users')} u where u.user_id > ? order by u.user_id limit ?`,
      [afterId, limit],
    );
  }

  async albums(): Promise<CheveretoAlbum[]> {
    return this.select<CheveretoAlbum>(`select * from ${this.t('albums')} order by album_id`);
  }

  async images(afterId: number, limit: number): Promise<CheveretoImage[]> {
    const hash = this.has('images_hash')
      ? `(select h.image_hash_hash from ${this.t('images_hash')} h where h.image_hash_image_id = i.image_id)`
      : 'null';
    return this.select<CheveretoImage>(
      `select i.*, ${hash} as delete_hash from ${this.t('images')} i where i.image_id > ? order by i.image_id limit ?`,
      [afterId, limit],
    );
  }

  /** Tag names of some images (4.x `tags` + `tags_files`; none before 4.0). */
  async tagsOf(imageIds: number[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    if (imageIds.length === 0 || !this.has('tags') || !this.has('tags_files')) return out;
    const rows = await this.select<{ image_id: number; name: string }>(
      `select f.tag_file_file_id as image_id, t.tag_name as name from ${this.t('tags_files')} f join ${this.t('tags')} t on t.tag_id = f.tag_file_tag_id where f.tag_file_file_id in (?) order by t.tag_id`,
      [imageIds],
    );
    for (const row of rows) out.set(Number(row.image_id), [...(out.get(Number(row.image_id)) ?? []), row.name]);
    return out;
  }

  /** The newest key of each user (Chevereto only ever uses a user's newest one). */
  async apiKeys(): Promise<CheveretoApiKey[]> {
    if (!this.has('api_keys')) return [];
    return this.select<CheveretoApiKey>(
      `select k.* from ${this.t('api_keys')} k where k.api_key_user_id is not null and k.api_key_hash <> '' and k.api_key_id = (select max(k2.api_key_id) from ${this.t('api_keys')} k2 where k2.api_key_user_id = k.api_key_user_id) order by k.api_key_id`,
    );
  }

  async categories(): Promise<CheveretoCategory[]> {
    if (!this.has('categories')) return [];
    return this.select<CheveretoCategory>(`select * from ${this.t('categories')} order by category_id`);
  }

  /** Every storage the images table may point at (image_storage_id). */
  async storages(): Promise<CheveretoStorage[]> {
    if (!this.has('storages')) return [];
    const type = this.has('storage_apis')
      ? `(select a.storage_api_type from ${this.t('storage_apis')} a where a.storage_api_id = s.storage_api_id)`
      : 'null';
    return this.select<CheveretoStorage>(
      `select s.storage_id, s.storage_name, s.storage_url, s.storage_bucket, ${type} as api_type from ${this.t('storages')} s order by s.storage_id`,
    );
  }

  async deletions(afterId: number, limit: number): Promise<CheveretoDeletion[]> {
    if (!this.has('deletions')) return [];
    return this.select<CheveretoDeletion>(`select * from ${this.t('deletions')} where deleted_id > ? order by deleted_id limit ?`, [afterId, limit]);
  }

  async close(): Promise<void> {
    await this.connection.end();
  }
}
