import { RoboflowError } from '../errors';
import { TypedEmitter } from '../events';
import type { PushOutcome } from '../stream/frame-source';
import { ResilientStream, type ResilientState, type ResilientStreamEvents, type ResilientStreamOptions } from '../stream/resilient-stream';
import { hasDetections } from './detections';
import { greyCopy } from './grey';
import { DEFAULT_MOTION, MotionDetector, type MotionSettings } from './motion';
import { PRE_ROLL_CAPS, PreRoll } from './pre-roll';
import { SessionGate, type GateDecision, type GateNote, type GateSettings, type GateState } from './session-gate';

export interface GatedStreamEvents extends ResilientStreamEvents {
  gate: [GateNote];
}

export interface GatedStreamOptions extends ResilientStreamOptions {
  /**
   * `message` (default): gate messages open and close the session. `motion`: only for a
   * `frames` source, whose images this machine sees: motion in them opens it.
   */
  gate?: Partial<GateSettings> & { motion?: Partial<MotionSettings> };
}

const FORWARDED = ['connected', 'result', 'video-frame', 'progress', 'complete', 'error', 'reconnecting', 'renewing', 'state'] as const;

/** Frames from the flow waiting for their motion check at most; beyond it a frame is dropped (the flow sends faster than it can be looked at). */
const MAX_WAITING_FOR_MOTION = 30;
/** While the session connects, frames are held this much longer than the pre-roll (as for a camera read here). */
const CONNECTING_MS = 10_000;

interface Held {
  image: Uint8Array;
  settle: (outcome: PushOutcome) => void;
}

/**
 * A stream whose session runs only while its gate holds it open, for sources this
 * machine does not decode itself (a camera Roboflow's server pulls, frames from the
 * flow). The gate opens on a gate message (a door sensor, a PIR, Home Assistant) or, for
 * frames from the flow, on motion in them (each image is looked at as a small grey
 * copy); detections of the chosen classes keep it open; it closes after the quiet time.
 * Messages in any order leave at most one session, and none once the quiet time has
 * passed. Frames from the flow that arrive while no session streams are held (the last
 * `preRollMs`, bounded) and sent first once one does.
 */
export class GatedStream extends TypedEmitter<GatedStreamEvents> {
  readonly stream: ResilientStream;
  private readonly gate: SessionGate;
  private readonly motion: MotionDetector | undefined;
  private readonly motionWidth: number;
  private readonly held = new PreRoll<Held>((frame) => frame.settle({ sent: false }));
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  /** Frames from the flow in arrival order: each is checked for motion, then sent or held. */
  private queue: Promise<void> = Promise.resolve();
  private waiting = 0;
  private draining = false;
  private motionMs = 0;

  constructor(options: GatedStreamOptions) {
    super();
    const { motion, ...gate } = options.gate ?? {};
    this.gate = new SessionGate({ ...gate, mode: gate.mode ?? 'message' });
    if (this.gate.settings.mode === 'motion') {
      if (options.source.kind !== 'frames') throw new RoboflowError('invalid-input', 'The motion gate needs pictures this machine sees: frames from the flow, or a camera read here');
      this.motion = new MotionDetector(motion);
    }
    this.motionWidth = motion?.width ?? DEFAULT_MOTION.width;
    this.stream = new ResilientStream({
      ...options,
      shouldReconnect: (error) => this.gate.state === 'open' && (options.shouldReconnect?.(error) ?? true),
    });
    for (const event of FORWARDED) {
      this.stream.on(event, (...args: unknown[]) => (this.emit as (name: string, ...rest: unknown[]) => boolean)(event, ...args));
    }
    this.stream.on('result', (result) => {
      if (hasDetections(result.data, this.gate.settings.holdClasses)) this.gate.detections(Date.now());
    });
    this.stream.on('state', (state) => {
      if (state === 'streaming') void this.drain();
    });
  }

  get active(): boolean {
    return this.running;
  }

  get state(): ResilientState {
    return this.stream.state;
  }

  get gateState(): GateState {
    return this.gate.state;
  }

  /** Time spent looking for motion in frames from the flow, in ms (benchmarks). */
  get motionTimeMs(): number {
    return Math.round(this.motionMs * 100) / 100;
  }

