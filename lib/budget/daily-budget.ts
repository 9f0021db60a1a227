import { RoboflowError } from '../errors';
import { TypedEmitter } from '../events';

/**
 * Minutes of streaming one credit buys, by plan (Roboflow's published rates, 2026):
 * what converts a budget in credits into stream minutes. Users may override them.
 */
export const MINUTES_PER_CREDIT: Record<string, number> = {
  'webrtc-gpu-small': 80,
  'webrtc-gpu-medium': 60,
  'webrtc-gpu-large': 30,
};

/** What is kept across restarts: the day the count is for, and the milliseconds streamed per stream. */
export interface BudgetState {
  /** Local date, YYYY-MM-DD. */
  day: string;
  usedMs: Record<string, number>;
}

export interface BudgetStore {
  load(): Promise<BudgetState | undefined>;
  save(state: BudgetState): Promise<void>;
}

export interface DailyBudgetOptions {
  /** Minutes of streaming allowed per day, over every stream sharing this budget; null = no limit (still counted). */
  limitMinutes: number | null;
  store?: BudgetStore;
  /** The clock (tests move it); local midnight starts a new day. */
  now?: () => Date;
  /** Share of the limit at which one warning is given. Default 0.8. */
  warnAt?: number;
}

export interface BudgetEvents {
  /** Once a day, when usage passes `warnAt` of the limit. */
  warning: [{ usedMinutes: number; limitMinutes: number }];
  /** The limit is reached: every stream on this budget must stop. */
  exhausted: [{ usedMinutes: number; limitMinutes: number }];
  /** A new day (or a raised limit): streams may run again. */
  available: [];
}

