/**
 * The frames a gated stream holds while no session streams: the last seconds before the
 * gate opened (the pre-roll, so the person who set it off is analysed), then what comes
 * while the session connects. Bounded three ways, oldest dropped first: by age (from
 * the newest frame's time), by count and by bytes, so a slow start or large images
 * never grow memory.
 */
export interface PreRollLimits {
  /** Frames older than this (ms before the newest) are dropped. */
  maxAgeMs: number;
  maxFrames: number;
  maxBytes: number;
}

/** Hard caps whatever the pre-roll time: 10 s at 30 fps, and 64 MB of encoded images. */
export const PRE_ROLL_CAPS = { maxFrames: 300, maxBytes: 64 * 1024 * 1024 } as const;

export class PreRoll<T> {
  private readonly frames: Array<{ frame: T; at: number; bytes: number }> = [];
  private bytes = 0;

  /** `dropped` hears every frame let go (too old, over a cap, or cleared), to settle what waits on it. */
  constructor(private readonly dropped: (frame: T) => void = () => undefined) {}

  get size(): number {
    return this.frames.length;
  }

  /** Keeps a frame taken at `at` (ms), then drops the oldest until the limits hold. */
  keep(frame: T, at: number, bytes: number, limits: PreRollLimits): void {
    this.frames.push({ frame, at, bytes });
    this.bytes += bytes;
    while (this.frames.length > 0 && (at - this.frames[0].at > limits.maxAgeMs || this.frames.length > limits.maxFrames || this.bytes > limits.maxBytes)) this.drop();
  }

  /** The oldest frame and its time, taken out (to be sent); undefined when empty. */
  next(): { frame: T; at: number } | undefined {
    const first = this.frames.shift();
    if (!first) return undefined;
    this.bytes -= first.bytes;
    return { frame: first.frame, at: first.at };
  }

  /** Time of the oldest frame held (to pace a burst by the gaps between frames). */
  peekAt(): number | undefined {
    return this.frames[0]?.at;
  }

  clear(): void {
    while (this.frames.length > 0) this.drop();
  }

  private drop(): void {
    const first = this.frames.shift();
    if (!first) return;
    this.bytes -= first.bytes;
    this.dropped(first.frame);
  }
}