  /** Arms the gate: no session until a gate message (or motion) opens it. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.emit('gate', { state: 'watching' });
    this.timer = setInterval(() => {
      const now = Date.now();
      if (this.gate.tick(now) === 'close') this.close();
      else if (this.gate.state === 'open') {
        const closesInMs = this.gate.closesInMs(now);
        this.emit('gate', { state: 'open', ...(closesInMs !== undefined ? { closesInMs } : {}) });
      }
    }, 500);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearInterval(this.timer);
    this.gate.reset();
    this.motion?.reset();
    this.held.clear();
    await this.stream.stop();
  }

  signalGate(open: boolean): void {
    if (!this.running) throw new RoboflowError('invalid-input', 'The stream is not running');
    this.apply(this.gate.signal(open, Date.now()));
  }

  /**
   * One image from the flow (a `frames` source), taken at its arrival: looked at for
   * motion (motion gate), then sent when a session streams, else held for the next one
   * (the pre-roll). Resolves once it was sent, or `{sent: false}` when it was let go
   * (too old for the pre-roll, replaced by newer frames, the session closed).
   */
  pushFrame(image: Uint8Array): Promise<PushOutcome> {
    if (!this.running) return Promise.reject(new RoboflowError('invalid-input', 'The stream is not running'));
    const at = Date.now();
    if (this.waiting >= MAX_WAITING_FOR_MOTION) return Promise.resolve({ sent: false });
    this.waiting++;
    const checked = this.queue.then(async () => this.route(image, at));
    // The queue moves on once the frame is checked; the caller hears when it was sent (or let go).
    const checkedOne = (): void => {
      this.waiting--;
    };
    this.queue = checked.then(checkedOne, checkedOne);
    return checked.then(({ outcome }) => outcome);
  }

  reconfigure(outputs: { dataOutputs?: string[]; streamOutputs?: string[] }): void {
    this.stream.reconfigure(outputs);
  }

  ack(frameId: number): void {
    this.stream.ack(frameId);
  }

  /**
   * Checks a frame for motion (in arrival order) and sends or holds it. The outcome is
   * wrapped so that the queue moves on without waiting for it (a held frame settles
   * only when a session sends it, or it is dropped).
   */
  private async route(image: Uint8Array, at: number): Promise<{ outcome: Promise<PushOutcome> }> {
    if (this.motion) {
      const started = performance.now();
      const small = await greyCopy(image, this.motionWidth);
      const moving = this.motion.grey(small, small.width, small.height, at);
      this.motionMs += performance.now() - started;
      if (!this.running) return { outcome: Promise.resolve({ sent: false }) };
      this.apply(this.gate.motion(moving, at));
    }
    if (this.gate.state === 'open' && this.stream.state === 'streaming' && !this.draining && this.held.size === 0) return { outcome: this.stream.pushFrame(image) };
    const outcome = new Promise<PushOutcome>((settle) => {
      const maxAgeMs = this.gate.settings.preRollMs + (this.gate.state === 'open' ? CONNECTING_MS : 0);
      this.held.keep({ image, settle }, at, image.byteLength, { maxAgeMs, ...PRE_ROLL_CAPS });
    });
    // Held while a session streams but a burst drains: keep the burst going.
    if (this.gate.state === 'open' && this.stream.state === 'streaming') void this.drain();
    return { outcome };
  }

  /**
   * Sends the held frames oldest first, at twice the pace they arrived at (in realtime
   * mode the server would drop a burst), then live frames go straight through again.
   */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.held.next(); next; next = this.held.next()) {
        if (this.stream.state !== 'streaming') {
          next.frame.settle({ sent: false });
          continue;
        }
        try {
          next.frame.settle(await this.stream.pushFrame(next.frame.image));
        } catch {
          next.frame.settle({ sent: false });
        }
        const following = this.held.peekAt();
        if (following !== undefined) await new Promise((resolve) => setTimeout(resolve, Math.min(500, Math.max(10, (following - next.at) / 2))));
      }
    } finally {
      this.draining = false;
    }
  }

  private apply(decision: GateDecision): void {
    if (!decision || !this.running) return;
    if (decision === 'open') {
      this.emit('gate', { state: 'open' });
      if (!this.stream.active || this.stream.state === 'idle') this.stream.start();
      else if (this.stream.state === 'streaming') void this.drain();
    } else this.close();
  }

  private close(): void {
    this.held.clear();
    this.emit('gate', { state: 'watching' });
    void this.stream.stop();
  }
}
