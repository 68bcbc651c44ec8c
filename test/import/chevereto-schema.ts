/**
 * The tables of a Chevereto 4.x database that `import-chevereto` reads, for the test's
 * MariaDB: same table and column names and types as Chevereto's install SQL
 * (chevereto/chevereto, app/schemas/mysql-8/*.sql at commit
 * 7d8571c6809fcac172e163ad8e55fa8614c00ede, version 4.2.0), written out here for the tests
 * (secondary indexes and full-text keys left out: they change nothing a reader sees).
 * `storages` and `storage_apis` (with the rows the install SQL puts in) are there too.
 * Tables are prefixed `chv_`, Chevereto's default.
 */
export function cheveretoSchemaSql(prefix = 'chv_'): string {
  const t = (name: string) => `\`${prefix}${name}\``;
  return `
create table ${t('users')} (
  user_id bigint(32) not null auto_increment primary key,
  user_name varchar(255) default null,
  user_username varchar(255) not null,
  user_date datetime not null,
  user_date_gmt datetime not null,
  user_email varchar(255) default null,
  user_avatar_filename varchar(255) default null,
  user_facebook_username varchar(255) default null,
  user_twitter_username varchar(255) default null,
  user_website varchar(255) default null,
  user_background_filename varchar(255) default null,
  user_bio varchar(255) default null,
  user_timezone varchar(255) not null,
  user_language varchar(255) default null,
  user_status enum('valid','awaiting-confirmation','awaiting-email','banned') not null,
  user_is_admin tinyint(1) not null default '0',
  user_is_manager tinyint(1) not null default '0',
  user_is_private tinyint(1) not null default '0',
  user_palette_id int(11) not null default '0',
  user_newsletter_subscribe tinyint(1) not null default '1',
  user_show_nsfw_listings tinyint(1) not null default '0',
  user_image_count bigint(32) not null default '0',
  user_album_count bigint(32) not null default '0',
  user_image_keep_exif tinyint(1) not null default '1',
  user_file_meta_tag_camera_model tinyint(1) not null default '1',
  user_image_expiration varchar(255) default null,
  user_registration_ip varchar(255) not null,
  user_likes bigint(32) not null default '0',
  user_liked bigint(32) not null default '0',
  user_following bigint(32) not null default '0',
  user_followers bigint(32) not null default '0',
  user_content_views bigint(32) not null default '0',
  user_notifications_unread bigint(32) not null default '0',
  unique key username (user_username),
  unique key email (user_email)
) default charset=utf8mb4;

create table ${t('login_passwords')} (
  login_password_id bigint(32) not null auto_increment primary key,
  login_password_user_id bigint(32) not null,
  login_password_date_gmt datetime not null,
  login_password_hash text not null,
  unique key login_password_user_id (login_password_user_id)
) default charset=utf8mb4;

create table ${t('albums')} (
  album_id bigint(32) not null auto_increment primary key,
  album_name varchar(100) not null,
  album_user_id bigint(32) default null,
  album_date datetime not null,
  album_date_gmt datetime not null,
  album_creation_ip varchar(255) not null,
  album_privacy enum('public','password','private','private_but_link','custom') default 'public',
  album_privacy_extra text,
  album_password text,
  album_image_count bigint(32) not null default '0',
  album_description text,
  album_likes bigint(32) not null default '0',
  album_views bigint(32) not null default '0',
  album_cover_id bigint(32) default null,
  album_parent_id bigint(32) default null,
  album_cta_enable tinyint(1) not null default '0',
  album_cta text
) default charset=utf8mb4;

create table ${t('images')} (
  image_id bigint(32) not null auto_increment primary key,
  image_name varchar(255) not null,
  image_extension varchar(255) not null,
  image_size bigint(11) unsigned not null,
  image_width int(11) not null,
  image_height int(11) not null,
  image_date datetime not null,
  image_date_gmt datetime not null,
  image_title varchar(100) default null,
  image_description text,
  image_nsfw tinyint(1) not null default '0',
  image_user_id bigint(32) default null,
  image_album_id bigint(32) default null,
  image_uploader_ip varchar(255) not null,
  image_storage_mode enum('datefolder','direct','old','path') not null default 'datefolder',
  image_path varchar(4096) default null,
  image_storage_id bigint(32) default null,
  image_md5 varchar(32) not null,
  image_source_md5 varchar(32) default null,
  image_original_filename varchar(255) not null,
  image_original_exifdata text,
  image_views bigint(32) not null default '0',
  image_category_id bigint(32) default null,
  image_chain tinyint(3) not null,
  image_thumb_size int(11) not null,
  image_medium_size int(11) not null default '0',
  image_frame_size int(11) not null default '0',
  image_expiration_date_gmt datetime default null,
  image_likes bigint(32) not null default '0',
  image_is_animated tinyint(1) not null default '0',
  image_is_approved tinyint(1) not null default '1',
  image_is_360 tinyint(1) not null default '0',
  image_duration int(11) not null default '0',
  image_type tinyint(3) unsigned as (case
    when image_extension in ('pdf','doc','md') then 4
    when image_extension in ('mp3','m4a','wav') then 3
    when image_extension in ('mp4','webm','mov') then 2
    when image_extension in ('avif','jpg','jpeg','gif','png','webp') then 1
    else 0 end) stored
) default charset=utf8mb4;

create table ${t('images_hash')} (
  image_hash_image_id bigint(32) not null primary key,
  image_hash_hash text not null
) default charset=utf8mb4;

create table ${t('api_keys')} (
  api_key_id bigint(32) not null auto_increment primary key,
  api_key_user_id bigint(32) default null,
  api_key_name varchar(100) default null,
  api_key_date_gmt datetime not null,
  api_key_hash text not null
) default charset=utf8mb4;

create table ${t('deletions')} (
  deleted_id bigint(32) not null auto_increment primary key,
  deleted_date_gmt datetime not null,
  deleted_content_id bigint(32) not null,
  deleted_content_date_gmt datetime not null,
  deleted_content_user_id bigint(32) default null,
  deleted_content_ip varchar(255) not null,
  deleted_content_md5 varchar(32) default null,
  deleted_content_original_filename varchar(255) default null,
  deleted_content_views bigint(32) not null default '0',
  deleted_content_likes bigint(32) not null default '0'
) default charset=utf8mb4;

create table ${t('categories')} (
  category_id bigint(32) not null auto_increment primary key,
  category_name varchar(32) not null,
  category_url_key varchar(32) collate utf8mb4_bin not null,
  category_description text,
  unique key url_key (category_url_key)
) default charset=utf8mb4;

create table ${t('tags')} (
  tag_id bigint(32) not null auto_increment primary key,
  tag_name varchar(32) collate utf8mb4_bin not null,
  tag_description text,
  tag_user_id bigint(32) not null,
  tag_date_gmt datetime not null default current_timestamp,
  tag_files bigint(32) not null default 0,
  tag_views bigint(32) not null default 0,
  unique key tag_name (tag_name)
) default charset=utf8mb4;

create table ${t('tags_files')} (
  tag_file_tag_id bigint(32) not null,
  tag_file_file_id bigint(32) not null,
  foreign key (tag_file_tag_id) references ${t('tags')} (tag_id) on delete cascade,
  foreign key (tag_file_file_id) references ${t('images')} (image_id) on delete cascade,
  unique index tag_file_unique (tag_file_tag_id, tag_file_file_id)
) default charset=utf8mb4;

create table ${t('settings')} (
  setting_id int(11) not null auto_increment primary key,
  setting_name varchar(255) character set utf8 collate utf8_bin not null,
  setting_value text,
  setting_default text,
  setting_typeset enum('string','bool') default 'string',
  unique key setting_name (setting_name)
) default charset=utf8mb4;

create table ${t('storage_apis')} (
  storage_api_id bigint(32) not null auto_increment primary key,
  storage_api_name varchar(255) not null,
  storage_api_type varchar(255) not null
) default charset=utf8;
${storageApiRows(t)}

create table ${t('storages')} (
  storage_id bigint(32) not null auto_increment primary key,
  storage_api_id bigint(32) not null,
  storage_name varchar(255) not null,
  storage_service varchar(255) default null,
  storage_url varchar(255) not null,
  storage_bucket varchar(255) default null,
  storage_region varchar(255) default null,
  storage_server varchar(255) default null,
  storage_account_id varchar(255) default null,
  storage_account_name varchar(255) default null,
  storage_key text,
  storage_secret text,
  storage_is_https tinyint(1) not null default '0',
  storage_is_active tinyint(1) not null default '0',
  storage_capacity bigint(32) default null,
  storage_space_used bigint(32) default '0',
  storage_type_chain tinyint(3) not null default '1',
  storage_use_path_style_endpoint tinyint(1) not null default '0',
  storage_deleted_at datetime null default null
) default charset=utf8mb4;

create table ${t('variables')} (
  variable_id int(11) not null auto_increment primary key,
  variable_name varchar(255) character set utf8 collate utf8_bin not null,
  variable_datetime_utc datetime not null default current_timestamp on update current_timestamp,
  variable_value text,
  variable_type enum('string','bool','int','float','array','object') default 'string',
  unique key variable_name (variable_name)
) default charset=utf8mb4;
`;
}

