/** @roamhq/wrtc for the local server, loaded on first use, with its non-standard parts typed. */

export interface I420 {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export interface ServerWrtc {
  RTCPeerConnection: typeof RTCPeerConnection;
  MediaStream: typeof MediaStream;
  nonstandard: {
    RTCVideoSource: new () => { createTrack(): MediaStreamTrack; onFrame(frame: I420): void };
    RTCVideoSink: new (track: MediaStreamTrack) => { stop(): void; onframe: ((event: { frame: I420 }) => void) | null };
    i420ToRgba(i420: I420, rgba: I420): void;
    rgbaToI420(rgba: I420, i420: I420): void;
  };
}

let loaded: ServerWrtc | undefined;

export function wrtc(): ServerWrtc {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  loaded ??= require('@roamhq/wrtc') as ServerWrtc;
  return loaded;
}
