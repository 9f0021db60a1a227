/**
 * When a gated stream holds a Roboflow session: it opens when something happens (motion
 * on the camera, or a message from a door sensor), stays open while there is motion or
 * the workflow still detects something, and closes after a quiet time. Billing runs only
 * while it is open. Pure logic: the caller feeds it observations and the time.
 */
export type GateMode = 'motion' | 'message';

export type GateState = 'watching' | 'open';

export interface GateSettings {
  mode: GateMode;
  /** Quiet time (no motion, no detections, the gate message not holding it open) before the session closes. Default 30 s. */
  quietMs: number;
  /** Frames from this long before the opening are sent first (the person who triggered it is analysed). Default 2 s. */
  preRollMs: number;
  /**
   * Detections of these classes keep the session open (empty: any class). A camera that
   * always sees something still (a parked car, a door) should name the classes that matter.
   */
  holdClasses: string[];
}

export const DEFAULT_GATE: GateSettings = { mode: 'motion', quietMs: 30_000, preRollMs: 2_000, holdClasses: [] };

export type GateDecision = 'open' | 'close' | undefined;

/** What a gated stream tells its user: watching (no session), or open and, once quiet, when it closes. */
export interface GateNote {
  state: GateState;
  closesInMs?: number;
}

/** A stream with a gate, whoever reads the video (CapturedStream, GatedStream). */
export interface GatedLiveStream {
  signalGate(open: boolean): void;
  on(event: 'gate', listener: (note: GateNote) => void): unknown;
}

export class SessionGate {
  readonly settings: GateSettings;
  private _state: GateState = 'watching';
  private lastActivity = 0;
  /** Set by gate messages: true holds the gate open until false (then the quiet time runs). */
  private held = false;

  constructor(settings: Partial<GateSettings> = {}) {
    this.settings = { ...DEFAULT_GATE, ...settings };
  }

  get state(): GateState {
    return this._state;
  }

  /** Milliseconds until the session closes if nothing more happens; undefined while held or watching. */
  closesInMs(now: number): number | undefined {
    if (this._state !== 'open' || this.held) return undefined;
    return Math.max(0, this.lastActivity + this.settings.quietMs - now);
  }

  /** A frame's motion verdict (motion mode). */
  motion(moving: boolean, now: number): GateDecision {
    if (this.settings.mode !== 'motion' || !moving) return this.tick(now);
    return this.activity(now);
  }

  /** The workflow found something: keep the session while it does. */
  detections(now: number): GateDecision {
    if (this._state !== 'open') return undefined;
    this.lastActivity = now;
    return undefined;
  }

  /** A gate message: true opens (and holds) the session, false lets the quiet time run. Works in either mode. */
  signal(open: boolean, now: number): GateDecision {
    this.held = open;
    if (open) return this.activity(now);
    if (this._state === 'open') this.lastActivity = now;
    return this.tick(now);
  }

  /** The clock: closes once the quiet time has passed. */
  tick(now: number): GateDecision {
    if (this._state === 'open' && !this.held && now - this.lastActivity >= this.settings.quietMs) {
      this._state = 'watching';
      return 'close';
    }
    return undefined;
  }

  /** The session could not be kept (stopped, budget): watch again. */
  reset(): void {
    this._state = 'watching';
    this.held = false;
  }

  private activity(now: number): GateDecision {
    this.lastActivity = now;
    if (this._state === 'open') return undefined;
    this._state = 'open';
    return 'open';
  }
}
