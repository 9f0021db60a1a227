import sharp from 'sharp';
import { ownedClamped } from './frame-source';
import { loadWrtc, type RawFrame, type VideoSink } from './wrtc';

export type VideoOutputFormat = 'i420' | 'jpeg';

export interface VideoFrameEvent {
  /** Counts frames received on the returned track, from 1. */
  index: number;
  width: number;
  height: number;
  format: VideoOutputFormat;
  /** I420 planes, or JPEG bytes. */
  data: Buffer;
  receivedAt: Date;
}

/** I420 to JPEG: libyuv to RGBA, then sharp to JPEG. */
export async function encodeI420AsJpeg(frame: RawFrame, quality = 80): Promise<Buffer> {
  const { nonstandard } = loadWrtc();
  const rgba = new Uint8ClampedArray(frame.width * frame.height * 4);
  nonstandard.i420ToRgba({ width: frame.width, height: frame.height, data: ownedClamped(frame.data) }, { width: frame.width, height: frame.height, data: rgba });
  return sharp(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength), {
    raw: { width: frame.width, height: frame.height, channels: 4 },
  })
    .removeAlpha()
    .jpeg({ quality })
    .toBuffer();
}

/**
 * Receives the processed video the server sends back. In JPEG mode one encode runs at
 * a time and only the newest waiting frame is kept: encoding never queues up behind a
 * fast stream (skipped frames are counted).
 */
export class ProcessedVideoSink {
  private readonly sink: VideoSink;
  private index = 0;
  private encoding = false;
  private waiting: { frame: RawFrame; index: number; receivedAt: Date } | undefined;
  private stopped = false;
  framesSkipped = 0;

  constructor(
    track: MediaStreamTrack,
    private readonly format: VideoOutputFormat,
    private readonly deliver: (frame: VideoFrameEvent) => void,
    private readonly onError: (error: unknown) => void,
    private readonly jpegQuality = 80,
  ) {
    const { nonstandard } = loadWrtc();
    this.sink = new nonstandard.RTCVideoSink(track);
    this.sink.onframe = ({ frame }) => this.receive(frame);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.sink.onframe = null;
    this.sink.stop();
    this.waiting = undefined;
  }

  private receive(frame: RawFrame): void {
    if (this.stopped) return;
    const index = ++this.index;
    const receivedAt = new Date();
    if (this.format === 'i420') {
      this.deliver({ index, width: frame.width, height: frame.height, format: 'i420', data: Buffer.from(frame.data.buffer, frame.data.byteOffset, frame.data.byteLength), receivedAt });
      return;
    }
    if (this.waiting) this.framesSkipped++;
    this.waiting = { frame, index, receivedAt };
    void this.encodeNext();
  }

  private async encodeNext(): Promise<void> {
    if (this.encoding) return;
    this.encoding = true;
    try {
      while (this.waiting && !this.stopped) {
        const { frame, index, receivedAt } = this.waiting;
        this.waiting = undefined;
        try {
          const jpeg = await encodeI420AsJpeg(frame, this.jpegQuality);
          if (!this.stopped) this.deliver({ index, width: frame.width, height: frame.height, format: 'jpeg', data: jpeg, receivedAt });
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      this.encoding = false;
    }
  }
}
