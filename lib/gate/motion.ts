import { insidePolygon, type Point } from '../objects/geometry';

/** How the motion detector decides, all in the camera picture's own terms. */
export interface MotionSettings {
  /** Width of the grey copy motion is measured on (height keeps the aspect). Default 160. */
  width: number;
  /** Brightness change (0..255) that counts a pixel as changed. Default 25. */
  pixelThreshold: number;
  /** Share of (unmasked) pixels that must change for a frame to count as motion, 0..1. Default 0.01 (1 %). */
  areaThreshold: number;
  /** Motion must last this long before it counts (a flicker, a compression burst), in ms. Default 300. */
  settleMs: number;
  /**
   * How fast the background follows the picture, as a time constant in ms. Default 1000:
   * something that stops moving becomes background within a few seconds, and a person
   * walking slowly counts with their whole body, not only the sliver that moved since
   * the last frame.
   */
  backgroundMs: number;
  /**
   * Polygons where changes are ignored (trees, a road), in shares of the picture: x from
   * 0 (left) to 1 (right), y from 0 (top) to 1 (bottom). Shares, not pixels, so the mask
   * a user drew fits whatever size the frames arrive at (the capture's longest side,
   * images from the flow).
   */
  mask: Point[][];
}

export const DEFAULT_MOTION: MotionSettings = { width: 160, pixelThreshold: 25, areaThreshold: 0.01, settleMs: 300, backgroundMs: 1_000, mask: [] };

/**
 * Motion from the luma plane of each frame: the host already decodes every frame, so
 * the grey picture costs nothing to get (the first plane of I420 is it), and a 160-pixel
 * wide sample makes the comparison a few thousand subtractions a frame. A frame "moves"
 * when enough unmasked pixels differ from the background, a running average of the
 * recent pictures (comparing with the previous frame only sees the edges of a slow
 * object: a person crossing a doorway in six seconds changed under 1 % of the picture
 * from frame to frame, and the gate never opened); motion is reported once that has
 * lasted `settleMs`.
 */
export class MotionDetector {
  private readonly settings: MotionSettings;
  /** The running average of the small pictures; undefined until the first frame (and after a reset). */
  private background: Float32Array | undefined;
  private lastAt = 0;
  private size: { width: number; height: number; sourceWidth: number; sourceHeight: number } | undefined;
  private weights: Uint8Array | undefined;
  private counted = 0;
  private movingSince: number | undefined;
  /** Share of pixels that changed in the last frame (for stats and tuning). */
  lastChange = 0;

  constructor(settings: Partial<MotionSettings> = {}) {
    this.settings = { ...DEFAULT_MOTION, ...settings };
  }

  /**
   * Feeds one I420 frame (only its luma plane is read); true while motion has lasted at
   * least `settleMs`.
   */
  frameI420(frame: { width: number; height: number; data: Uint8Array }, at: number): boolean {
    return this.grey(shrinkLuma(frame.data, frame.width, frame.height, this.settings.width), frame.width, frame.height, at);
  }

  /** Feeds a grey picture already made small (decoded images from the flow); same answer as frameI420. */
  grey(small: { width: number; height: number; data: Uint8Array }, sourceWidth: number, sourceHeight: number, at: number): boolean {
    if (this.size?.width !== small.width || this.size.height !== small.height || this.size.sourceWidth !== sourceWidth || this.size.sourceHeight !== sourceHeight) {
      this.size = { width: small.width, height: small.height, sourceWidth, sourceHeight };
      this.weights = this.maskWeights();
      this.background = undefined;
    }
    const background = this.background;
    if (!background) {
      this.background = Float32Array.from(small.data);
      this.lastAt = at;
      return false;
    }
    // The background moves towards this picture by the share of its time constant that passed.
    const alpha = 1 - Math.exp(-Math.max(0, at - this.lastAt) / Math.max(1, this.settings.backgroundMs));
    this.lastAt = at;
    const weights = this.weights as Uint8Array;
    const masked = this.counted < weights.length;
    const pixels = small.data;
    let changed = 0;
    const threshold = this.settings.pixelThreshold;
    for (let index = 0; index < pixels.length; index++) {
      const difference = pixels[index] - background[index];
      if ((difference > threshold || difference < -threshold) && (!masked || weights[index] === 1)) changed++;
      background[index] += alpha * difference;
    }
    this.lastChange = this.counted > 0 ? changed / this.counted : 0;
    if (this.lastChange >= this.settings.areaThreshold) {
      this.movingSince ??= at;
      return at - this.movingSince >= this.settings.settleMs;
    }
    this.movingSince = undefined;
    return false;
  }

  /** Forgets the last picture (after a gap: the next frame is compared with nothing). */
  reset(): void {
    this.background = undefined;
    this.movingSince = undefined;
  }

  /** 1 for pixels that count, 0 for those under the mask; counts the ones that count. */
  private maskWeights(): Uint8Array {
    const { width, height } = this.size as NonNullable<MotionDetector['size']>;
    const weights = new Uint8Array(width * height).fill(1);
    if (this.settings.mask.length > 0) {
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          // The middle of the block this sample stands for, as a share of the picture.
          const point: Point = [(x + 0.5) / width, (y + 0.5) / height];
          if (this.settings.mask.some((polygon) => insidePolygon(point, polygon))) weights[y * width + x] = 0;
        }
      }
    }
    this.counted = weights.reduce((sum, weight) => sum + weight, 0);
    return weights;
  }
}

/**
 * A small copy of a luma plane, about `targetWidth` wide (never wider than the source),
 * aspect kept: one pixel from the middle of each block. Reading 160x90 pixels instead of
 * averaging all of them keeps the gate at a small share of decoding the frame; the
 * thresholds (a brightness step, a share of the picture) absorb the single-pixel noise.
 */
export function shrinkLuma(luma: Uint8Array, width: number, height: number, targetWidth: number): { width: number; height: number; data: Uint8Array } {
  const step = Math.max(1, Math.floor(width / Math.max(1, targetWidth)));
  const outWidth = Math.floor(width / step);
  const outHeight = Math.floor(height / step);
  const data = new Uint8Array(outWidth * outHeight);
  const middle = step >> 1;
  for (let y = 0; y < outHeight; y++) {
    const row = (y * step + middle) * width + middle;
    const out = y * outWidth;
    for (let x = 0; x < outWidth; x++) data[out + x] = luma[row + x * step];
  }
  return { width: outWidth, height: outHeight, data };
}
