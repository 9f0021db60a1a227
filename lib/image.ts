import sharp from 'sharp';
import { RoboflowError } from './errors';

/**
 * Every image the engine decodes goes through here, with the same two bounds: the
 * decoded size is capped (a 776 KB PNG can claim 16000x16000 pixels, 1 GB of RGBA), and
 * anything larger than the working size is scaled down while it is decoded (libvips
 * streams the rows and shrinks JPEGs as they load), so memory stays bounded whatever
 * arrives.
 */

/** The image formats we accept (by their first bytes, whatever the file is called). */
export type ImageType = 'jpeg' | 'png' | 'webp';

/** Decoded pixels at most (width x height), unless configured: 50 MP, above an 8K frame (33 MP) and most camera stills. */
export const DEFAULT_MAX_INPUT_PIXELS = 50_000_000;

/** Longest side after decoding, unless configured: larger images are scaled down to it. */
export const DEFAULT_MAX_SIDE = 1920;

export interface ImageLimits {
  /** Longest side of the decoded result; larger images are scaled down (aspect kept). Default 1920. */
  maxSide?: number;
  /** Pixels an input may have at most; larger ones are refused before decoding. Default 50 MP. */
  maxInputPixels?: number;
}

/** The type of an encoded image from its magic bytes; undefined for anything else. */
export function imageType(bytes: Uint8Array): ImageType | undefined {
  if (bytes.byteLength >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.byteLength >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47 && bytes[4] === 0x0d && bytes[5] === 0x0a && bytes[6] === 0x1a && bytes[7] === 0x0a)
    return 'png';
  if (bytes.byteLength >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, end));
}

export const MIME_TYPES: Record<ImageType, string> = { jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp' };

function limitsOf(limits: ImageLimits): Required<ImageLimits> {
  const maxSide = Math.floor(Number(limits.maxSide ?? DEFAULT_MAX_SIDE));
  const maxInputPixels = Math.floor(Number(limits.maxInputPixels ?? DEFAULT_MAX_INPUT_PIXELS));
  return {
    maxSide: Number.isFinite(maxSide) && maxSide >= 2 ? maxSide : DEFAULT_MAX_SIDE,
    maxInputPixels: Number.isFinite(maxInputPixels) && maxInputPixels >= 4 ? maxInputPixels : DEFAULT_MAX_INPUT_PIXELS,
  };
}

function megapixels(pixels: number): string {
  return `${Math.round(pixels / 100_000) / 10} MP`;
}

export interface ImageSize {
  width: number;
  height: number;
  /** sharp's name for the format (jpeg, png, webp, gif, ...). */
  format: string;
}

/**
 * The size of an encoded image, read from its header only (nothing is decoded). Throws
 * a clear invalid-input error for what is not a readable image, or for an image larger
 * than `maxInputPixels`. `what` names the image in messages ("Frame", "Snapshot image").
 */
export async function readImageSize(image: Uint8Array, limits: ImageLimits = {}, what = 'The image'): Promise<ImageSize> {
  const { maxInputPixels } = limitsOf(limits);
  let metadata: sharp.Metadata;
  try {
    metadata = await sharp(image, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new RoboflowError('invalid-input', `${what} is not a readable image: ${(error as Error).message}`, { cause: error });
  }
  const width = metadata.width ?? 0;
  const height = metadata.height ?? 0;
  if (!width || !height) throw new RoboflowError('invalid-input', `${what} has no size: not a JPEG, PNG or WebP image`);
  if (width * height > maxInputPixels) {
    throw new RoboflowError(
      'invalid-input',
      `${what} is ${width}x${height} (${megapixels(width * height)}): larger than the ${megapixels(maxInputPixels)} that are decoded at most; send a smaller image`,
    );
  }
  return { width, height, format: metadata.format ?? 'unknown' };
}

/** The size of `width`x`height` scaled to fit `maxSide` (never enlarged). */
export function fitInside(width: number, height: number, maxSide: number): { width: number; height: number } {
  const longest = Math.max(width, height);
  if (longest <= maxSide) return { width, height };
  const scale = maxSide / longest;
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

export interface OpenedImage {
  /** A sharp pipeline that decodes within the pixel cap and scales down to the working size. */
  pipeline: sharp.Sharp;
  /** The size of the encoded image. */
  source: ImageSize;
  /** The size the pipeline produces (the source's, or smaller). */
  size: { width: number; height: number };
}

/**
 * Opens an encoded image for decoding within the limits: refused (clear error) when it
 * has more pixels than allowed, scaled down while decoding when it is larger than the
 * working size. Add output steps to `pipeline` (raw(), jpeg(), composite(), ...).
 */
export async function openImage(image: Uint8Array, limits: ImageLimits = {}, what = 'The image'): Promise<OpenedImage> {
  const { maxSide, maxInputPixels } = limitsOf(limits);
  const source = await readImageSize(image, { maxInputPixels }, what);
  const size = fitInside(source.width, source.height, maxSide);
  // failOn 'error': a truncated or corrupt image is an error, not a grey half-picture.
  let pipeline = sharp(image, { failOn: 'error', limitInputPixels: maxInputPixels, sequentialRead: true });
  if (size.width !== source.width || size.height !== source.height) pipeline = pipeline.resize(size.width, size.height, { fit: 'fill' });
  return { pipeline, source, size };
}
