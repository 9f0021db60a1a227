import { sleep } from '../backoff';
import { RoboflowError, toRoboflowError } from '../errors';
import { TypedEmitter } from '../events';
import { safeLogger, type Logger } from '../logger';
import type { PushOutcome } from './frame-source';
import type { RawFrame } from './wrtc';
import { DEFAULT_RECONNECT, isFatal, reconnectDelay, type ReconnectPolicy } from './reconnect';
import { StreamSession, checkReconfigure, type CloseReason, type StreamCompletion, type StreamEvents, type StreamOptions, type StreamStats } from './session';

/**
 * `idle`: not started, or a lost session that `shouldReconnect` chose not to replace
 * (start() again to resume). `renewing`: a live stream's session reached its processing
 * timeout and a new one is being opened at once.
 */
export type ResilientState = 'idle' | 'connecting' | 'streaming' | 'renewing' | 'reconnecting' | 'complete' | 'failed' | 'stopped';

export interface ResilientStreamEvents extends StreamEvents {
  /**
   * A live stream lost its session (or could not open one) and will try again. `error`
   * says why; code `source-ended` when the camera (or the track) ended the session.
   */
  reconnecting: [{ attempt: number; delayMs: number; error: RoboflowError }];
  /** A live stream's session ended at its processing timeout; a new one starts at once (docs/protocol.md §2.7). */
  renewing: [{ renewals: number }];
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

/**
 * What a platform adapter needs of a live stream, whoever reads the video: the server
 * (ResilientStream) or this machine (CapturedStream).
 */
export interface LiveStream {
  readonly active: boolean;
  readonly state: ResilientState;
  start(): void;
  stop(): Promise<void>;
  reconfigure(outputs: { dataOutputs?: string[]; streamOutputs?: string[] }): void;
  ack(frameId: number): void;
  on<K extends keyof ResilientStreamEvents>(event: K, listener: (...args: ResilientStreamEvents[K]) => void): this;
  removeAllListeners(): this;
}

/** Events passed through from each session unchanged ('complete' only for files: see run()). */
const FORWARDED = ['connected', 'result', 'video-frame', 'progress', 'error'] as const;

interface Outputs {
  dataOutputs?: string[];
  streamOutputs?: string[];
}

/**
 * A stream that heals: live sources (frames, RTSP, MJPEG) reconnect with capped
 * exponential backoff and jitter after a dropped connection or a transient failure,
 * never running two sessions at once. Errors a retry cannot fix (bad key, unknown
 * workflow, ...) end it. Files never reconnect: a restart would repeat results.
 *
 * For a live source the server's `processing_complete` is not the end of the work: the
 * hosted worker ends every session when its processing timeout runs out, and when the
 * camera it pulls ends (docs/protocol.md §2.7). A timeout is renewed at once; a camera
 * that ended is reconnected with the normal backoff (so one that keeps ending within
 * seconds is not hammered). Only files end with `complete`.
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
  private totalRenewals = 0;
  /** Outputs changed by reconfigure(): applied to the running session and every later one. */
  private outputs: Outputs = {};

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

  /** Sessions replaced at their processing timeout, over the stream's whole life. */
  get renewals(): number {
    return this.totalRenewals;
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

  /**
   * Sends a raw I420 frame on the running session's video track (a `frames` source fed
   * by a local camera). False when no session is streaming: the frame is dropped, as a
   * live source wants the next picture, not a backlog.
   */
  pushRawFrame(frame: RawFrame): boolean {
    const frames = this.session?.state === 'streaming' ? this.session.frames : undefined;
    if (!frames) return false;
    frames.pushI420(frame);
    return true;
  }

  /**
   * Changes outputs now and for every later session. While a session is still being
   * opened the change is applied as soon as it streams. Throws for a change the service
   * would ignore or answer with an error on every frame (see checkReconfigure).
   */
  reconfigure(outputs: Outputs): void {
    checkReconfigure(this.options.streamOutputs, outputs);
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
    let renewing = false;
    while (!this.stopping.signal.aborted) {
      this.setState(renewing ? 'renewing' : this.attempts === 0 ? 'connecting' : 'reconnecting');
      renewing = false;
      const requested = { ...this.outputs };
      const session = new StreamSession({ ...this.options, ...requested });
      this.session = session;
      for (const event of FORWARDED) {
        session.on(event, (...args: unknown[]) => (this.emit as (name: string, ...rest: unknown[]) => boolean)(event, ...args));
      }
      let completion: StreamCompletion | undefined;
      session.on('complete', (done) => {
        completion = done;
        if (!live) this.emit('complete', done);
      });
      const closed = new Promise<{ reason: CloseReason; error?: RoboflowError }>((resolve) => session.once('closed', resolve));

      let failure: RoboflowError | undefined;
      let connectedAt = 0;
      try {
        await session.start();
        connectedAt = Date.now();
        this.applyLateReconfigure(session, requested);
        this.setState('streaming');
        const end = await closed;
        if (end.reason === 'stopped') break;
        if (end.reason === 'complete' && !live) {
          this.setState('complete');
          return;
        }
        if (end.reason === 'complete' && completion?.reason === 'timeout_reached') {
          // Planned: the session ran its processing timeout. Renew at once, no backoff.
          if (this.options.shouldReconnect && !this.options.shouldReconnect(new RoboflowError('source-ended', 'The session reached its processing timeout', { retryable: true }))) {
            this.logger.info('Stream session reached its processing timeout; not renewing until started again');
            this.setState('idle');
            return;
          }
          this.attempts = 0;
          this.totalRenewals++;
          this.logger.info(`Stream session reached its processing timeout; renewing (${this.totalRenewals})`);
          this.emit('renewing', { renewals: this.totalRenewals });
          renewing = true;
          continue;
        }
        failure =
          end.reason === 'complete'
            ? new RoboflowError('source-ended', 'The camera ended the stream (the server completed the session)', { retryable: true })
            : (end.error ?? new RoboflowError('network', 'The stream ended unexpectedly', { retryable: true }));
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
      // The 'reconnecting' event carries it; the platform decides how loudly to say so.
      this.logger.info(`Stream lost (${failure.message}); reconnect ${this.attempts} in ${delayMs} ms`);
      this.setState('reconnecting');
      this.emit('reconnecting', { attempt: this.attempts, delayMs, error: failure });
      try {
        await sleep(delayMs, this.stopping.signal);
      } catch {
        break;
      }
    }
  }

  /** A reconfigure() that arrived while the session was being opened is sent now. */
  private applyLateReconfigure(session: StreamSession, requested: Outputs): void {
    const late: Outputs = {};
    if (this.outputs.dataOutputs && this.outputs.dataOutputs !== requested.dataOutputs) late.dataOutputs = this.outputs.dataOutputs;
    if (this.outputs.streamOutputs && this.outputs.streamOutputs !== requested.streamOutputs) late.streamOutputs = this.outputs.streamOutputs;
    if (!late.dataOutputs && !late.streamOutputs) return;
    try {
      session.reconfigure(late);
    } catch (error) {
      this.emit('error', toRoboflowError(error, 'invalid-input'));
    }
  }
}
