import { registerUrlPassword } from '../../lib/redact';
import { DEFAULT_BEHAVIOUR, copyBehaviour, type Behaviour, type CorruptionKind } from '../behaviour';
import { killAllChildren } from '../media/children';
import type { FromHost, ToHost } from './host-messages';
import { WorkerSession, initialSummary } from './worker';

/**
 * The local server's WebRTC worker process (started by worker-host.ts): runs the
 * streaming sessions the server hands it, and nothing else. It ends with the server:
 * when the IPC channel closes, on SIGTERM, and on `shutdown`.
 */

const sessions = new Map<string, WorkerSession>();
let behaviour: Behaviour = copyBehaviour(DEFAULT_BEHAVIOUR);

function post(message: FromHost): void {
  // The server may be gone already (it is shutting down): nothing is left to tell.
  if (process.connected) process.send?.(message);
}

function log(line: string): void {
  post({ type: 'log', line });
}

function takeCorruption(): CorruptionKind | undefined {
  const corrupt = behaviour.corruptResults;
  if (corrupt.count <= 0) return undefined;
  corrupt.count--;
  post({ type: 'corruption-spent' });
  return corrupt.kind;
}

async function start(message: Extract<ToHost, { type: 'start' }>): Promise<void> {
  if (message.config.remoteSource) registerUrlPassword(message.config.remoteSource.url);
  let session: WorkerSession;
  try {
    session = new WorkerSession(message.config, {
      behaviour: () => behaviour,
      log,
      takeCorruption,
      onEnded: (ended) => {
        sessions.delete(ended.config.id);
        post({ type: 'ended', id: ended.config.id, summary: ended.summary });
      },
    });
  } catch (error) {
    post({ type: 'failed', id: message.config.id, message: (error as Error).message });
    post({ type: 'ended', id: message.config.id, summary: { ...initialSummary(message.config, new Date()), state: 'ended', endedReason: `could not start: ${(error as Error).message}` } });
    return;
  }
  sessions.set(message.config.id, session);
  try {
    const answer = await session.negotiate(message.offer);
    post({ type: 'answer', id: message.config.id, answer });
  } catch (error) {
    // The reason first, then the end (whose 'ended' would otherwise settle the start with less).
    post({ type: 'failed', id: message.config.id, message: (error as Error).message });
    session.end(`could not start: ${(error as Error).message}`);
  }
}

function shutdown(code: number): never {
  for (const session of [...sessions.values()]) session.end('server shutting down');
  killAllChildren();
  process.exit(code);
}

process.on('message', (raw) => {
  const message = raw as ToHost;
  switch (message.type) {
    case 'behaviour':
      behaviour = message.behaviour;
      break;
    case 'start':
      void start(message);
      break;
    case 'end':
      sessions.get(message.id)?.end(message.reason);
      break;
    case 'summaries':
      post({ type: 'summaries', requestId: message.requestId, summaries: [...sessions.values()].map((session) => session.summary) });
      break;
    case 'shutdown':
      shutdown(0);
  }
});
// The server went away (it crashed, or was killed): its workers and their cameras go too.
process.on('disconnect', () => shutdown(0));
process.on('SIGTERM', () => shutdown(0));
process.on('SIGINT', () => shutdown(0));
