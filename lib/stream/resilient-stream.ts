import { sleep } from '../backoff';
import { RoboflowError, toRoboflowError } from '../errors';
import { TypedEmitter } from '../events';
import { safeLogger, type Logger } from '../logger';
import type { PushOutcome } from './frame-source';
import { DEFAULT_RECONNECT, isFatal, reconnectDelay, type ReconnectPolicy } from './reconnect';
import { StreamSession, type CloseReason, type StreamEvents, type StreamOptions, type StreamStats } from './session';

/** `idle`: not started, or a lost session that `shouldReconnect` chose not to replace (start() again to resume). */
export type ResilientState = 'idle' | 'connecting' | 'streaming' | 'reconnecting' | 'complete' | 'failed' | 'stopped';

export interface ResilientStreamEvents extends StreamEvents {
  /** A live stream lost its session (or could not open one) and will try again. */
  reconnecting: [{ attempt: number; delayMs: number; error: RoboflowError }];
  state: [ResilientState];
}

export interface ResilientStreamOptions extends StreamOptions {
  reconnect?: Partial<ReconnectPolicy>;
  /**
   * Asked before replacing a lost session (after the policy said it may); false leaves
   * the stream idle until start() is called again. E.g. a frames source that has had
   * no frame for a while need not hold a session open.
   */
  shouldReconnect?: (error: RoboflowError) => boolean;
}

/** Events passed through from each session unchanged. */
const FORWARDED = ['connected', 'result', 'video-frame', 'progress', 'complete', 'error'] as const;

/**
 * A stream that heals: live sources (frames, RTSP, MJPEG) reconnect with capped
 * exponential backoff and jitter after a dropped connection or a transient failure,
 * never running two sessions at once. Errors a retry cannot fix (bad key, unknown
 * workflow, ...) end it. Files never reconnect: a restart would repeat results.
 */
export class ResilientStream extends TypedEmitter<ResilientStreamEvents> {
  private readonly options: ResilientStreamOptions;
  private readonly policy: ReconnectPolicy;
  private readonly logger: Logger;
  private session: StreamSession | undefined;
  private stopping = new AbortController();
  private loop: Promise<void> | undefined;
  private running = false;
  private _state: ResilientState = 'idle';
  private attempts = 0;
  private totalReconnects = 0;
  private outputs: { dataOutputs?: string[]; streamOutputs?: string[] } = {};

  constructor(options: ResilientStreamOptions) {
    const logger = safeLogger(options.logger);
    super((error) => logger.error(`Stream: ${(error as Error)?.message ?? String(error)}`));
    this.options = options;
    this.logger = logger;
    this.policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
  }

  get state(): ResilientState {
    return this._state;
  }

  /** Reconnects so far, over the stream's whole life. */
  get reconnects(): number {
    return this.totalReconnects;
  }

  get stats(): StreamStats | undefined {
    return this.session?.stats;
  }

  /** Starts the stream in the background (again, after it ended); follow it through events. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopping = new AbortController();
    this.attempts = 0;
    this.loop = this.run().finally(() => {
      this.running = false;
    });
  }

  /** True between start() and the end of the stream (stopped, complete, failed, idle). */
  get active(): boolean {
    return this.running;
  }

  /** Stops for good: ends the current session and any pending reconnect. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.session?.stop();
    await this.loop;
    if (this._state !== 'complete' && this._state !== 'failed') this.setState('stopped');
  }

  async pushFrame(image: Uint8Array): Promise<PushOutcome> {
    const session = this.session;
    if (!session || (session.state !== 'streaming' && session.state !== 'connecting')) {
      throw new RoboflowError('invalid-input', this._state === 'reconnecting' ? 'The stream is reconnecting; frame skipped' : 'The stream is not running');
    }
    return session.pushFrame(image);
  }

  /** Changes outputs now and for every later session. */
  reconfigure(outputs: { dataOutputs?: string[]; streamOutputs?: string[] }): void {
    this.outputs = { ...this.outputs, ...outputs };
    if (this.session?.state === 'streaming') this.session.reconfigure(outputs);
  }

  ack(frameId: number): void {
    this.session?.ack(frameId);
  }

  private setState(state: ResilientState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
  }

  private async run(): Promise<void> {
    const live = this.options.source.kind !== 'file';
    while (!this.stopping.signal.aborted) {
      this.setState(this.attempts === 0 ? 'connecting' : 'reconnecting');
      const session = new StreamSession({
        ...this.options,
        ...(this.outputs.dataOutputs ? { dataOutputs: this.outputs.dataOutputs } : {}),
        ...(this.outputs.streamOutputs ? { streamOutputs: this.outputs.streamOutputs } : {}),
      });
      this.session = session;
      for (const event of FORWARDED) {
        session.on(event, (...args: unknown[]) => (this.emit as (name: string, ...rest: unknown[]) => boolean)(event, ...args));
      }
      const closed = new Promise<{ reason: CloseReason; error?: RoboflowError }>((resolve) => session.once('closed', resolve));

      let failure: RoboflowError | undefined;
      let connectedAt = 0;
      try {
        await session.start();
        connectedAt = Date.now();
        this.setState('streaming');
        const end = await closed;
        if (end.reason === 'stopped') break;
        if (end.reason === 'complete') {
          this.setState('complete');
          return;
        }
        failure = end.error ?? new RoboflowError('network', 'The stream ended unexpectedly', { retryable: true });
      } catch (caught) {
        if (this.stopping.signal.aborted) break;
        failure = toRoboflowError(caught, 'webrtc');
      }

      if (!live || isFatal(failure) || this.attempts + 1 > this.policy.maxAttempts) {
        this.emit('error', failure);
        this.setState('failed');
        return;
      }
      if (this.options.shouldReconnect && !this.options.shouldReconnect(failure)) {
        this.logger.info(`Stream ended (${failure.message}); not reconnecting until started again`);
        this.setState('idle');
        return;
      }
      if (connectedAt && Date.now() - connectedAt >= this.policy.stableAfterMs) this.attempts = 0;
      this.attempts++;
      this.totalReconnects++;
      const delayMs = reconnectDelay(this.attempts, failure, this.policy);
      this.logger.warn(`Stream lost (${failure.message}); reconnect ${this.attempts} in ${delayMs} ms`);
      this.setState('reconnecting');
      this.emit('reconnecting', { attempt: this.attempts, delayMs, error: failure });
      try {
        await sleep(delayMs, this.stopping.signal);
      } catch {
        break;
      }
    }
  }
}
