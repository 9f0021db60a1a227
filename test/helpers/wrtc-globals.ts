import { loadWrtc, type Wrtc } from '../../lib/stream/wrtc';

/**
 * Makes @roamhq/wrtc the global WebRTC, as a browser would provide it, so that the
 * official browser-first SDK runs in Node unchanged.
 */
export function installWrtcGlobals(): Wrtc {
  const wrtc = loadWrtc();
  Object.assign(globalThis, { RTCPeerConnection: wrtc.RTCPeerConnection, MediaStream: wrtc.MediaStream });
  return wrtc;
}
