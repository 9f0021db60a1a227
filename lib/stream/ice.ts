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
      if (sdp.includes('a=candidate:')) {
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

/** How a connected session's media and data travel: straight to the server, or through a TURN relay. */
export interface ConnectionPath {
  path: 'direct' | 'relay';
  /** For a relay: how this machine reaches it (`udp`, `tcp` or `tls`). */
  protocol?: string;
}

/** Reads the selected candidate pair from the connection's stats. Undefined when the stats do not say. */
export async function connectionPath(pc: RTCPeerConnection): Promise<ConnectionPath | undefined> {
  let report: RTCStatsReport;
  try {
    report = await pc.getStats();
  } catch {
    return undefined;
  }
  const stats = new Map<string, Record<string, unknown>>();
  report.forEach((value: Record<string, unknown>) => stats.set(String(value.id), value));
  let pairId: string | undefined;
  for (const value of stats.values()) {
    if (value.type === 'transport' && typeof value.selectedCandidatePairId === 'string') pairId = value.selectedCandidatePairId;
  }
  if (!pairId) {
    for (const value of stats.values()) {
      if (value.type === 'candidate-pair' && value.state === 'succeeded' && value.nominated === true) pairId = String(value.id);
    }
  }
  const pair = pairId ? stats.get(pairId) : undefined;
  const local = pair ? stats.get(String(pair.localCandidateId)) : undefined;
  if (!local) return undefined;
  if (local.candidateType !== 'relay') return { path: 'direct' };
  const protocol = typeof local.relayProtocol === 'string' ? local.relayProtocol : typeof local.protocol === 'string' ? local.protocol : undefined;
  return { path: 'relay', ...(protocol ? { protocol } : {}) };
}

/** True for a TURN URL that reaches the relay over TCP or TLS (`turns:`, or `?transport=tcp`). */
export function isTcpTurnUrl(url: string): boolean {
  return /^turns:/i.test(url) || /[?&]transport=tcp\b/i.test(url);
}

/**
 * Puts the TURN URLs that travel over TCP/TLS first in every server: for networks that
 * block UDP (corporate firewalls, some mobile links), as Roboflow's Python SDK does
 * after its UDP probe fails (docs/protocol.md §2.3).
 */
export function preferTcpTurn(servers: RTCIceServer[]): RTCIceServer[] {
  return servers.map((server) => {
    const urls = Array.isArray(server.urls) ? server.urls : [server.urls];
    return { ...server, urls: [...urls.filter(isTcpTurnUrl), ...urls.filter((url) => !isTcpTurnUrl(url))] };
  });
}

/** The first `turn:` URL that uses UDP, as host and port, for the probe. */
export function udpTurnTarget(servers: RTCIceServer[]): { host: string; port: number } | undefined {
  for (const server of servers) {
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      const match = /^turn:(\[[^\]]+\]|[^:?]+)(?::(\d+))?(\?.*)?$/i.exec(url);
      if (!match || isTcpTurnUrl(url)) continue;
      return { host: match[1].replace(/^\[|\]$/g, ''), port: match[2] ? Number(match[2]) : 3478 };
    }
  }
  return undefined;
}

/**
 * Whether UDP reaches a STUN/TURN server: one STUN Binding request (RFC 5389), answered
 * within `timeoutMs` or not. Never throws.
 */
export async function udpReaches(target: { host: string; port: number }, timeoutMs = 1_500): Promise<boolean> {
  const { createSocket } = await import('node:dgram');
  const { isIPv6 } = await import('node:net');
  const { randomBytes } = await import('node:crypto');
  return new Promise((resolve) => {
    const socket = createSocket(isIPv6(target.host) ? 'udp6' : 'udp4');
    const transaction = randomBytes(12);
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request
    request.writeUInt16BE(0, 2);
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    transaction.copy(request, 8);
    let settled = false;
    const finish = (reached: boolean): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.close();
      resolve(reached);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('message', (message) => {
      // Any STUN answer to our transaction (success or error) proves the path works.
      if (message.length >= 20 && message.readUInt32BE(4) === 0x2112a442 && message.subarray(8, 20).equals(transaction)) finish(true);
    });
    socket.on('error', () => finish(false));
    socket.send(request, target.port, target.host, (error) => {
      if (error) finish(false);
    });
  });
}
