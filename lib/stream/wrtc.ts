/**
 * WebRTC for Node through @roamhq/wrtc, loaded on first use (its native library is
 * large; nodes that never stream never load it). The standard classes keep their DOM
 * types; the non-standard video source/sink and colour conversions are typed here.
 */

/** A raw video frame. I420: width*height luma bytes then two quarter-size chroma planes. */
export interface RawFrame {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface VideoSource {
  createTrack(): MediaStreamTrack;
  onFrame(frame: RawFrame): void;
}

export interface VideoSink {
  stop(): void;
  readonly stopped: boolean;
  onframe: ((event: { frame: RawFrame }) => void) | null;
}

export interface Wrtc {
  RTCPeerConnection: typeof RTCPeerConnection;
  MediaStream: typeof MediaStream;
  nonstandard: {
    RTCVideoSource: new (init?: { isScreencast?: boolean }) => VideoSource;
    RTCVideoSink: new (track: MediaStreamTrack) => VideoSink;
    i420ToRgba(i420: RawFrame, rgba: RawFrame): void;
    rgbaToI420(rgba: RawFrame, i420: RawFrame): void;
  };
}

let loaded: Wrtc | undefined;

export function loadWrtc(): Wrtc {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('@roamhq/wrtc') as Wrtc;
  return loaded;
}

/** Bytes of an I420 frame of this size (chroma planes round up for odd sizes). */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}
