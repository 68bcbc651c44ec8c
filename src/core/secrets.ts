import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether a secret a client sent equals the one we hold, in time that depends on neither: both
 * are hashed first, so even their lengths are compared without a shortcut.
 */
export function secretsEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
