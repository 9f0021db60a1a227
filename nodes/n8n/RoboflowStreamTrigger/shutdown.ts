/**
 * Whether n8n is shutting down, for a trigger's closeFunction: n8n calls it both when
 * the workflow is unpublished (or saved, or re-added after an error) and when n8n itself
 * stops, with no argument either way, and ITriggerFunctions says nothing about it
 * (getActivationMode() tells why the trigger was *started*: `init` after an n8n start,
 * `activate`, `update`, `leadershipChange`; nothing tells why it is closed).
 *
 * What n8n does (read in n8n 2.41's BaseCommand and ActiveWorkflows): its commands
 * register `process.once('SIGTERM' | 'SIGINT')` at start-up, before any workflow is
 * published; the handler starts the shutdown, which closes every trigger. A deactivation
 * involves no signal. So a listener of our own on those signals, put in front of n8n's,
 * knows the difference: set when the signal came, before n8n calls any closeFunction.
 *
 * It is added only beside a handler that is already there (n8n's): a process with no
 * handler of its own exits on the signal, and a listener of ours alone would stop that.
 * It is a `once` listener, like n8n's, so a second signal still ends the process at once.
 */
export interface ShutdownSignal {
  /** Starts watching (idempotent); call it when a trigger that cares is activated. */
  watch(): void;
  shuttingDown(): boolean;
}

/** The part of `process` this uses (a plain EventEmitter in the tests). */
export interface SignalSource {
  listenerCount(event: string): number;
  prependOnceListener(event: string, listener: () => void): unknown;
}

export const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

export class ShutdownWatch implements ShutdownSignal {
  private signalled = false;
  private readonly watched = new Set<string>();

  constructor(private readonly source: SignalSource = process) {}

  watch(): void {
    for (const signal of SHUTDOWN_SIGNALS) {
      if (this.watched.has(signal) || this.source.listenerCount(signal) === 0) continue;
      this.watched.add(signal);
      this.source.prependOnceListener(signal, () => {
        this.signalled = true;
      });
    }
  }

  shuttingDown(): boolean {
    return this.signalled;
  }
}

/** One watch for the n8n process. */
export const n8nShutdown = new ShutdownWatch();
