import sharp from 'sharp';

/**
 * Distinct, photo-like test pictures made by sharp from SVG: a gradient sky or wall, a few
 * shapes of random size, colour and place, a line of text, and grain. Each seed gives one
 * picture; `palette` keeps the colours of another seed with a different layout (a different
 * picture "of similar colours").
 */

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['harbour', 'summer', 'garden', 'station', 'market', 'river', 'village', 'morning', 'festival', 'mountain', 'kitchen', 'library'];

export interface VariedImageOptions {
  width?: number;
  height?: number;
  /** Take the colours from this seed instead (same palette, different picture). */
  paletteSeed?: number;
}

function paletteOf(seed: number): string[] {
  const rnd = random(seed * 7919 + 1);
  const baseHue = Math.floor(rnd() * 360);
  return Array.from({ length: 6 }, (_, i) => `hsl(${(baseHue + i * 25 + Math.floor(rnd() * 20)) % 360}, ${40 + Math.floor(rnd() * 50)}%, ${25 + Math.floor(rnd() * 50)}%)`);
}

export function variedSvg(seed: number, options: VariedImageOptions = {}): string {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const rnd = random(seed);
  const colours = paletteOf(options.paletteSeed ?? seed);
  const pick = () => colours[Math.floor(rnd() * colours.length)];
  const angle = Math.floor(rnd() * 180);
  const parts: string[] = [];
  parts.push(`<defs><linearGradient id="g" gradientTransform="rotate(${angle} .5 .5)"><stop offset="0" stop-color="${pick()}"/><stop offset="1" stop-color="${pick()}"/></linearGradient>`);
  parts.push(`<radialGradient id="r"><stop offset="0" stop-color="${pick()}"/><stop offset="1" stop-color="${pick()}" stop-opacity="0"/></radialGradient></defs>`);
  parts.push(`<rect width="${width}" height="${height}" fill="url(#g)"/>`);
  const shapes = 3 + Math.floor(rnd() * 8);
  for (let i = 0; i < shapes; i++) {
    const x = Math.floor(rnd() * width);
    const y = Math.floor(rnd() * height);
    const size = Math.floor((0.08 + rnd() * 0.4) * Math.min(width, height));
    const opacity = (0.5 + rnd() * 0.5).toFixed(2);
    switch (Math.floor(rnd() * 4)) {
      case 0:
        parts.push(`<circle cx="${x}" cy="${y}" r="${size / 2}" fill="${pick()}" opacity="${opacity}"/>`);
        break;
      case 1:
        parts.push(`<rect x="${x - size / 2}" y="${y - size / 3}" width="${size}" height="${(size * 2) / 3}" fill="${pick()}" opacity="${opacity}" transform="rotate(${Math.floor(rnd() * 90)} ${x} ${y})"/>`);
        break;
      case 2: {
        const points = Array.from({ length: 3 + Math.floor(rnd() * 3) }, () => `${x + (rnd() - 0.5) * size * 2},${y + (rnd() - 0.5) * size * 2}`).join(' ');
        parts.push(`<polygon points="${points}" fill="${pick()}" opacity="${opacity}"/>`);
        break;
      }
      default:
        parts.push(`<ellipse cx="${x}" cy="${y}" rx="${size}" ry="${size / 2}" fill="url(#r)"/>`);
    }
  }
  const word = `${WORDS[Math.floor(rnd() * WORDS.length)]} ${1990 + Math.floor(rnd() * 35)}`;
  parts.push(`<text x="${Math.floor(rnd() * width * 0.5)}" y="${Math.floor(height * (0.2 + rnd() * 0.7))}" font-family="sans-serif" font-size="${Math.floor(height / (8 + rnd() * 8))}" fill="${pick()}">${word}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${parts.join('')}</svg>`;
}

/** Grain on top, so the picture compresses like a photo rather than like flat art. */
export async function makeVariedImage(seed: number, options: VariedImageOptions = {}, format: 'jpeg' | 'png' = 'jpeg'): Promise<Buffer> {
  const width = options.width ?? 640;
  const height = options.height ?? 480;
  const rnd = random(seed ^ 0x5bd1e995);
  const noise = Buffer.alloc(width * height);
  for (let i = 0; i < noise.length; i++) noise[i] = Math.floor(rnd() * 40);
  const grain = await sharp(noise, { raw: { width, height, channels: 1 } }).toColourspace('srgb').png().toBuffer();
  const picture = sharp(Buffer.from(variedSvg(seed, options))).composite([{ input: grain, blend: 'overlay' }]);
  return format === 'png' ? picture.png().toBuffer() : picture.jpeg({ quality: 88 }).toBuffer();
}
