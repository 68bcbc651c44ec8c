import { readFile, open, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata, type Sharp, type SharpOptions } from 'sharp';
import decodeBmp from 'decode-bmp';
import { errors, ShoeboxError } from '../core/errors.js';
import type { MediaFormat } from './formats.js';
import { decodeHeic } from './heic.js';
import type { MetadataBlocks } from './metadata.js';
import { perceptualHashOf } from './perceptual-hash.js';

export interface ImageLimits {
  maxPixels: number;
  maxFrames: number;
}

/**
 * All frames of an animation together may hold this many times the still-image pixel limit:
 * sharp holds an animation as one tall image, so frames × frame size is what decoding costs.
 */
export const ANIMATION_PIXEL_FACTOR = 10;

export interface ImageProbe {
  /** Upright dimensions (EXIF orientation applied), of one frame for animations. */
  width: number;
  height: number;
  frames: number;
  isAnimated: boolean;
  /** EXIF, XMP and IPTC blocks as found in the header (nothing decoded). */
  blocks: MetadataBlocks;
  /** HEIF only: the primary image's index and its codec (sharp decodes AV1 itself, HEVC needs heic-decode). */
  heif?: { primaryIndex: number; compression: string | undefined };
}

/** A decoded source sharp cannot open itself (BMP, HEVC-coded HEIC): raw RGBA pixels. */
interface RawPixels {
  data: Buffer;
  width: number;
  height: number;
}

export interface RenderedFile {
  path: string;
  size: number;
  width: number;
  height: number;
}

export interface ImageRenderPlan {
  workDir: string;
  sourcePath: string;
  format: MediaFormat;
  probe: ImageProbe;
  /** Extension of the stored main file and its derivatives. */
  outputExtension: string;
  /** Resize the stored file to this width (height follows the ratio). */
  resizeWidth?: number;
  /** Re-encode the main file even without a resize (conversion, metadata stripping). */
  rewriteMain: boolean;
  /**
   * Metadata a re-encoded main file keeps: `keep` = EXIF/XMP/IPTC/ICC (Orientation reset, the
   * pixels being upright), `icc` = the colour profile only. Derivatives never carry metadata.
   */
  mainMetadata: 'keep' | 'icc';
  /** Time limit of decoders that run outside sharp (HEIC). */
  decodeTimeoutMs: number;
  maxPixels: number;
  thumb: { width: number; height: number };
  mediumWidth: number;
}

export interface ImageRenderResult {
  /** The stored main file: the upload itself unless it had to be rewritten. */
  main: RenderedFile & { rewritten: boolean };
  thumb: RenderedFile;
  medium: RenderedFile | null;
  /** 64-bit perceptual hash (16 hex digits) from a 32×32 grey version cut from the same decode; null if it failed. */
  phash: string | null;
}

sharp.cache({ memory: 64, files: 0, items: 100 });

function isAnimatable(format: MediaFormat): boolean {
  return format.name === 'gif' || format.name === 'webp';
}

/** BMP header: width at byte 18, height at 22 (negative for top-down rows). */
async function readBmpDimensions(file: string): Promise<{ width: number; height: number }> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(26), 0, 26, 0);
    if (bytesRead < 26) throw errors.unreadable('truncated BMP header');
    return { width: Math.abs(buffer.readInt32LE(18)), height: Math.abs(buffer.readInt32LE(22)) };
  } finally {
    await handle.close();
  }
}

function checkPixels(width: number, height: number, limits: ImageLimits): void {
  if (width < 1 || height < 1) throw errors.unreadable('image has no pixels');
  if (width * height > limits.maxPixels) throw errors.tooManyPixels(limits.maxPixels);
}

/**
 * Reads dimensions and animation from the header only; pixel bombs are refused here,
 * before anything is decoded.
 */
