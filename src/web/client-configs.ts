/**
 * Ready-made uploader settings for the clients people point at a Chevereto-compatible site:
 * a ShareX custom uploader (.sxcu) and the PicGo web-uploader plugin's settings.
 */

export function sharexUploader(siteName: string, apiUrl: string, apiKey: string) {
  return {
    // Custom uploaders newer than 13.7.1 understand the {json:...} syntax used below.
    Version: '16.1.0',
    Name: siteName,
    DestinationType: 'ImageUploader, FileUploader',
    RequestMethod: 'POST',
    RequestURL: apiUrl,
    Headers: { 'X-API-Key': apiKey },
    Body: 'MultipartFormData',
    FileFormName: 'source',
    URL: '{json:image.url}',
    ThumbnailURL: '{json:image.thumb.url}',
    DeletionURL: '{json:image.delete_url}',
    ErrorMessage: '{json:error.message}',
  };
}

/** picgo-plugin-web-uploader's fields: the key rides in the URL because the plugin sends no custom header by default. */
export function picgoWebUploader(apiUrl: string, apiKey: string) {
  return {
    url: `${apiUrl}?key=${encodeURIComponent(apiKey)}`,
    paramName: 'source',
    jsonPath: 'image.url',
  };
}

/** A file name for the .sxcu download: the site's host, safe on every file system. */
export function sxcuFileName(baseUrl: string): string {
  return `${new URL(baseUrl).host.replace(/[^a-zA-Z0-9.-]+/g, '-')}.sxcu`;
}
