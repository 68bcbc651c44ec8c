/**
 * What the page hands the browser uploader (`GET <base>/upload/config.json`). Shared by the
 * server (which builds it) and client/uploader (which reads it), so it imports nothing.
 */
export interface UploaderStrings {
  [key: string]: string | UploaderStrings;
}

export interface PeriodOf {
  unit: 'minutes' | 'hours' | 'days' | 'weeks' | 'months' | 'years';
  count: number;
}

export interface ExpirationChoice extends PeriodOf {
  /** ISO-8601 duration sent as the `expiration` parameter. */
  value: string;
}

export interface UploaderConfig {
  canUpload: true;
  lang: string;
  strings: UploaderStrings;
  endpoints: { tus: string; url: string; album: string };
  /** Bytes per tus PATCH request: below the request-size caps of proxies in front of the site. */
  chunkSize: number;
  /** This visitor's size limit (guests may have a smaller one). */
  maxFileSize: number;
  /** Extensions and MIME types, for Uppy's restrictions (the server still checks the bytes). */
  allowedFileTypes: string[];
  /** "JPG JPEG PNG … max 100 MB", shown under the drop zone. */
  limitsLabel: string;
  /** "JPG JPEG PNG …" alone, for the message about a refused file type. */
  typesLabel: string;
  urlUploads: boolean;
  /** New files start marked NSFW (SHOEBOX_NSFW_BY_DEFAULT for this visitor); the uploader may untick it. */
  nsfwDefault: boolean;
  user: { username: string; albums: { id: string; name: string; url: string }[] } | null;
  guest: { expiration: PeriodOf | null; signupUrl: string | null; loginUrl: string } | null;
  expirations: ExpirationChoice[];
  /** Labels of the embed codes (the viewer page's catalog keys `embed.code.*`, `embed.group.*`). */
  embed: { codes: Record<string, string>; groups: Record<string, string> };
}

export interface UploaderUnavailable {
  canUpload: false;
  loginUrl: string;
}
