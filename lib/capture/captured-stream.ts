import { backoffDelay, type BackoffOptions } from '../backoff';
import { RoboflowError } from '../errors';
import { TypedEmitter } from '../events';
import { safeLogger, type Logger } from '../logger';
import { ResilientStream, type ResilientState, type ResilientStreamEvents, type ResilientStreamOptions } from '../stream/resilient-stream';
import { isFatal } from '../stream/reconnect';
import { MotionDetector, type MotionSettings } from '../gate/motion';
import { SessionGate, type GateDecision, type GateNote, type GateSettings, type GateState } from '../gate/session-gate';
import { hasDetections } from '../gate/detections';
import { captureSettings, describeCamera, type CameraSource, type CaptureSettings } from './camera-source';
import { LocalCamera, type CameraInfo, type CapturedFrame } from './local-camera';

export interface CapturedStreamOptions extends Omit<ResilientStreamOptions, 'source' | 'shouldReconnect' | 'declaredFps'> {
  camera: CameraSource;
  capture?: Partial<CaptureSettings>;
  /** Backoff between attempts to reopen a camera that went away. */
  cameraRetry?: Partial<BackoffOptions>;
  /**
   * How long the Roboflow session is kept while the camera is away. Past it the session
   * is let go (the hosted service would end an idle one after 60 s anyway, billing until
   * then) and a new one starts when the camera is back. Default 45 s.
   */
  keepSessionMs?: number;
  /**
   * Open the Roboflow session only when something happens: motion in the picture, or a
   * gate message (signalGate). Unset: the session runs whenever the camera does.
   */
  gate?: Partial<GateSettings> & { motion?: Partial<MotionSettings> };
}

export type CameraState = 'idle' | 'opening' | 'open' | 'lost' | 'ended' | 'failed';

export interface CapturedStreamEvents extends ResilientStreamEvents {
  'camera-open': [CameraInfo];
  /** The camera went away (or could not be opened) and is tried again after `delayMs`. */
  'camera-lost': [{ attempt: number; delayMs: number; error: RoboflowError }];
  /** A file played as a camera reached its end (without looping). */
  'camera-ended': [];
  'camera-state': [CameraState];
  /** Something to tell the user once (e.g. hardware decoding refused). */
  warning: [string];
  /** A gated stream: watching (no session) or open; `closesInMs` once the quiet time runs. */
  gate: [GateNote];
}

export const DEFAULT_CAMERA_RETRY: BackoffOptions = { initialMs: 1_000, maxMs: 30_000, factor: 2, jitter: 0.3 };
const DEFAULT_KEEP_SESSION_MS = 45_000;
/** A camera that delivered for this long starts its attempt count afresh. */
const CAMERA_STABLE_MS = 30_000;

/** Events of the Roboflow session, passed through unchanged. */
const FORWARDED = ['connected', 'result', 'video-frame', 'progress', 'complete', 'error', 'reconnecting', 'renewing', 'state'] as const;

/**
 * A camera on this machine streamed to Roboflow: the camera (ffmpeg, LocalCamera) and
 * the session (ResilientStream with a `frames` source) fail and recover separately. A
 * camera that drops is reopened with backoff while the session is kept, for a while;
 * a session that drops reconnects on its own while the camera keeps running. Frames go
 * from ffmpeg to the video track as they come; while no session streams they are
 * dropped, never queued.
 */
