import type sharp from 'sharp';
import { RoboflowError } from '../errors';
import { openImage, type ImageLimits } from '../image';
import { i420Size, loadWrtc, type RawFrame, type VideoSource } from './wrtc';

export interface DecodedFrame {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel. */
  rgba: Buffer;
}

/**
 * Decodes a JPEG, PNG or WebP (or any format sharp reads) into RGBA with even dimensions
 * (I420 halves them for chroma; an odd last row/column is dropped). Within `limits`: an
 * image with more pixels than `maxInputPixels` (default 50 MP) is refused before it is
 * decoded, and one larger than `maxSide` (default 1920 on its longest side) is scaled down
 * while it is decoded, so a small file claiming a huge size never takes gigabytes.
 */
export async function decodeImage(image: Uint8Array, limits: ImageLimits = {}): Promise<DecodedFrame> {
  if (!(image instanceof Uint8Array) || image.byteLength === 0) {
    throw new RoboflowError('invalid-input', 'Frame is empty: send a JPEG or PNG image as a Buffer');
  }
  const { pipeline } = await openImage(image, limits, 'Frame');
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await pipeline.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new RoboflowError('invalid-input', `Frame is not a readable image: ${(error as Error).message}`, { cause: error });
  }
  const { width, height } = decoded.info;
  const evenWidth = width - (width % 2);
  const evenHeight = height - (height % 2);
  if (evenWidth < 2 || evenHeight < 2) throw new RoboflowError('invalid-input', `Frame of ${width}x${height} is too small`);
  if (evenWidth === width && evenHeight === height) return { width, height, rgba: decoded.data };
  const cropped = Buffer.allocUnsafe(evenWidth * evenHeight * 4);
  for (let row = 0; row < evenHeight; row++) {
    decoded.data.copy(cropped, row * evenWidth * 4, row * width * 4, row * width * 4 + evenWidth * 4);
  }
  return { width: evenWidth, height: evenHeight, rgba: cropped };
}

/**
 * A view of `bytes` that owns its whole ArrayBuffer: the native converters check the
 * size of the underlying buffer, and small Node buffers share a pooled one.
 */
export function ownedClamped(bytes: Uint8Array | Uint8ClampedArray): Uint8ClampedArray {
  if (bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return new Uint8ClampedArray(bytes.buffer, 0, bytes.byteLength);
  const copy = new Uint8ClampedArray(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** RGBA to I420 through libyuv (inside @roamhq/wrtc). */
export function rgbaToI420(frame: DecodedFrame): RawFrame {
  const { nonstandard } = loadWrtc();
  const i420: RawFrame = { width: frame.width, height: frame.height, data: new Uint8ClampedArray(i420Size(frame.width, frame.height)) };
  nonstandard.rgbaToI420({ width: frame.width, height: frame.height, data: ownedClamped(frame.rgba) }, i420);
  return i420;
}

export interface PushOutcome {
  /** False when a newer frame replaced this one before it could be sent. */
  sent: boolean;
  width?: number;
  height?: number;
}

/**
 * The local video track of a `frames` session: image buffers in, I420 frames out to
 * WebRTC. Decoding runs on sharp's thread pool; while one frame decodes, at most
 * `maxQueued` more wait, and the oldest waiting frame is dropped beyond that (a live
 * source wants the newest picture, not a growing backlog).
 */
export class ImageFrameSource {
  readonly track: MediaStreamTrack;
  private readonly source: VideoSource;
  private readonly queue: Array<{ image: Uint8Array; settle: (outcome: PushOutcome) => void; fail: (error: unknown) => void }> = [];
  private decoding = false;
  private stopped = false;
  framesSent = 0;
  framesDropped = 0;

  private readonly maxQueued: number;
  private readonly limits: ImageLimits;

  /**
   * `options`: how many frames may wait while one decodes (default 4), and the decoding
   * limits (`maxSide`, default 1920; `maxInputPixels`, default 50 MP). A number is taken
   * as `maxQueued`.
   */
  constructor(options: number | ({ maxQueued?: number } & ImageLimits) = {}) {
    const { maxQueued = 4, ...limits } = typeof options === 'number' ? { maxQueued: options } : options;
    this.maxQueued = maxQueued;
    this.limits = limits;
    const { nonstandard } = loadWrtc();
    this.source = new nonstandard.RTCVideoSource();
    this.track = this.source.createTrack();
  }

  /** Queues an encoded image; resolves once it went to the track (or was dropped). */
  push(image: Uint8Array): Promise<PushOutcome> {
    if (this.stopped) return Promise.reject(new RoboflowError('invalid-input', 'The stream is not running'));
    return new Promise((settle, fail) => {
      this.queue.push({ image, settle, fail });
      while (this.queue.length > this.maxQueued) {
        this.framesDropped++;
        this.queue.shift()?.settle({ sent: false });
      }
      void this.drain();
    });
  }

  /** Sends an already decoded RGBA frame (benchmarks, generated frames). */
  pushRgba(frame: DecodedFrame): void {
    if (this.stopped) return;
    this.source.onFrame(rgbaToI420(frame));
    this.framesSent++;
  }

  /** Sends an I420 frame as it is. */
  pushI420(frame: RawFrame): void {
    if (this.stopped) return;
    this.source.onFrame(frame);
    this.framesSent++;
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const waiting of this.queue.splice(0)) waiting.settle({ sent: false });
    this.track.stop();
  }

  private async drain(): Promise<void> {
    if (this.decoding) return;
    this.decoding = true;
    try {
      for (let next = this.queue.shift(); next && !this.stopped; next = this.queue.shift()) {
        try {
          const decoded = await decodeImage(next.image, this.limits);
          if (this.stopped) {
            next.settle({ sent: false });
            break;
          }
          this.source.onFrame(rgbaToI420(decoded));
          this.framesSent++;
          next.settle({ sent: true, width: decoded.width, height: decoded.height });
        } catch (error) {
          next.fail(error);
        }
      }
    } finally {
      this.decoding = false;
    }
  }
}