/** The rows both versions' install SQL puts in storage_apis (storage_apis.sql). */
function storageApiRows(t: (name: string) => string): string {
  const apis: [number, string, string][] = [
    [1, 'Amazon S3', 's3'], [2, 'Google Cloud', 'gcloud'], [3, 'Microsoft Azure', 'azure'], [4, 'Chevereto Grid', 'chvgrid'],
    [5, 'FTP', 'ftp'], [6, 'SFTP', 'sftp'], [7, 'OpenStack', 'openstack'], [8, 'Local', 'local'],
    [9, 'S3 compatible', 's3compatible'], [10, 'Alibaba Cloud OSS', 'oss'], [11, 'Backblaze B2', 'b2'],
  ];
  return apis.map(([id, name, type]) => `insert into ${t('storage_apis')} values ('${id}', '${name}', '${type}');`).join('\n');
}

/**
 * The tables of a Chevereto 3.x database that `import-chevereto` reads: Chevereto-Free 1.6.2,
 * the 3.x line (rodber/chevereto-free, app/install/sql/*.sql at commit
 * 178a08ee3fe91b3e66cb0f11558ac53884557c9e), same table and column names and types, written out
 * as above (secondary indexes and full-text keys left out). What 3.x lacks and 4.x has: no
 * `variables` (crypt_salt and id_padding are settings), passwords in `logins` (login_type
 * 'password', login_secret) instead of `login_passwords`, no per-user `api_keys` (one site-wide
 * `api_v1_key` setting), no `images_hash` (no delete links), no tags, no sub-albums or album
 * covers, no video columns (image_frame_size, image_duration, image_is_360).
 */
