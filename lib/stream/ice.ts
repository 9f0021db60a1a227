import { RoboflowError } from '../errors';
import type { Logger } from '../logger';

/**
 * Waits for ICE gathering to finish: Roboflow's servers take no trickled candidates,
 * so the offer must carry them all. After `timeoutMs` the offer goes out with what was
 * gathered, provided there is at least one candidate.
 */
export function waitForIceGathering(pc: RTCPeerConnection, timeoutMs: number, logger: Logger, signal?: AbortSignal): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      finish();
      reject(new RoboflowError('aborted', 'Stream start cancelled'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const onChange = (): void => {
      if (pc.iceGatheringState === 'complete') {
        finish();
        resolve();
      }
    };
    const timer = setTimeout(() => {
      finish();
      const sdp = pc.localDescription?.sdp ?? '';
      if (/a=candidate:/.test(sdp)) {
        logger.warn(`ICE gathering still running after ${timeoutMs} ms; sending the candidates gathered so far`);
        resolve();
      } else {
        reject(new RoboflowError('webrtc', `No network path found within ${timeoutMs} ms (ICE gathering produced no candidate)`));
      }
    }, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

/** Waits until the peer connection is connected; fails fast on `failed`/`closed`. */
export function waitForConnected(pc: RTCPeerConnection, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (pc.connectionState === 'connected') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const finish = (): void => {
      clearTimeout(timer);
      pc.removeEventListener('connectionstatechange', onChange);
      signal?.removeEventListener('abort', onAbort);
    };
    const onChange = (): void => {
      if (pc.connectionState === 'connected') {
        finish();
        resolve();
      } else if (pc.connectionState === 'failed' || pc.connectionState === 'closed') {
        finish();
        reject(
          new RoboflowError('webrtc', `WebRTC connection ${pc.connectionState}: the server could not be reached over UDP (check firewall/NAT, TURN)`, {
            retryable: true,
          }),
        );
      }
    };
    const onAbort = (): void => {
      finish();
      reject(new RoboflowError('aborted', 'Stream start cancelled'));
    };
    const timer = setTimeout(() => {
      finish();
      reject(new RoboflowError('webrtc', `WebRTC connection not established within ${Math.round(timeoutMs / 1000)} s (check firewall/NAT, TURN)`, { retryable: true }));
    }, timeoutMs);
    pc.addEventListener('connectionstatechange', onChange);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
