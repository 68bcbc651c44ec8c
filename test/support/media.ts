import sharp from 'sharp';

/** Real images made by sharp, so every test file is a genuine encoding. */
export async function makeJpeg(width = 800, height = 600, color = '#3a7'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: color } }).jpeg({ quality: 80 }).toBuffer();
}

export async function makePng(width = 64, height = 48, color = '#c33'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 4, background: color } }).png().toBuffer();
}

/** An animated GIF or WebP with `frames` frames of different colours. */
export async function makeAnimated(format: 'gif' | 'webp', width = 600, height = 300, frames = 3): Promise<Buffer> {
  const colours = ['#f00', '#0f0', '#00f', '#ff0', '#0ff'];
  const frameBuffers = await Promise.all(
    Array.from({ length: frames }, (_, i) =>
      sharp({ create: { width, height, channels: 4, background: colours[i % colours.length] } }).png().toBuffer(),
    ),
  );
  return sharp(frameBuffers, { join: { animated: true } })[format]({ loop: 0, delay: 100 } as never).toBuffer();
}

/** A 24-bit BMP, written by hand (sharp cannot encode BMP). */
export function makeBmp(width = 40, height = 30): Buffer {
  const rowSize = Math.ceil((width * 3) / 4) * 4;
  const pixelBytes = rowSize * height;
  const buf = Buffer.alloc(54 + pixelBytes);
  buf.write('BM', 0, 'latin1');
  buf.writeUInt32LE(54 + pixelBytes, 2);
  buf.writeUInt32LE(54, 10);
  buf.writeUInt32LE(40, 14);
  buf.writeInt32LE(width, 18);
  buf.writeInt32LE(height, 22);
  buf.writeUInt16LE(1, 26);
  buf.writeUInt16LE(24, 28);
  buf.writeUInt32LE(pixelBytes, 34);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const o = 54 + y * rowSize + x * 3;
    buf[o] = 200; buf[o + 1] = 100; buf[o + 2] = 50;
  }
  return buf;
}
