/**
 * decodeURIComponent that answers null for text a client broke (a lone `%`, `%zz`, half of a
 * UTF-8 sequence) instead of throwing: a bad escape is bad input, a 400 or 404, never a 5xx.
 */
export function decodeUriComponentOrNull(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}
