/** Request bodies that carry a file as text (base64 in a form or JSON) need room for the encoding's growth. */
export function textBodyLimit(maxUploadBytes: number): number {
  return Math.ceil(maxUploadBytes * 1.4) + 1024 * 1024;
}
