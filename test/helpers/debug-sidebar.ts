import { createRequire } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from '../../scripts/lib/node-red-process';

/** One message as the editor's Debug sidebar receives it. */
export interface DebugMessage {
  /** The debug node's id and name. */
  id: string;
  name?: string;
  /** The shown value, as Node-RED encodes it for the sidebar (JSON text, or a string). */
  msg: string;
  format?: string;
}

interface WebSocketLike {
  on(event: 'open' | 'close', listener: () => void): void;
  on(event: 'message', listener: (data: Buffer | string) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  send(data: string): void;
  close(): void;
}

/**
 * Listens to a running Node-RED's editor channel (/comms) the way the editor does and
 * keeps what the Debug sidebar would show: a test sees exactly what a user sees.
 * Uses the `ws` client that Node-RED itself depends on.
 */
export async function debugSidebar(nodeRedUrl: string, token?: string): Promise<{ messages: DebugMessage[]; close(): void }> {
  const require = createRequire(join(REPO_ROOT, 'package.json'));
  const WebSocket = require(require.resolve('ws', { paths: [require.resolve('node-red/package.json')] })) as new (url: string) => WebSocketLike;
  const socket = new WebSocket(`${nodeRedUrl.replace(/^http/, 'ws')}/comms`);
  const messages: DebugMessage[] = [];
  await new Promise<void>((resolve, reject) => {
    socket.on('open', () => resolve());
    socket.on('error', reject);
  });
  if (token) socket.send(JSON.stringify({ auth: token }));
  socket.send(JSON.stringify({ subscribe: 'debug' }));
  socket.on('message', (data) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(String(data));
    } catch {
      return;
    }
    for (const item of Array.isArray(parsed) ? parsed : [parsed]) {
      const entry = item as { topic?: string; data?: DebugMessage };
      if (entry.topic === 'debug' && entry.data) messages.push(entry.data);
    }
  });
  return { messages, close: () => socket.close() };
}
