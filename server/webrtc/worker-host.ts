import { fork, type ChildProcess } from 'node:child_process';
import { extname, join } from 'node:path';
import type { Behaviour } from '../behaviour';
import type { FromHost, ToHost } from './host-messages';
import { initialSummary, type WorkerConfig, type WorkerSummary } from './worker';

/** How long a listing waits for the worker process before it answers what it last knew. */
const SUMMARY_WAIT_MS = 2_000;
/** How long a shutdown waits for the worker process before it is killed. */
const SHUTDOWN_WAIT_MS = 3_000;

/**
 * One streaming session as the server sees it: the session itself runs in the worker
 * process (host.ts). Ending it here takes effect at once for the server (the stream
 * limit, listings); the worker's own account of the session replaces this one when it
 * arrives.
 */
export class WorkerHandle {
  readonly config: WorkerConfig;
  private latest: WorkerSummary;
  /** Ended as far as the server is concerned: it no longer counts against the stream limit. */
  private isEnded = false;
  private isSettled = false;
  private negotiation: { resolve: (answer: RTCSessionDescriptionInit) => void; reject: (error: Error) => void } | undefined;

  constructor(
    config: WorkerConfig,
    private readonly host: WorkerHost,
    private readonly onEnded: (handle: WorkerHandle, summary: WorkerSummary) => void,
  ) {
    this.config = config;
    this.latest = initialSummary(config, new Date());
  }

  /** The worker process has said its last word on the session (or is gone). */
  get settled(): boolean {
    return this.isSettled;
  }

  /** The last known listing of the session (fresh after `WorkerHost.refresh`). */
  get summary(): WorkerSummary {
    return this.latest;
  }

  /** Starts the session in the worker process; resolves with the answer to the offer. */
  negotiate(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    return new Promise((resolve, reject) => {
      this.negotiation = { resolve, reject };
      this.host.send({ type: 'start', config: this.config, offer });
    });
  }

  /** Ends the session (client gone, terminate call, shutdown). Idempotent. */
  end(reason: string): void {
    if (this.isEnded) return;
    this.host.send({ type: 'end', id: this.config.id, reason });
    this.isEnded = true;
    this.latest = this.endedNow(reason);
    this.onEnded(this, this.latest);
  }

  /** A message from the worker process about this session. */
  receive(message: FromHost): void {
    if (message.type === 'answer') {
      this.negotiation?.resolve(message.answer);
      this.negotiation = undefined;
    } else if (message.type === 'failed') {
      this.negotiation?.reject(new Error(message.message));
      this.negotiation = undefined;
    } else if (message.type === 'ended') {
      // The worker's own account, with its final counts, replaces what the server assumed.
      this.settle(message.summary);
    }
  }

  update(summary: WorkerSummary): void {
    if (!this.isEnded) this.latest = summary;
  }

  /** The worker process is gone: the session ends with it (a session already ended keeps its reason). */
  lost(reason: string): void {
    this.settle(this.isEnded ? this.latest : this.endedNow(reason));
  }

  /** The last known listing, ended now for `reason`. */
  private endedNow(reason: string): WorkerSummary {
    return { ...this.latest, state: 'ended', endedAt: new Date().toISOString(), endedReason: reason };
  }

  private settle(summary: WorkerSummary): void {
    if (this.isSettled) return;
    this.isSettled = true;
    this.isEnded = true;
    this.latest = summary;
    this.negotiation?.reject(new Error(summary.endedReason ?? 'the session ended'));
    this.negotiation = undefined;
    this.onEnded(this, summary);
  }
}

/**
 * The local server's WebRTC worker process. @roamhq/wrtc can take down the process it
 * runs in: a peer that closes its data channel while a result is being sent races the
 * module's own clean-up (RTCDataChannel::Send reads the channel again after its state
 * check, while the signalling thread clears it), a SIGSEGV no JavaScript can catch.
 * Hosted Roboflow runs each session in a worker of its own; so does this server, in
 * one process for all sessions: when it dies, its sessions end with a clear reason (their
 * clients reconnect as from any worker crash), the server keeps serving, and the next
 * session starts a new worker process.
 */