export async function probeImage(file: string, format: MediaFormat, limits: ImageLimits): Promise<ImageProbe> {
  if (format.name === 'bmp') {
    const { width, height } = await readBmpDimensions(file);
    checkPixels(width, height, limits);
    return { width, height, frames: 1, isAnimated: false, blocks: {} };
  }
  let meta: Metadata;
  try {
    meta = await sharp(file, { animated: isAnimatable(format), limitInputPixels: false }).metadata();
  } catch (error) {
    throw errors.unreadable((error as Error).message);
  }
  const blocks: MetadataBlocks = { exif: meta.exif, xmp: meta.xmp, iptc: meta.iptc };
  if (format.name === 'heic') {
    // The header's size is already after libheif's rotation (irot); EXIF Orientation is not applied on top.
    if (!meta.width || !meta.height) throw errors.unreadable('no dimensions in HEIF header');
    checkPixels(meta.width, meta.height, limits);
    return {
      width: meta.width, height: meta.height, frames: 1, isAnimated: false, blocks,
      heif: { primaryIndex: meta.pagePrimary ?? 0, compression: meta.compression },
    };
  }
  const animatable = isAnimatable(format);
  const frames = animatable ? meta.pages ?? 1 : 1;
  const frameHeight = (animatable ? meta.pageHeight : undefined) ?? meta.height;
  if (!meta.width || !frameHeight) throw errors.unreadable('no dimensions in header');
  checkPixels(meta.width, frameHeight, limits);
  if (frames > limits.maxFrames) {
    throw errors.tooManyFrames(limits.maxFrames);
  }
  if (frames > 1 && meta.width * frameHeight * frames > limits.maxPixels * ANIMATION_PIXEL_FACTOR) {
    throw errors.animationTooLarge(limits.maxPixels * ANIMATION_PIXEL_FACTOR);
  }
  const upright = meta.autoOrient ?? { width: meta.width, height: frameHeight };
  return {
    width: frames > 1 ? meta.width : upright.width,
    height: frames > 1 ? frameHeight : upright.height,
    frames,
    isAnimated: frames > 1,
    blocks,
  };
}

async function decodeRawSource(plan: ImageRenderPlan): Promise<RawPixels | null> {
  if (plan.format.name === 'heic' && plan.probe.heif?.compression !== 'av1') {
    return decodeHeic(plan.sourcePath, { index: plan.probe.heif?.primaryIndex ?? 0, maxPixels: plan.maxPixels, timeoutMs: plan.decodeTimeoutMs });
  }
  if (plan.format.name !== 'bmp') return null;
  try {
    const decoded = decodeBmp(await readFile(plan.sourcePath));
    return { data: Buffer.from(decoded.data.buffer, decoded.data.byteOffset, decoded.data.byteLength), width: decoded.width, height: decoded.height };
  } catch (error) {
    throw errors.unreadable(`BMP: ${(error as Error).message}`);
  }
}

function openSource(plan: ImageRenderPlan, raw: RawPixels | null, animated: boolean): Sharp {
  const options: SharpOptions = { limitInputPixels: plan.probe.width * plan.probe.height * Math.max(1, plan.probe.frames) + 1, failOn: 'error' };
  if (raw) return sharp(raw.data, { ...options, raw: { width: raw.width, height: raw.height, channels: 4 } });
  // HEIF comes out of libheif upright; its EXIF Orientation repeats the container's rotation.
  if (plan.format.name === 'heic') return sharp(plan.sourcePath, options);
  return sharp(plan.sourcePath, { ...options, animated }).autoOrient();
}

function encodeAs(pipeline: Sharp, extension: string): Sharp {
  switch (extension) {
    case 'jpg':
    case 'jpeg':
      return pipeline.jpeg({ quality: 88, mozjpeg: false });
    case 'png':
      return pipeline.png({ compressionLevel: 6 });
    case 'webp':
      return pipeline.webp({ quality: 85 });
    case 'gif':
      return pipeline.gif();
    case 'avif':
      return pipeline.avif({ quality: 55, effort: 2 });
    default:
      throw new Error(`no encoder for ${extension}`);
  }
}

async function writeFile(pipeline: Sharp, target: string): Promise<RenderedFile> {
  try {
    const info = await pipeline.toFile(target);
    return { path: target, size: info.size, width: info.width, height: info.pageHeight ?? info.height };
  } catch (error) {
    if (error instanceof ShoeboxError) throw error;
    throw errors.unreadable((error as Error).message);
  }
}

/** Above this many pixels a shared decoded copy costs more memory than the second decode it saves. */
const MAX_SHARED_DECODE_PIXELS = 4_000_000;

/**
 * Decodes the source once, already shrunk to the smallest size that both the thumb (cover
 * crop) and the medium can still be cut from, and returns that raw image for them to share.
 * sharp's clone() shares the input, not the decoded pixels, so without this every derivative
 * decodes the whole file again; JPEG and WebP also decode straight at the reduced scale
 * (shrink-on-load). Null when the shared copy would be large: then each derivative streams
 * from the source on its own.
 *
 * What comes back makes a new sharp instance over the same pixels for each derivative: sharp
 * (0.35) clone()s with structuredClone, which copies a Buffer input, so cloning the raw image
 * would copy it once per derivative (bench/ingest.ts).
 */