export class CapturedStream extends TypedEmitter<CapturedStreamEvents> {
  readonly stream: ResilientStream;
  private readonly settings: CaptureSettings;
  private readonly retry: BackoffOptions;
  private readonly keepSessionMs: number;
  private readonly logger: Logger;
  private camera: LocalCamera | undefined;
  private _cameraState: CameraState = 'idle';
  private info: CameraInfo | undefined;
  private attempts = 0;
  private openedAt = 0;
  private lostAt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private releaseTimer: NodeJS.Timeout | undefined;
  private running = false;
  private counters = { framesIn: 0, framesSent: 0, framesDropped: 0 };
  private motionMs = 0;
  /** The last hand-off delays (ms from a frame leaving ffmpeg to the video track), newest last. */
  private readonly handoffs: number[] = [];
  private readonly gate: SessionGate | undefined;
  private readonly motion: MotionDetector | undefined;
  /** Frames waiting for the session: the pre-roll, then what came while it connected. */
  private backlog: CapturedFrame[] = [];
  private pump: NodeJS.Timeout | undefined;
  private gateTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CapturedStreamOptions) {
    const logger = safeLogger(options.logger);
    super((error) => logger.error(`Capture: ${(error as Error)?.message ?? String(error)}`));
    this.logger = logger;
    this.settings = captureSettings(options.capture ?? {});
    this.retry = { ...DEFAULT_CAMERA_RETRY, ...options.cameraRetry };
    this.keepSessionMs = options.keepSessionMs ?? DEFAULT_KEEP_SESSION_MS;
    if (options.gate) {
      this.gate = new SessionGate(options.gate);
      if (this.gate.settings.mode === 'motion') this.motion = new MotionDetector(options.gate.motion);
    }
    this.stream = new ResilientStream({
      ...options,
      source: { kind: 'frames' },
      declaredFps: this.settings.maxFps,
      // A lost session is replaced while the camera is there (or away only briefly), and the gate is open.
      shouldReconnect: () => (!this.gate || this.gate.state === 'open') && (this._cameraState === 'open' || (this._cameraState === 'lost' && Date.now() - this.lostAt < this.keepSessionMs)),
    });
    for (const event of FORWARDED) {
      this.stream.on(event, (...args: unknown[]) => (this.emit as (name: string, ...rest: unknown[]) => boolean)(event, ...args));
    }
    this.stream.on('state', (state) => {
      if (state === 'streaming') this.drainBacklog();
      else if (state === 'failed') void this.sessionFailed();
    });
    this.stream.on('result', (result) => {
      if (this.gate && hasDetections(result.data, this.gate.settings.holdClasses)) this.gate.detections(Date.now());
    });
  }

  /** The gate's state: `watching` (no session) or `open`. Undefined when not gated. */
  get gateState(): GateState | undefined {
    return this.gate?.state;
  }

  /**
   * A gate message (a door sensor, a PIR): true opens the session and holds it, false
   * lets the quiet time run. Works with either gate mode.
   */
  signalGate(open: boolean): void {
    if (!this.gate) throw new RoboflowError('invalid-input', 'This stream has no gate: set the gate to motion or message first');
    this.applyGate(this.gate.signal(open, Date.now()));
  }

  get cameraState(): CameraState {
    return this._cameraState;
  }

  get state(): ResilientState {
    return this.stream.state;
  }

  /** The camera as last opened: its own size and what is sent. */
  get cameraInfo(): CameraInfo | undefined {
    return this.info;
  }

  /** Frames read from the camera, sent on the track, and dropped while no session streamed; time spent measuring motion. */
  get frames(): { framesIn: number; framesSent: number; framesDropped: number; motionMs: number } {
    return { ...this.counters, motionMs: Math.round(this.motionMs * 100) / 100 };
  }

  /** Milliseconds from a frame leaving ffmpeg to the video track, for the last frames sent (benchmarks, stats). */
  get handoffMs(): readonly number[] {
    return this.handoffs;
  }

  /** The running ffmpeg's process id (tests check that none outlives the stream). */
  get ffmpegPid(): number | undefined {
    return this.camera?.pid;
  }

  get active(): boolean {
    return this.running;
  }

  /** Opens the camera; the session starts once the camera delivers its picture. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.attempts = 0;
    if (this.gate) {
      this.gateTimer = setInterval(() => {
        if (!this.gate) return;
        const now = Date.now();
        this.applyGate(this.gate.tick(now));
        if (this.gate.state === 'open') this.emit('gate', { state: 'open', ...(this.gate.closesInMs(now) !== undefined ? { closesInMs: this.gate.closesInMs(now) } : {}) });
      }, 500);
    }
    this.openCamera();
  }

  /** Stops the camera (ffmpeg is killed) and the session. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.retryTimer);
    clearTimeout(this.releaseTimer);
    clearInterval(this.gateTimer);
    clearInterval(this.pump);
    this.pump = undefined;
    this.backlog = [];
    this.gate?.reset();
    const camera = this.camera;
    this.camera = undefined;
    camera?.removeAllListeners();
    await Promise.all([camera?.stop(), this.stream.stop()]);
    if (this._cameraState !== 'failed' && this._cameraState !== 'ended') this.setCameraState('idle');
  }

  reconfigure(outputs: { dataOutputs?: string[]; streamOutputs?: string[] }): void {
    this.stream.reconfigure(outputs);
  }

  ack(frameId: number): void {
    this.stream.ack(frameId);
  }

  private setCameraState(state: CameraState): void {
    if (this._cameraState === state) return;
    this._cameraState = state;
    this.emit('camera-state', state);
  }

  private openCamera(): void {
    if (!this.running) return;
    this.setCameraState(this._cameraState === 'lost' ? 'lost' : 'opening');
    const camera = new LocalCamera(this.options.camera, this.settings);
    this.camera = camera;
    camera.on('open', (info) => {
      this.info = info;
      this.openedAt = Date.now();
      clearTimeout(this.releaseTimer);
      this.setCameraState('open');
      this.logger.info(
        `Camera ${describeCamera(this.options.camera)} open: ${info.input ? `${info.input.width}x${info.input.height} -> ` : ''}${info.output.width}x${info.output.height} at up to ${info.fps} fps (ffmpeg ${info.ffmpeg}, decoding: ${info.hwaccel})`,
      );
      this.emit('camera-open', info);
      if (this.gate) {
        if (this.gate.state === 'watching') this.emit('gate', { state: 'watching' });
        else if (!this.stream.active || this.stream.state === 'idle') this.stream.start();
      } else if (!this.stream.active || this.stream.state === 'idle') this.stream.start();
    });
    camera.on('frame', (frame) => this.onFrame(frame));
    camera.on('warning', (text) => this.emit('warning', text));
    camera.on('end', ({ error }) => void this.cameraEnded(camera, error));
    camera.start();
  }

  private onFrame(frame: CapturedFrame): void {
    this.counters.framesIn++;
    if (!this.gate) {
      if (this.stream.pushRawFrame(frame)) this.sentLive(frame);
      else this.counters.framesDropped++;
      return;
    }
    if (this.motion) {
      const started = performance.now();
      const moving = this.motion.frameI420(frame, frame.capturedAt);
      this.motionMs += performance.now() - started;
      this.applyGate(this.gate.motion(moving, frame.capturedAt));
    }
    if (this.gate.state === 'open' && !this.pump && this.backlog.length === 0 && this.stream.pushRawFrame(frame)) {
      this.sentLive(frame);
      return;
    }
    this.keep(frame);
  }

  private sentLive(frame: CapturedFrame): void {
    this.counters.framesSent++;
    this.handoffs.push(performance.timeOrigin + performance.now() - frame.capturedAt);
    if (this.handoffs.length > 1_000) this.handoffs.splice(0, this.handoffs.length - 1_000);
  }

  /**
   * Holds a frame for the session: while watching, only the pre-roll (the last
   * `preRollMs`); while the session connects, at most ten more seconds' worth (oldest
   * dropped), so a slow start never grows memory.
   */
  private keep(frame: CapturedFrame): void {
    this.backlog.push(frame);
    const gate = this.gate as SessionGate;
    const limit = gate.state === 'watching' ? gate.settings.preRollMs : gate.settings.preRollMs + 10_000;
    while (this.backlog.length > 0 && frame.capturedAt - this.backlog[0].capturedAt > limit) {
      this.backlog.shift();
      this.counters.framesDropped++;
    }
  }

  private applyGate(decision: GateDecision): void {
    if (!decision || !this.running) return;
    if (decision === 'open') {
      this.logger.info('Gate open: starting the Roboflow session');
      this.emit('gate', { state: 'open' });
      if (!this.stream.active || this.stream.state === 'idle') this.stream.start();
    } else {
      this.logger.info('Gate closed after the quiet time: ending the Roboflow session');
      clearInterval(this.pump);
      this.pump = undefined;
      this.backlog = [];
      this.emit('gate', { state: 'watching' });
      void this.stream.stop();
    }
  }

  /**
   * Sends the frames held while the session was not ready, oldest first, at twice the
   * capture rate (the server keeps up; in realtime mode it would drop a burst), then
   * goes back to sending live frames as they come.
   */
  private drainBacklog(): void {
    if (!this.gate || this.pump || this.backlog.length === 0) return;
    this.pump = setInterval(
      () => {
        const next = this.backlog.shift();
        if (next && this.stream.pushRawFrame(next)) this.counters.framesSent++;
        if (this.backlog.length === 0 || this.stream.state !== 'streaming') {
          clearInterval(this.pump);
          this.pump = undefined;
        }
      },
      Math.max(10, Math.round(1000 / (2 * this.settings.maxFps))),
    );
  }

  /**
   * The session ended with an error a retry cannot fix (a wrong key, an unknown workflow):
   * the error has been emitted. Nothing will send the frames anywhere, so the camera is
   * closed too (ffmpeg would go on decoding them only to drop them) and the stream is no
   * longer running, so a camera that comes back does not open the failing session again.
   * start() tries again.
   */
  private async sessionFailed(): Promise<void> {
    if (!this.running) return;
    this.logger.info(`Roboflow session failed: closing the camera ${describeCamera(this.options.camera)} until the stream is started again`);
    await this.stop();
  }

  private async cameraEnded(camera: LocalCamera, error: RoboflowError | undefined): Promise<void> {
    if (this.camera !== camera || !this.running) return;
    this.camera = undefined;
    if (!error) {
      // A file played as a camera, to its end: the stream is over.
      this.setCameraState('ended');
      this.emit('camera-ended');
      this.running = false;
      await this.stream.stop();
      return;
    }
    if (isFatal(error)) {
      // The cause first: listeners hear why before they see the stream stop.
      this.running = false;
      this.emit('error', error);
      this.setCameraState('failed');
      await this.stream.stop();
      return;
    }
    if (this.openedAt && Date.now() - this.openedAt >= CAMERA_STABLE_MS) this.attempts = 0;
    this.openedAt = 0;
    this.attempts++;
    const delayMs = backoffDelay(this.attempts, this.retry);
    if (this._cameraState !== 'lost') {
      this.lostAt = Date.now();
      // Keep the session a while (a camera rebooting comes back); then let it go.
      clearTimeout(this.releaseTimer);
      this.releaseTimer = setTimeout(() => {
        if (this._cameraState !== 'lost' || !this.running) return;
        this.logger.info(`Camera away for ${Math.round(this.keepSessionMs / 1000)} s: ending the Roboflow session until it is back`);
        void this.stream.stop();
      }, this.keepSessionMs);
    }
    this.setCameraState('lost');
    this.logger.info(`Camera ${describeCamera(this.options.camera)} lost (${error.message}); reopening ${this.attempts} in ${delayMs} ms`);
    this.emit('camera-lost', { attempt: this.attempts, delayMs, error });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.openCamera(), delayMs);
  }
}
