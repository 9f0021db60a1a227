import { RoboflowError } from '../errors';
import { TypedEmitter } from '../events';
import { ResilientStream, type ResilientState, type ResilientStreamEvents, type ResilientStreamOptions } from '../stream/resilient-stream';
import { hasDetections } from './detections';
import { SessionGate, type GateNote, type GateSettings, type GateState } from './session-gate';

export interface GatedStreamEvents extends ResilientStreamEvents {
  gate: [GateNote];
}

const FORWARDED = ['connected', 'result', 'video-frame', 'progress', 'complete', 'error', 'reconnecting', 'renewing', 'state'] as const;

/**
 * A stream whose session runs only while a gate message holds it open (a door sensor, a
 * PIR, Home Assistant): for sources this machine does not decode (a camera Roboflow's
 * server pulls, frames from the flow). `true` opens it, `false` lets the quiet time run;
 * detections of the chosen classes keep it open. Messages in any order leave at most one
 * session, and none once the quiet time has passed.
 */
export class GatedStream extends TypedEmitter<GatedStreamEvents> {
  readonly stream: ResilientStream;
  private readonly gate: SessionGate;
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(options: ResilientStreamOptions & { gate?: Partial<Omit<GateSettings, 'mode'>> }) {
    super();
    this.gate = new SessionGate({ ...options.gate, mode: 'message' });
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

  /** Arms the gate: no session until a gate message opens it. */
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
    await this.stream.stop();
  }

  signalGate(open: boolean): void {
    if (!this.running) throw new RoboflowError('invalid-input', 'The stream is not running');
    const decision = this.gate.signal(open, Date.now());
    if (decision === 'open') {
      this.emit('gate', { state: 'open' });
      if (!this.stream.active || this.stream.state === 'idle') this.stream.start();
    } else if (decision === 'close') this.close();
  }

  reconfigure(outputs: { dataOutputs?: string[]; streamOutputs?: string[] }): void {
    this.stream.reconfigure(outputs);
  }

  ack(frameId: number): void {
    this.stream.ack(frameId);
  }

  private close(): void {
    this.emit('gate', { state: 'watching' });
    void this.stream.stop();
  }
}