export function chevereto3SchemaSql(prefix = 'chv_'): string {
  const t = (name: string) => `\`${prefix}${name}\``;
  return `
create table ${t('users')} (
  user_id bigint(32) not null auto_increment primary key,
  user_name varchar(255) default null,
  user_username varchar(191) not null,
  user_date datetime not null,
  user_date_gmt datetime not null,
  user_email varchar(191) default null,
  user_avatar_filename varchar(255) default null,
  user_facebook_username varchar(255) default null,
  user_twitter_username varchar(255) default null,
  user_website varchar(255) default null,
  user_background_filename varchar(255) default null,
  user_bio varchar(255) default null,
  user_timezone varchar(255) not null,
  user_language varchar(255) default null,
  user_status enum('valid','awaiting-confirmation','awaiting-email','banned') not null,
  user_is_admin tinyint(1) not null default '0',
  user_is_manager tinyint(1) not null default '0',
  user_is_private tinyint(1) not null default '0',
  user_is_dark_mode tinyint(1) not null default '0',
  user_newsletter_subscribe tinyint(1) not null default '1',
  user_show_nsfw_listings tinyint(1) not null default '0',
  user_image_count bigint(32) not null default '0',
  user_album_count bigint(32) not null default '0',
  user_image_keep_exif tinyint(1) not null default '1',
  user_image_expiration varchar(191) default null,
  user_registration_ip varchar(191) not null,
  user_likes bigint(32) not null default '0',
  user_liked bigint(32) not null default '0',
  user_following bigint(32) not null default '0',
  user_followers bigint(32) not null default '0',
  user_content_views bigint(32) not null default '0',
  user_notifications_unread bigint(32) not null default '0',
  unique key username (user_username),
  unique key email (user_email)
) default charset=utf8mb4;

create table ${t('logins')} (
  login_id bigint(32) not null auto_increment primary key,
  login_user_id bigint(32) not null,
  login_type enum('password','session','cookie','facebook','twitter','google','vk','cookie_facebook','cookie_twitter','cookie_google','cookie_vk') not null,
  login_ip varchar(255) default null,
  login_hostname mediumtext,
  login_date datetime not null,
  login_date_gmt datetime not null,
  login_resource_id varchar(255) default null,
  login_resource_name mediumtext,
  login_resource_avatar mediumtext,
  login_resource_url mediumtext,
  login_secret mediumtext default null comment 'The secret part',
  login_token_hash mediumtext comment 'Hashed complement to secret if needed'
) default charset=utf8mb4;

create table ${t('albums')} (
  album_id bigint(32) not null auto_increment primary key,
  album_name varchar(100) not null,
  album_user_id bigint(32) default null,
  album_date datetime not null,
  album_date_gmt datetime not null,
  album_creation_ip varchar(255) not null,
  album_privacy enum('public','password','private','private_but_link','custom') default 'public',
  album_privacy_extra mediumtext,
  album_password mediumtext,
  album_image_count bigint(32) not null default '0',
  album_description mediumtext,
  album_likes bigint(32) not null default '0',
  album_views bigint(32) not null default '0'
) default charset=utf8mb4;

create table ${t('images')} (
  image_id bigint(32) not null auto_increment primary key,
  image_name varchar(255) not null,
  image_extension varchar(255) not null,
  image_size int(11) not null,
  image_width int(11) not null,
  image_height int(11) not null,
  image_date datetime not null,
  image_date_gmt datetime not null,
  image_title varchar(100) default null,
  image_description mediumtext,
  image_nsfw tinyint(1) not null default '0',
  image_user_id bigint(32) default null,
  image_album_id bigint(32) default null,
  image_uploader_ip varchar(255) not null,
  image_storage_mode enum('datefolder','direct','old','path') not null default 'datefolder',
  image_path varchar(4096) default null,
  image_storage_id bigint(32) default null,
  image_md5 varchar(32) not null,
  image_source_md5 varchar(32) default null,
  image_original_filename varchar(255) not null,
  image_original_exifdata longtext,
  image_views bigint(32) not null default '0',
  image_category_id bigint(32) default null,
  image_chain tinyint(128) not null,
  image_thumb_size int(11) not null,
  image_medium_size int(11) not null default '0',
  image_expiration_date_gmt datetime default null,
  image_likes bigint(32) not null default '0',
  image_is_animated tinyint(1) not null default '0',
  image_is_approved tinyint(1) not null default '1'
) default charset=utf8mb4;

create table ${t('deletions')} (
  deleted_id bigint(32) not null auto_increment primary key,
  deleted_date_gmt datetime not null,
  deleted_content_id bigint(32) not null,
  deleted_content_date_gmt datetime not null,
  deleted_content_user_id bigint(32) default null,
  deleted_content_ip varchar(191) not null,
  deleted_content_md5 varchar(32) default null,
  deleted_content_original_filename varchar(255) default null,
  deleted_content_views bigint(32) not null default '0',
  deleted_content_likes bigint(32) not null default '0'
) default charset=utf8mb4;

create table ${t('categories')} (
  category_id bigint(32) not null auto_increment primary key,
  category_name varchar(32) not null,
  category_url_key varchar(32) not null,
  category_description mediumtext,
  unique key url_key (category_url_key)
) default charset=utf8mb4;

create table ${t('settings')} (
  setting_id int(11) not null auto_increment primary key,
  setting_name varchar(191) character set utf8 collate utf8_bin not null,
  setting_value mediumtext,
  setting_default mediumtext,
  setting_typeset enum('string','bool') default 'string'
) default charset=utf8mb4;

create table ${t('storage_apis')} (
  storage_api_id bigint(32) not null auto_increment primary key,
  storage_api_name varchar(255) not null,
  storage_api_type varchar(255) not null
) default charset=utf8;
${storageApiRows(t)}

create table ${t('storages')} (
  storage_id bigint(32) not null auto_increment primary key,
  storage_api_id bigint(32) not null,
  storage_name varchar(255) not null,
  storage_service varchar(255) default null,
  storage_url varchar(255) not null,
  storage_bucket varchar(255) default null,
  storage_region varchar(255) default null,
  storage_server varchar(255) default null,
  storage_account_id varchar(255) default null,
  storage_account_name varchar(255) default null,
  storage_key mediumtext,
  storage_secret mediumtext,
  storage_is_https tinyint(1) not null default '0',
  storage_is_active tinyint(1) not null default '0',
  storage_capacity bigint(32) default null,
  storage_space_used bigint(32) default '0'
) default charset=utf8mb4;
`;
}