/** Local calendar date of `date`, YYYY-MM-DD. */
export function localDay(date: Date): string {
  const pad = (value: number): string => String(value).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Stream minutes a number of credits buys on a plan (`minutesPerCredit` overrides the published rate). */
export function creditsToMinutes(credits: number, plan: string | undefined, minutesPerCredit?: number): number {
  const rate = minutesPerCredit ?? MINUTES_PER_CREDIT[plan ?? 'webrtc-gpu-small'] ?? MINUTES_PER_CREDIT['webrtc-gpu-small'];
  return credits * rate;
}

/** Estimated credits for streamed minutes on a plan. */
export function minutesToCredits(minutes: number, plan: string | undefined, minutesPerCredit?: number): number {
  return minutes / creditsToMinutes(1, plan, minutesPerCredit);
}

function validState(value: unknown): value is BudgetState {
  if (!value || typeof value !== 'object') return false;
  const state = value as BudgetState;
  return (
    typeof state.day === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(state.day) &&
    !!state.usedMs &&
    typeof state.usedMs === 'object' &&
    !Array.isArray(state.usedMs) &&
    Object.values(state.usedMs).every((ms) => typeof ms === 'number' && Number.isFinite(ms) && ms >= 0)
  );
}

/** A budget record read back from disk, checked (a validator for JsonFile: throws saying what is wrong). */
export function parseBudgetState(value: unknown): BudgetState {
  if (!validState(value)) throw new Error('not a budget record ({day: "YYYY-MM-DD", usedMs: {stream: milliseconds}})');
  return value;
}

/**
 * A daily limit on streamed minutes, shared by every stream of one Roboflow connection:
 * streams report when a session runs (`running`), the budget adds up the time, saves it
 * (so a restart keeps what was spent today), warns once at 80 %, says "exhausted" at the
 * limit, and "available" again after local midnight or when the limit is raised.
 */
export class DailyBudget extends TypedEmitter<BudgetEvents> {
  private limitMinutes: number | null;
  private readonly store: BudgetStore | undefined;
  private readonly now: () => Date;
  private readonly warnAt: number;
  private state: BudgetState;
  private readonly runningSince = new Map<string, number>();
  private warned = false;
  private exhaustedNow = false;
  private dirty = false;

  constructor(options: DailyBudgetOptions) {
    super();
    if (options.limitMinutes !== null && (!Number.isFinite(options.limitMinutes) || options.limitMinutes < 0)) {
      throw new RoboflowError('invalid-input', `The daily budget must be a number of minutes (got ${String(options.limitMinutes)})`);
    }
    this.limitMinutes = options.limitMinutes;
    this.store = options.store;
    this.now = options.now ?? (() => new Date());
    this.warnAt = options.warnAt ?? 0.8;
    this.state = { day: localDay(this.now()), usedMs: {} };
  }

  /** Reads what was spent today (a corrupt or yesterday's record starts the day afresh). */
  async load(): Promise<void> {
    const saved = await this.store?.load().catch(() => undefined);
    if (validState(saved) && saved.day === localDay(this.now())) this.state = { day: saved.day, usedMs: { ...saved.usedMs } };
    // Past 80 % before the restart: that warning was given today already.
    const used = Object.values(this.state.usedMs).reduce((sum, value) => sum + value, 0) / 60_000;
    if (this.limitMinutes !== null && used >= this.limitMinutes * this.warnAt) this.warned = true;
    this.check();
  }

  get limit(): number | null {
    return this.limitMinutes;
  }

  /** True while the limit is reached today: no stream may run. */
  get exhausted(): boolean {
    return this.exhaustedNow;
  }

  /** Minutes streamed today, by everyone or by one stream. */
  usedMinutes(streamId?: string): number {
    this.accrue();
    const ms = streamId === undefined ? Object.values(this.state.usedMs).reduce((sum, value) => sum + value, 0) : (this.state.usedMs[streamId] ?? 0);
    return ms / 60_000;
  }

  /** A stream's session runs (true) or not (false). */
  running(streamId: string, running: boolean): void {
    this.accrue();
    if (running) {
      if (!this.runningSince.has(streamId)) this.runningSince.set(streamId, this.now().getTime());
    } else {
      this.runningSince.delete(streamId);
    }
    this.check();
  }

  /** Raising (or removing) the limit lets stopped streams run again today. */
  setLimit(minutes: number | null): void {
    this.limitMinutes = minutes;
    this.check();
  }

  /** Counts the time so far, handles midnight and the limit; call it every few seconds. Saves when something changed. */
  async tick(): Promise<void> {
    this.accrue();
    this.check();
    if (this.dirty && this.store) {
      this.dirty = false;
      await this.store.save({ day: this.state.day, usedMs: { ...this.state.usedMs } });
    }
  }

  private accrue(): void {
    const now = this.now();
    const today = localDay(now);
    const at = now.getTime();
    if (today !== this.state.day) {
      // A session running across midnight counts towards the day it runs in.
      this.state = { day: today, usedMs: {} };
      for (const id of this.runningSince.keys()) this.runningSince.set(id, Math.max(this.runningSince.get(id) ?? at, new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime()));
      this.warned = false;
      this.dirty = true;
    }
    for (const [id, since] of this.runningSince) {
      if (at > since) {
        this.state.usedMs[id] = (this.state.usedMs[id] ?? 0) + (at - since);
        this.runningSince.set(id, at);
        this.dirty = true;
      }
    }
  }

  private check(): void {
    const limit = this.limitMinutes;
    const used = Object.values(this.state.usedMs).reduce((sum, value) => sum + value, 0) / 60_000;
    if (limit === null) {
      if (this.exhaustedNow) {
        this.exhaustedNow = false;
        this.emit('available');
      }
      return;
    }
    if (!this.warned && used >= limit * this.warnAt && used < limit) {
      this.warned = true;
      this.emit('warning', { usedMinutes: used, limitMinutes: limit });
    }
    if (used >= limit && !this.exhaustedNow) {
      this.exhaustedNow = true;
      this.emit('exhausted', { usedMinutes: used, limitMinutes: limit });
    } else if (used < limit && this.exhaustedNow) {
      this.exhaustedNow = false;
      this.emit('available');
    }
  }
}
