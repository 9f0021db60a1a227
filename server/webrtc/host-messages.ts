import type { Behaviour } from '../behaviour';
import type { WorkerConfig, WorkerSummary } from './worker';

/**
 * The messages between the local server and its WebRTC worker process (IPC, JSON).
 * WebRTC runs in a process of its own because the native module can crash the process
 * it runs in (a data channel closed by the peer while a result is being sent: see
 * worker-host.ts); the server then ends that worker's sessions and starts a new one.
 */
export type ToHost =
  | { type: 'behaviour'; behaviour: Behaviour }
  | { type: 'start'; config: WorkerConfig; offer: RTCSessionDescriptionInit }
  | { type: 'end'; id: string; reason: string }
  | { type: 'summaries'; requestId: number }
  | { type: 'shutdown' };

export type FromHost =
  | { type: 'answer'; id: string; answer: RTCSessionDescriptionInit }
  | { type: 'failed'; id: string; message: string }
  | { type: 'ended'; id: string; summary: WorkerSummary }
  | { type: 'summaries'; requestId: number; summaries: WorkerSummary[] }
  | { type: 'corruption-spent' }
  | { type: 'log'; line: string };
