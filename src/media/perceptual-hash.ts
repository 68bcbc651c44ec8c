import sharp, { type Sharp } from 'sharp';

/**
 * A 64-bit DCT perceptual hash ("pHash"): the picture shrunk to 32×32 grey pixels, its 2-D
 * DCT, the 8×8 lowest frequencies, one bit per coefficient (above the median of the 63 AC
 * coefficients, or not). Resizing, re-encoding, light crops and colour changes move few bits;
 * different pictures differ in about half of them. Text form: 16 hex digits.
 */

export const GREY_SIZE = 32;
const LOW = 8;

/** cos table of the 1-D DCT-II: COS[u * 32 + x] for u < 8. */
const COS = (() => {
  const table = new Float64Array(LOW * GREY_SIZE);
  for (let u = 0; u < LOW; u++) {
    for (let x = 0; x < GREY_SIZE; x++) table[u * GREY_SIZE + x] = Math.cos(((2 * x + 1) * u * Math.PI) / (2 * GREY_SIZE));
  }
  return table;
})();

/**
 * The 32×32 grey version the hash is computed from, cut from an already decoded (upright)
 * picture. It takes `picture` over: hand in an instance of its own (a clone(), or a new
 * sharp() over shared raw pixels).
 */
export function greyVersion(picture: Sharp): Sharp {
  return picture
    .flatten({ background: '#ffffff' })
    .resize(GREY_SIZE, GREY_SIZE, { fit: 'fill', kernel: 'cubic' })
    .greyscale()
    .raw({ depth: 'uchar' });
}

/** Hash of 32×32 grey pixels (`channels` bytes per pixel, the first one read). */
export function dctHash(pixels: Buffer, channels = 1): string {
  if (pixels.length < GREY_SIZE * GREY_SIZE * channels) throw new Error('dctHash needs 32×32 pixels');
  // Rows first: rowsDct[y * 8 + u] = Σx cos(u, x) · p(x, y).
  const rowsDct = new Float64Array(GREY_SIZE * LOW);
  for (let y = 0; y < GREY_SIZE; y++) {
    for (let u = 0; u < LOW; u++) {
      let sum = 0;
      for (let x = 0; x < GREY_SIZE; x++) sum += COS[u * GREY_SIZE + x] * pixels[(y * GREY_SIZE + x) * channels];
      rowsDct[y * LOW + u] = sum;
    }
  }
  const coefficients = new Float64Array(LOW * LOW);
  for (let v = 0; v < LOW; v++) {
    for (let u = 0; u < LOW; u++) {
      let sum = 0;
      for (let y = 0; y < GREY_SIZE; y++) sum += COS[v * GREY_SIZE + y] * rowsDct[y * LOW + u];
      coefficients[v * LOW + u] = sum;
    }
  }
  const ac = Array.from(coefficients.subarray(1)).sort((a, b) => a - b);
  const median = (ac[31] + ac[32]) / 2;
  let hex = '';
  for (let nibble = 0; nibble < 16; nibble++) {
    let value = 0;
    for (let bit = 0; bit < 4; bit++) {
      const i = nibble * 4 + bit;
      value = (value << 1) | (coefficients[i] > median ? 1 : 0);
    }
    hex += value.toString(16);
  }
  return hex;
}

/** Hash of a decoded picture (the ingest pipeline hands in its one decode), which it takes over (see greyVersion). */
export async function perceptualHashOf(picture: Sharp): Promise<string> {
  const { data, info } = await greyVersion(picture).toBuffer({ resolveWithObject: true });
  return dctHash(data, info.channels);
}

/** Hash of an image file (a video's frame, tests, the blocklist import of files). */
export async function perceptualHashOfFile(file: string | Buffer): Promise<string> {
  return perceptualHashOf(sharp(file, { failOn: 'error' }).autoOrient());
}

function popcount32(n: number): number {
  n -= (n >>> 1) & 0x55555555;
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (((n + (n >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Number of differing bits between two 16-hex-digit hashes. */
export function hammingDistance(a: string, b: string): number {
  return popcount32((parseInt(a.slice(0, 8), 16) ^ parseInt(b.slice(0, 8), 16)) >>> 0) + popcount32((parseInt(a.slice(8), 16) ^ parseInt(b.slice(8), 16)) >>> 0);
}

export { popcount32 };

export function isPerceptualHash(text: unknown): text is string {
  return typeof text === 'string' && /^[0-9a-f]{16}$/.test(text);
}
