import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Every delivery carries `X-Shoebox-Timestamp: <unix seconds>` and
 * `X-Shoebox-Signature: sha256=<hex>`, the HMAC-SHA256 under the hook's secret of the string
 * `<timestamp>.<raw body>` (the timestamp as sent, a dot, the body bytes as sent). A receiver
 * recomputes it, compares in constant time, and refuses timestamps older than a few minutes
 * (replays); docs/API.md shows how.
 */
export function signedString(timestamp: number | string, body: string | Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.isBuffer(body) ? body : Buffer.from(body)]);
}

export function signDelivery(secret: string, timestamp: number | string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(signedString(timestamp, body)).digest('hex')}`;
}

/** Checks a signature and the age of its timestamp (default: five minutes either way). */
export function verifyDelivery(secret: string, header: string, timestamp: string, body: string | Buffer, now = Date.now(), toleranceSeconds = 300): boolean {
  if (!/^\d+$/.test(timestamp) || Math.abs(now / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signDelivery(secret, timestamp, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
