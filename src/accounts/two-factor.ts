import { createHash, randomBytes } from 'node:crypto';
import * as OTPAuth from 'otpauth';
import { acceptTotpStep, spendRecoveryCode } from '../db/repositories/account-security.js';
import type { Kysely } from 'kysely';
import type { Database, UserRow } from '../db/schema.js';

/**
 * Two-factor sign-in with TOTP (RFC 6238: 6 digits, 30 seconds, SHA-1, what every
 * authenticator app speaks) through the otpauth library, and recovery codes. A code is
 * accepted once: the step it belongs to is recorded and a code of that step or an older one is
 * refused afterwards (acceptTotpStep).
 */
const PERIOD_SECONDS = 30;
export const RECOVERY_CODE_COUNT = 10;

function totpOf(secret: string, issuer = 'Shoebox', label = 'account'): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period: PERIOD_SECONDS, secret: OTPAuth.Secret.fromBase32(secret) });
}

/** A fresh 160-bit secret, base32 (what apps accept typed in). */
export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

/** The otpauth:// URI an authenticator app reads from the QR code. */
export function totpUri(secret: string, issuer: string, accountName: string): string {
  return totpOf(secret, issuer, accountName).toString();
}

/** The QR code of the URI as a PNG data URL: drawn here, no outside service sees the secret. */
export async function totpQrDataUrl(uri: string): Promise<string> {
  // qrcode is loaded when the first code is drawn, not at start.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 220 });
}

/** The 30-second step `code` belongs to (this one or one either side, for clock drift), or null. */
export function matchTotpCode(secret: string, code: string, now = Date.now()): number | null {
  const digits = code.replace(/\s+/g, '');
  if (!/^\d{6}$/.test(digits)) return null;
  const delta = totpOf(secret).validate({ token: digits, timestamp: now, window: 1 });
  return delta === null ? null : Math.floor(now / 1000 / PERIOD_SECONDS) + delta;
}

/** The code an app shows at `now` (tests, and nothing else, need this). */
export function totpCodeAt(secret: string, now: number): string {
  return totpOf(secret).generate({ timestamp: now });
}

/** Recovery codes as shown once to their owner (`xxxxx-xxxxx`), and their hashes, which are all the site keeps. */
export function newRecoveryCodes(): { codes: string[]; hashes: string[] } {
  const alphabet = 'abcdefghjkmnpqrstuvwxyz23456789';
  const codes = Array.from({ length: RECOVERY_CODE_COUNT }, () => {
    const bytes = randomBytes(10);
    const chars = [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

/** Case, spaces and dashes don't matter when a code is typed back. */
export function hashRecoveryCode(code: string): string {
  return createHash('sha256').update(code.toLowerCase().replace(/[\s-]+/g, '')).digest('hex');
}

/**
 * Checks the second factor of a sign-in: a current TOTP code (spent), or one of the user's
 * unused recovery codes (spent). Null when neither.
 */
export async function verifySecondFactor(db: Kysely<Database>, user: UserRow, input: string, now = Date.now()): Promise<'totp' | 'recovery' | null> {
  const text = input.trim();
  if (!user.totp_enabled || !user.totp_secret || !text || text.length > 40) return null;
  if (/^\d[\d\s]*$/.test(text)) {
    const step = matchTotpCode(user.totp_secret, text, now);
    return step !== null && (await acceptTotpStep(db, user.id, step)) ? 'totp' : null;
  }
  return (await spendRecoveryCode(db, user.id, hashRecoveryCode(text))) ? 'recovery' : null;
}
