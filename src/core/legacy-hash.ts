import bcrypt from 'bcryptjs';

/**
 * Secrets moved in from Chevereto (passwords, API keys, delete links) are bcrypt hashes made by
 * PHP's password_hash(), `$2y$…`. `$2y$` is the same algorithm as `$2b$` (PHP's name for the
 * fixed implementation), so the hash is checked as stored, with only its prefix read as `$2b$`.
 * Callers move each one to Shoebox's own hash on its first successful use.
 */
export function isLegacyBcrypt(hash: string | null | undefined): hash is string {
  return typeof hash === 'string' && /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash);
}

export async function verifyLegacyBcrypt(hash: string, plain: string): Promise<boolean> {
  if (!isLegacyBcrypt(hash)) return false;
  // bcrypt reads at most 72 bytes, as PHP does; bcryptjs agrees byte for byte.
  return bcrypt.compare(plain, `$2b$${hash.slice(4)}`);
}
