import { createDecipheriv } from 'node:crypto';

/**
 * Values Chevereto 4 encrypts when CHEVERETO_ENCRYPTION_KEY is set (album passwords among them):
 * base64 of a 12-byte nonce followed by the ChaCha20 (RFC 8439 block function, block counter
 * starting at 0, no MAC) cipher text, under the 32-byte key the setting holds in base64.
 * OpenSSL's `chacha20` takes a 16-byte IV: the 32-bit little-endian counter, then the nonce.
 */
export class CheveretoDecrypter {
  private readonly key: Buffer;

  constructor(base64Key: string) {
    this.key = Buffer.from(base64Key, 'base64');
    if (this.key.length !== 32) throw new Error('--encryption-key must be the base64 of 32 bytes (Chevereto\'s CHEVERETO_ENCRYPTION_KEY)');
  }

  decrypt(encoded: string): string {
    const raw = Buffer.from(encoded, 'base64');
    if (raw.length < 12 || raw.toString('base64').replace(/=+$/, '') !== encoded.replace(/=+$/, '')) {
      throw new Error('not an encrypted value (base64 of nonce + cipher text)');
    }
    const iv = Buffer.concat([Buffer.alloc(4), raw.subarray(0, 12)]);
    const decipher = createDecipheriv('chacha20', this.key, iv);
    return Buffer.concat([decipher.update(raw.subarray(12)), decipher.final()]).toString('utf8');
  }
}

/** Whether a stored album password looks like an encrypted value rather than a typed password. */
export function looksEncrypted(value: string): boolean {
  return value.length >= 24 && /^[A-Za-z0-9+/]+={0,2}$/.test(value) && Buffer.from(value, 'base64').length >= 13;
}
