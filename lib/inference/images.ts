import { open, stat } from 'node:fs/promises';
import { RoboflowError } from '../errors';

/**
 * Images as Roboflow's single-image endpoints take them (docs/protocol.md §6.1): base64
 * text or a URL the server fetches. Everything is checked here, before a byte is sent:
 * the size (without reading or decoding more than the limit) and the type, by its magic
 * bytes. Nothing is ever decoded into pixels on the client.
 */

/** Roboflow's hosted API accepts uploads of up to 20 MB; a bigger image gets one clear error here. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** One image, ready for a request: base64 of checked bytes, or an http(s) URL. */
export type ImageInput = { type: 'base64'; value: string; format: ImageFormat; bytes: number } | { type: 'url'; value: string };

export interface ImageCheckOptions {
  /** Largest image accepted, in bytes (default 20 MiB). */
  maxBytes?: number;
  /** What the value is called in messages ("msg.payload", "the binary field"). */
  label?: string;
}

const ACCEPTED = 'a JPEG, PNG or WebP image';

/** The image type from its first bytes, or undefined when it is none we send. */
export function sniffImage(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47 && bytes[4] === 0x0d && bytes[5] === 0x0a && bytes[6] === 0x1a && bytes[7] === 0x0a)
    return 'png';
  if (bytes.length >= 12 && ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return 'webp';
  return undefined;
}

function ascii(bytes: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...bytes.subarray(from, to));
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function tooLarge(label: string, bytes: number, max: number): RoboflowError {
  return new RoboflowError(
    'invalid-input',
    `Image too large: ${label} is ${megabytes(bytes)}, the limit is ${megabytes(max)} (Roboflow's hosted API accepts up to 20 MB): resize or recompress it first`,
  );
}

function notAnImage(label: string, what: string): RoboflowError {
  return new RoboflowError('invalid-input', `Not an image: ${label} ${what}; send ${ACCEPTED}`);
}

function fromBytes(bytes: Uint8Array, label: string, max: number): ImageInput {
  if (bytes.byteLength === 0) throw new RoboflowError('invalid-input', `Empty image: ${label} has no bytes`);
  if (bytes.byteLength > max) throw tooLarge(label, bytes.byteLength, max);
  const format = sniffImage(bytes);
  if (!format) throw notAnImage(label, 'is not');
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { type: 'base64', value: buffer.toString('base64'), format, bytes: bytes.byteLength };
}

const BASE64 = /^[A-Za-z0-9+/\s]+=*\s*$/;

/** Base64 text checked by its length and first bytes only: a 40 MB string is refused before it is decoded. */
function fromBase64(text: string, label: string, max: number): ImageInput {
  const value = text.replace(/\s+/g, '');
  const bytes = Math.floor((value.length * 3) / 4) - (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);
  if (bytes > max) throw tooLarge(label, bytes, max);
  const format = sniffImage(Buffer.from(value.slice(0, 24), 'base64'));
  if (!format) throw notAnImage(label, 'is base64 text but not');
  return { type: 'base64', value, format, bytes };
}

