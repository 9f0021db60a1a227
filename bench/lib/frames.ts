import { loadWrtc } from '../../lib/stream/wrtc';

/**
 * Frames for the live benchmarks, with their index written into the picture: every frame
 * is a textured background with a moving block (so the encoder has real work), lifted by
 * one of LEVELS brightness steps chosen by `index % LEVELS`. The local server's lightest
 * workflow (image-stats) reports the mean brightness, from which the index modulo LEVELS
 * is read back: results are matched to the frame they answer even when the encoder or
 * the server drops frames, as long as latency stays under LEVELS frames (533 ms at 30 fps).
 */
export const LEVELS = 16;
const STEP = 12;

export interface I420Frame {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

export interface FrameSet {
  frames: I420Frame[];
  /** Brightness image-stats computes for each level (same sampling and weights). */
  brightness: number[];
}

export function makeFrames(width: number, height: number, count = LEVELS * 4): FrameSet {
  const frames: I420Frame[] = [];
  for (let index = 0; index < count; index++) {
    const data = new Uint8ClampedArray(width * height * 1.5);
    const lift = (index % LEVELS) * STEP;
    const blockX = Math.round(((index % 60) / 60) * (width - 96));
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const texture = 40 + ((x * 7 + y * 13) % 24);
        const inBlock = x >= blockX && x < blockX + 96 && y >= height / 3 && y < height / 3 + 96;
        data[y * width + x] = texture + lift + (inBlock ? 10 : 0);
      }
    }
    data.fill(128, width * height);
    frames.push({ width, height, data });
  }
  const { nonstandard } = loadWrtc();
  const brightness = frames.slice(0, LEVELS).map((frame) => {
    const rgba = new Uint8ClampedArray(width * height * 4);
    nonstandard.i420ToRgba(frame, { width, height, data: rgba });
    let sum = 0;
    let n = 0;
    for (let y = 0; y < height; y += 16) {
      for (let x = 0; x < width; x += 16) {
        const o = (y * width + x) * 4;
        sum += (rgba[o] * 77 + rgba[o + 1] * 150 + rgba[o + 2] * 29) >> 8;
        n++;
      }
    }
    return sum / n;
  });
  return { frames, brightness };
}

/** Matches results to the frames they answer, by the level read from their brightness. */
export class LatencyMatcher {
  private readonly sentAt: number[] = [];
  readonly latencies: number[] = [];
  unmatched = 0;

  constructor(private readonly brightness: number[]) {}

  sent(index: number, at: number): void {
    this.sentAt[index] = at;
  }

  result(brightness: number, at: number): void {
    let level = 0;
    for (let candidate = 1; candidate < LEVELS; candidate++) {
      if (Math.abs(this.brightness[candidate] - brightness) < Math.abs(this.brightness[level] - brightness)) level = candidate;
    }
    // The newest frame of that level sent before the result arrived.
    for (let index = this.sentAt.length - 1; index >= 0; index--) {
      if (index % LEVELS === level && this.sentAt[index] !== undefined && this.sentAt[index] <= at) {
        this.latencies.push(at - this.sentAt[index]);
        return;
      }
    }
    this.unmatched++;
  }
}
