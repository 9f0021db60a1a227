import { FrameReader, type DecodedFrame, type StreamInfo } from './frame-reader';

/** A frame picked from a video at a sampling rate. */
export interface SampledFrame {
  /** 0-based frame number in the source video. */
  offset: number;
  /** Seconds from the start, rounded to the millisecond. */
  time: number;
  frame: DecodedFrame;
}

export interface SampleOptions {
  /** Frames per second to keep (every frame when unset). */
  fps?: number;
  /** Refuses a video once its stream is described (throw to stop), e.g. a rate above the video's. */
  check?(info: StreamInfo): void;
  /** Holds the running reader, so a closing server can stop it. */
  readers?: Set<FrameReader>;
}

/**
 * Decodes every frame of a video and keeps one per 1/fps seconds, so the kept frames'
 * offsets are exact source frame numbers (what video job results report). Resolves
 * with the stream's description once the video ended.
 */
export function sampleVideo(input: string, onFrame: (sample: SampledFrame, info: StreamInfo | undefined) => void, options: SampleOptions = {}): Promise<StreamInfo | undefined> {
  return new Promise<StreamInfo | undefined>((resolve, reject) => {
    let info: StreamInfo | undefined;
    let nextSample = 0;
    let failed = false;
    const reader = new FrameReader(
      { input },
      {
        onInfo: (streamInfo) => {
          info = streamInfo;
          try {
            options.check?.(streamInfo);
          } catch (error) {
            failed = true;
            reader.stop();
            reject(error);
          }
        },
        onFrame: (frame) => {
          if (failed) return;
          const sourceFps = info?.sourceFps || 30;
          const offset = frame.index - 1;
          const seconds = offset / sourceFps;
          if (options.fps) {
            if (seconds + 1e-6 < nextSample) return;
            nextSample += 1 / options.fps;
          }
          try {
            onFrame({ offset, time: Math.round(seconds * 1000) / 1000, frame }, info);
          } catch (error) {
            failed = true;
            reader.stop();
            reject(error);
          }
        },
        onEnd: (error) => {
          options.readers?.delete(reader);
          if (failed) return;
          if (error) reject(error);
          else resolve(info);
        },
      },
    );
    options.readers?.add(reader);
    reader.start();
  });
}
