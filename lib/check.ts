import type { RoboflowConnection } from './config';
import { isRoboflowError, toRoboflowError } from './errors';
import { HttpClient } from './http/client';

export interface ConnectionCheck {
  ok: boolean;
  /** One line for the user: what works, or what to fix. */
  message: string;
  key: 'accepted' | 'rejected' | 'unknown';
  server: 'reachable' | 'unreachable';
}

/**
 * Checks a connection the way a "test connection" button should: the key against the
 * REST API (an authenticated call that costs nothing), and that the streaming server
 * answers HTTP at all. Never throws.
 */
export async function checkConnection(connection: RoboflowConnection, http?: HttpClient): Promise<ConnectionCheck> {
  const client = http ?? new HttpClient({ apiKey: connection.apiKey });
  try {
    let key: ConnectionCheck['key'] = 'unknown';
    let keyProblem: string | undefined;
    try {
      await client.request({ method: 'GET', url: `${connection.apiUrl}/webrtc_turn_config`, auth: 'query', operation: 'check-key', timeoutMs: 10_000, retry: false });
      key = 'accepted';
    } catch (caught) {
      const error = toRoboflowError(caught);
      if (error.code === 'invalid-api-key' || error.code === 'forbidden') key = 'rejected';
      keyProblem = error.message;
    }
    let server: ConnectionCheck['server'] = 'reachable';
    let serverProblem: string | undefined;
    try {
      await client.request({ method: 'GET', url: `${connection.serverUrl}/`, operation: 'stream', timeoutMs: 10_000, retry: false, responseType: 'none' });
    } catch (caught) {
      // Any HTTP answer (even 404) proves the server is there; only transport failures do not.
      if (!isRoboflowError(caught) || caught.status === undefined) {
        server = 'unreachable';
        serverProblem = toRoboflowError(caught).message;
      }
    }
    const ok = key === 'accepted' && server === 'reachable';
    const parts = [
      key === 'accepted' ? `API key accepted by ${connection.apiUrl}` : (keyProblem ?? 'API key could not be checked'),
      server === 'reachable' ? `streaming server ${connection.serverUrl} reachable` : (serverProblem ?? 'streaming server unreachable'),
    ];
    // One host for both (a self-hosted or local server) that is down: say it once.
    const message = parts[0] === parts[1] ? parts[0] : parts.join('; ');
    return { ok, key, server, message };
  } finally {
    if (!http) await client.close();
  }
}