export class WorkerHost {
  private child: ChildProcess | undefined;
  private readonly handles = new Map<string, WorkerHandle>();
  private readonly listings = new Map<number, (summaries: WorkerSummary[]) => void>();
  private nextRequest = 1;
  private closing = false;
  private crashCount = 0;

  constructor(
    private readonly behaviour: Behaviour,
    private readonly log: (line: string) => void,
  ) {}

  /** The worker process's id, once started (tests end it to prove the server survives). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** How often the worker process died without being asked to. */
  get crashes(): number {
    return this.crashCount;
  }

  /** A new session handle; the session starts in the worker process with `negotiate`. */
  create(config: WorkerConfig, onEnded: (handle: WorkerHandle, summary: WorkerSummary) => void): WorkerHandle {
    const handle = new WorkerHandle(config, this, (ended, summary) => {
      if (ended.settled) this.handles.delete(ended.config.id);
      onEnded(ended, summary);
    });
    this.handles.set(config.id, handle);
    return handle;
  }

  /** Starts the worker process now, so the first session does not wait for it. */
  warmUp(): void {
    if (!this.closing) this.ensure();
  }

  /** Behaviour changed (POST /local/faults): the worker process reads its own copy. */
  behaviourChanged(): void {
    if (this.child) this.post(this.child, { type: 'behaviour', behaviour: this.behaviour });
  }

  send(message: ToHost): void {
    if (this.closing) return;
    // An end for a session whose worker process is gone has nothing to reach.
    if (message.type === 'end' && !this.child) return;
    this.post(this.ensure(), message);
  }

  /** Fresh listings of the running sessions from the worker process (or the last known, if it does not answer). */
  async refresh(): Promise<void> {
    const child = this.child;
    if (!child || this.handles.size === 0) return;
    const requestId = this.nextRequest++;
    const summaries = await new Promise<WorkerSummary[]>((resolve) => {
      const timer = setTimeout(() => {
        this.listings.delete(requestId);
        resolve([]);
      }, SUMMARY_WAIT_MS);
      this.listings.set(requestId, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      this.post(child, { type: 'summaries', requestId });
    });
    for (const summary of summaries) this.handles.get(summary.id)?.update(summary);
  }

  /** Ends the worker process and waits for it (server close). */
  async close(): Promise<void> {
    this.closing = true;
    const child = this.child;
    // Cleared on exit: a child still here is running.
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.post(child, { type: 'shutdown' });
    const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_WAIT_MS);
    await exited;
    clearTimeout(timer);
  }

  /** Synchronous, for the way out of a crashing server: the worker process ends its cameras and exits. */
  closeNow(): void {
    this.closing = true;
    try {
      this.child?.kill('SIGTERM');
    } catch {
      // Already gone.
    }
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    // The same runtime flags (tsx when the server runs from source), the same file type.
    const child = fork(join(__dirname, `host${extname(__filename)}`), [], {
      execArgv: process.execArgv.filter((flag) => !flag.startsWith('--inspect')),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    child.on('message', (message) => this.receive(message as FromHost));
    child.on('error', (error) => this.log(`worker process: ${error.message}`));
    child.once('exit', (code, signal) => this.exited(child, code, signal));
    this.post(child, { type: 'behaviour', behaviour: this.behaviour });
    return child;
  }

  private post(child: ChildProcess, message: ToHost): void {
    if (!child.connected) return;
    // The callback keeps a closed channel from becoming an 'error' event: exit handles it.
    child.send(message, () => undefined);
  }

  private receive(message: FromHost): void {
    switch (message.type) {
      case 'log':
        this.log(message.line);
        break;
      case 'corruption-spent':
        this.behaviour.corruptResults.count = Math.max(0, this.behaviour.corruptResults.count - 1);
        break;
      case 'summaries':
        this.listings.get(message.requestId)?.(message.summaries);
        this.listings.delete(message.requestId);
        break;
      default:
        this.handles.get(message.id)?.receive(message);
    }
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = undefined;
    for (const answer of this.listings.values()) answer([]);
    this.listings.clear();
    if (this.closing) return;
    this.crashCount++;
    const reason = signal ? `the worker process crashed (${signal})` : `the worker process exited (code ${code})`;
    const lost = [...this.handles.values()];
    this.log(`${reason}; ${lost.length} session(s) ended with it; the next session starts a new worker process`);
    for (const handle of lost) handle.lost(reason);
  }
}
