import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

/**
 * A value handed from a form's POST to the page it redirects to (Post/Redirect/Get) in a
 * short-lived cookie, sealed (AES-256-GCM with a key derived from the site's web secret) and
 * bound to one session, so the site keeps no copy and no other session can open it. The page
 * that shows it clears the cookie: reloading shows the value no more.
 */
export function sealFlash(secret: string, boundTo: string, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', flashKey(secret), iv);
  cipher.setAAD(Buffer.from(boundTo));
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** The sealed value, or null when the cookie is missing, altered or sealed for another session. */
export function openFlash<T>(secret: string, boundTo: string, sealed: string | undefined): T | null {
  if (!sealed) return null;
  try {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < 29) return null;
    const decipher = createDecipheriv('aes-256-gcm', flashKey(secret), raw.subarray(0, 12));
    decipher.setAAD(Buffer.from(boundTo));
    decipher.setAuthTag(raw.subarray(12, 28));
    return JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as T;
  } catch {
    return null;
  }
}

function flashKey(secret: string): Buffer {
  return createHash('sha256').update(`shoebox-flash:${secret}`).digest();
}