function fromUrl(text: string, label: string): ImageInput {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new RoboflowError('invalid-input', `Invalid image URL in ${label}: ${text.slice(0, 200)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RoboflowError('invalid-input', `Image URLs must start with http:// or https:// (${label})`);
  return { type: 'url', value: url.toString() };
}

/** Reads a file no larger than `max`, checking before reading (a FIFO or a huge file is never read). */
async function fromFile(path: string, label: string, max: number): Promise<ImageInput> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new RoboflowError('invalid-input', `No such image file: ${path} (${label} as text is read as a file path, an http(s) URL or base64 image data)`);
    }
    throw new RoboflowError('invalid-input', `Cannot read image file ${path}: ${(error as Error).message}`);
  }
  if (!info.isFile()) throw new RoboflowError('invalid-input', `Not a file: ${path} (${label} must name an image file)`);
  if (info.size > max) throw tooLarge(path, info.size, max);
  const handle = await open(path, 'r');
  try {
    // One byte more than the limit: a file that grew since stat is still caught.
    const buffer = Buffer.alloc(Math.min(info.size, max) + 1);
    let read = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, read);
      if (bytesRead === 0) break;
      read += bytesRead;
      if (read === buffer.length) break;
    }
    if (read > max) throw tooLarge(path, read, max);
    return fromBytes(buffer.subarray(0, read), path, max);
  } finally {
    await handle.close();
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * One image from what flows carry: a Buffer or Uint8Array (JPEG, PNG, WebP), base64 text
 * or a data: URL, an http(s) URL (sent as a URL: the server fetches it), a file path, or
 * a Roboflow image object (`{type: "base64" | "url", value}`).
 */
export async function toImageInput(source: unknown, options: ImageCheckOptions = {}): Promise<ImageInput> {
  const max = options.maxBytes ?? MAX_IMAGE_BYTES;
  const label = options.label ?? 'the image';
  if (source instanceof Uint8Array) return fromBytes(source, label, max);
  if (isRecord(source) && (source.type === 'base64' || source.type === 'url') && typeof source.value === 'string') {
    return source.type === 'url' ? fromUrl(source.value.trim(), label) : fromBase64(source.value, label, max);
  }
  if (typeof source === 'string') {
    const text = source.trim();
    if (!text) throw new RoboflowError('invalid-input', `Empty image: ${label} is an empty string`);
    if (/^https?:\/\//i.test(text)) return fromUrl(text, label);
    const dataUrl = /^data:([^;,]*)(;base64)?,/i.exec(text);
    if (dataUrl) {
      if (!dataUrl[2]) throw notAnImage(label, 'is a data: URL without base64 data, so it is not');
      return fromBase64(text.slice(dataUrl[0].length), label, max);
    }
    // Base64 image data by its first bytes; long base64-only text (no path is 256
    // characters without a dot) is base64 too, and refused if it is not an image.
    // Anything else is a file path.
    if (text.length >= 16 && BASE64.test(text)) {
      if (sniffImage(Buffer.from(text.slice(0, 24).replace(/\s+/g, ''), 'base64')) || text.length >= 256) return fromBase64(text, label, max);
    }
    return fromFile(text, label, max);
  }
  const type = source === null ? 'null' : Array.isArray(source) ? 'array' : typeof source;
  throw new RoboflowError('invalid-input', `Unsupported image in ${label} (${type}): send a Buffer (${ACCEPTED}), base64 text, an http(s) URL or a file path`);
}

/** Most images one message may carry into one request. */
export const MAX_IMAGES_PER_REQUEST = 16;

/** One image, or several (an array): each checked as `toImageInput` does. */
export async function toImageInputs(source: unknown, options: ImageCheckOptions = {}): Promise<ImageInput[]> {
  if (!Array.isArray(source)) return [await toImageInput(source, options)];
  const label = options.label ?? 'the image';
  if (source.length === 0) throw new RoboflowError('invalid-input', `No image: ${label} is an empty array`);
  if (source.length > MAX_IMAGES_PER_REQUEST) {
    throw new RoboflowError('invalid-input', `Too many images in one message: ${source.length} (at most ${MAX_IMAGES_PER_REQUEST}); send them as separate messages`);
  }
  const max = options.maxBytes ?? MAX_IMAGE_BYTES;
  const inputs: ImageInput[] = [];
  let total = 0;
  for (let index = 0; index < source.length; index++) {
    const input = await toImageInput(source[index], { ...options, label: `${label}[${index}]` });
    // They travel in one request: the limit holds for all of them together.
    total += input.type === 'base64' ? input.bytes : 0;
    if (total > max) throw tooLarge(`${label} (${index + 1} images together)`, total, max);
    inputs.push(input);
  }
  return inputs;
}