async function decodeOnceForDerivatives(
  source: Sharp,
  width: number,
  height: number,
  thumb: { width: number; height: number },
  mediumWidth: number,
): Promise<(() => Sharp) | null> {
  const coverWidth = Math.ceil(width * Math.max(thumb.width / width, thumb.height / height));
  const targetWidth = Math.min(width, Math.max(mediumWidth, coverWidth));
  if (targetWidth * Math.ceil((height * targetWidth) / width) > MAX_SHARED_DECODE_PIXELS) return null;
  try {
    const { data, info } = await source.resize({ width: targetWidth }).raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    const raw = { width: info.width, height: info.height, channels: info.channels };
    return () => sharp(data, { raw });
  } catch (error) {
    throw errors.unreadable((error as Error).message);
  }
}

/**
 * Writes the stored main file (when it must change), the thumb (centre crop, never upscaled)
 * and the medium (for images wider than the medium width, and for every animation). One decode of the source
 * feeds the thumb, the medium and the perceptual hash (decodeOnceForDerivatives).
 */
export async function renderImageFiles(plan: ImageRenderPlan): Promise<ImageRenderResult> {
  const raw = await decodeRawSource(plan);
  const animated = plan.probe.isAnimated;
  const ext = plan.outputExtension;
  const out = (suffix: string) => path.join(plan.workDir, `out${suffix}.${ext}`);

  let mainWidth = plan.probe.width;
  let mainHeight = plan.probe.height;
  let main: ImageRenderResult['main'];
  const rewrite = plan.rewriteMain || plan.resizeWidth !== undefined || raw !== null;
  if (rewrite) {
    let pipeline = openSource(plan, raw, animated);
    if (plan.resizeWidth !== undefined) pipeline = pipeline.resize({ width: plan.resizeWidth });
    pipeline = plan.mainMetadata === 'keep' ? pipeline.keepMetadata() : pipeline.keepIccProfile();
    const written = await writeFile(encodeAs(pipeline, ext), out(''));
    main = { ...written, rewritten: true };
    mainWidth = written.width;
    mainHeight = written.height;
  } else {
    main = { path: plan.sourcePath, size: (await stat(plan.sourcePath)).size, width: mainWidth, height: mainHeight, rewritten: false };
  }

  // Derivatives come from the stored main file when it was rewritten (already upright and resized).
  const opened = rewrite ? sharp(main.path, { failOn: 'error' }) : openSource(plan, null, false);
  const thumbTarget = { width: Math.min(plan.thumb.width, mainWidth), height: Math.min(plan.thumb.height, mainHeight) };
  const still = (animated ? null : await decodeOnceForDerivatives(opened, mainWidth, mainHeight, thumbTarget, mainWidth > plan.mediumWidth ? plan.mediumWidth : 0)) ?? (() => opened.clone());
  const thumbJob = writeFile(
    encodeAs(still().resize({ ...thumbTarget, fit: 'cover', position: 'centre' }), ext),
    out('.th'),
  );
  let mediumJob: Promise<RenderedFile> | null = null;
  // Animations always get a medium (as Chevereto does): the animated preview the viewer shows.
  if (mainWidth > plan.mediumWidth || animated) {
    const mediumSource = animated
      ? (rewrite ? sharp(main.path, { animated: true, failOn: 'error' }) : openSource(plan, raw, true))
      : still();
    mediumJob = writeFile(encodeAs(mediumSource.resize({ width: Math.min(plan.mediumWidth, mainWidth) }), ext), out('.md'));
  }
  // The small grey version for the perceptual hash (moderation's blocklist) comes from the same decode.
  const phashJob = perceptualHashOf(still()).catch(() => null);
  const [thumb, medium, phash] = await Promise.all([thumbJob, mediumJob, phashJob]);
  return { main, thumb, medium, phash };
}

/** Thumb of a video: a centre crop of its frame. */
export async function renderThumbFromFrame(
  framePath: string,
  target: string,
  box: { width: number; height: number },
): Promise<RenderedFile> {
  const meta = await sharp(framePath).metadata();
  const size = { width: Math.min(box.width, meta.width ?? box.width), height: Math.min(box.height, meta.height ?? box.height) };
  return writeFile(sharp(framePath).resize({ ...size, fit: 'cover', position: 'centre' }).jpeg({ quality: 85 }), target);
}
