import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';
import { DailyBudget, MINUTES_PER_CREDIT, RoboflowError, creditsToMinutes, localDay, minutesToCredits, type BudgetState, type BudgetStore, type Logger } from '../../../lib';

/**
 * A daily limit on one Stream Trigger's streamed minutes, kept in the workflow's static
 * data (n8n keeps static data per workflow and per node: the budget is this trigger's,
 * not shared with other workflows or other triggers).
 *
 * How n8n persists a trigger's static data (read in n8n's ActiveWorkflowManager and
 * WorkflowStaticDataService): the object `getWorkflowStaticData('node')` returns lives
 * on the Workflow object of the activation; n8n writes it to its database when the
 * activation finishes and each time the trigger calls `emit` (it saves before running
 * the execution), only when a top-level property changed (ObservableObject), and never
 * at deactivation or shutdown; a manual run's static data is never saved. So:
 * - every save assigns a new `budget` object (a change inside an old one goes unseen);
 * - a process-wide copy (BudgetMemory) carries the count across re-activations within
 *   one n8n process (saving the workflow, n8n re-adding a trigger after an error), when
 *   the database copy may be older;
 * - after an n8n restart the count is the one saved at the trigger's last execution (or
 *   activation): minutes streamed after it are not remembered.
 */

export interface BudgetSettings {
  /** What the user set: minutes, or credits converted with the plan's rate. */
  unit: 'minutes' | 'credits';
  amount: number;
  /** The day's limit in stream minutes. */
  limitMinutes: number;
  minutesPerCredit: number;
  plan: string;
}

/** Minutes today and what they cost, in each emitted item (`stats`) when a limit is set. */
/** A type alias, not an interface: it is an n8n item's JSON (IDataObject) as it is. */
export interface BudgetStats {
  minutesToday: number;
  estimatedCredits: number;
  dailyLimitMinutes: number;
}

const round = (value: number, digits: number): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** The Daily Limit fields, or undefined when the trigger has none. */
export function readBudget(context: ITriggerFunctions, plan: string | undefined): BudgetSettings | undefined {
  const unit = String(context.getNodeParameter('dailyLimit', 'none'));
  if (unit !== 'minutes' && unit !== 'credits') return undefined;
  const planName = plan && MINUTES_PER_CREDIT[plan] ? plan : 'webrtc-gpu-small';
  const rateSetting = Number(context.getNodeParameter('minutesPerCredit', 0));
  if (!Number.isFinite(rateSetting) || rateSetting < 0) throw new RoboflowError('invalid-input', `Minutes per Credit must be 0 (the plan's published rate) or more (got ${String(rateSetting)})`);
  const minutesPerCredit = rateSetting > 0 ? rateSetting : MINUTES_PER_CREDIT[planName];
  const amount = Number(context.getNodeParameter(unit === 'minutes' ? 'dailyMinutes' : 'dailyCredits', unit === 'minutes' ? 240 : 3));
  if (!Number.isFinite(amount) || amount <= 0) throw new RoboflowError('invalid-input', `The daily limit must be more than 0 ${unit} (got ${String(amount)})`);
  const limitMinutes = unit === 'minutes' ? amount : creditsToMinutes(amount, planName, minutesPerCredit);
  return { unit, amount, limitMinutes, minutesPerCredit, plan: planName };
}

/** "240 min (≈ 3 credits)" or "3 credits (240 min)": the limit as the user set it, and the other unit. */
export function describeLimit(settings: BudgetSettings): string {
  const credits = round(minutesToCredits(settings.limitMinutes, settings.plan, settings.minutesPerCredit), 2);
  return settings.unit === 'minutes' ? `${round(settings.limitMinutes, 1)} min (≈ ${credits} credits)` : `${settings.amount} credits (${round(settings.limitMinutes, 1)} min)`;
}

function validState(value: unknown): value is BudgetState {
  if (!value || typeof value !== 'object') return false;
  const state = value as BudgetState;
  return typeof state.day === 'string' && !!state.usedMs && typeof state.usedMs === 'object' && Object.values(state.usedMs).every((ms) => typeof ms === 'number' && Number.isFinite(ms) && ms >= 0);
}

/** The later of two records; on the same day, the larger count of each stream (neither copy may lose minutes). */
export function newerState(a: BudgetState | undefined, b: BudgetState | undefined): BudgetState | undefined {
  if (!a) return b;
  if (!b || a.day > b.day) return a;
  if (b.day > a.day) return b;
  const usedMs: Record<string, number> = { ...a.usedMs };
  for (const [id, ms] of Object.entries(b.usedMs)) usedMs[id] = Math.max(usedMs[id] ?? 0, ms);
  return { day: a.day, usedMs };
}

interface Remembered {
  state?: BudgetState;
  /** What was already said today: the 80 % warning, and the emitError at the limit. */
  notes: { day: string; warned: boolean; reported: boolean };
}

/**
 * What one n8n process remembers of each trigger's budget, per workflow and node:
 * n8n makes a new trigger context per activation and may re-activate a trigger at any
 * time (a saved workflow, an error), each time from the database's static data.
 */
export class BudgetMemory {
  private readonly entries = new Map<string, Remembered>();

  constructor(private readonly limit = 500) {}

  state(key: string): BudgetState | undefined {
    return this.entries.get(key)?.state;
  }

  save(key: string, state: BudgetState): void {
    const entry = this.entry(key, state.day);
    entry.state = { day: state.day, usedMs: { ...state.usedMs } };
  }

  /** Today's notes for a trigger (a new day starts with nothing said). */
  notes(key: string, day: string): Remembered['notes'] {
    const entry = this.entry(key, day);
    if (entry.notes.day !== day) entry.notes = { day, warned: false, reported: false };
    return entry.notes;
  }

  get size(): number {
    return this.entries.size;
  }

  private entry(key: string, day: string): Remembered {
    let entry = this.entries.get(key);
    if (!entry) {
      while (this.entries.size >= this.limit) {
        const oldest = this.entries.keys().next().value;
        if (oldest === undefined) break;
        this.entries.delete(oldest);
      }
      entry = { notes: { day, warned: false, reported: false } };
      this.entries.set(key, entry);
    }
    return entry;
  }
}

/** One memory for the whole n8n process. */
export const budgetMemory = new BudgetMemory();

/** The budget's store: the node's static data (saved by n8n) and the process memory, the newer of the two read back. */
export function budgetStore(staticData: IDataObject, memory: BudgetMemory, key: string): BudgetStore {
  return {
    load: async () => newerState(memory.state(key), validState(staticData.budget) ? staticData.budget : undefined),
    save: async (state) => {
      memory.save(key, state);
      // A new object each time: n8n notices a top-level property set on the node's
      // static data, not a change inside an object it already holds.
      staticData.budget = { day: state.day, usedMs: { ...state.usedMs } };
    },
  };
}

export interface BudgetClock {
  now: () => Date;
  /** How often the minutes are added up and saved. */
  tickMs: number;
}

export const DEFAULT_BUDGET_CLOCK: BudgetClock = { now: () => new Date(), tickMs: 5_000 };

export interface TriggerBudgetOptions {
  settings: BudgetSettings;
  key: string;
  streamId: string;
  store: BudgetStore;
  memory: BudgetMemory;
  clock: BudgetClock;
  logger: Logger;
}

/**
 * One activation's view of the trigger's budget: the minutes its sessions run, a
 * warning in the log once a day at 80 %, `exhausted` at the limit (the caller stops
 * the session) and `available` after local midnight.
 */
export class TriggerBudget {
  private readonly budget: DailyBudget;
  private timer: NodeJS.Timeout | undefined;
  private readonly handlers = { exhausted: [] as Array<(firstToday: boolean) => void>, available: [] as Array<() => void> };

  constructor(private readonly options: TriggerBudgetOptions) {
    this.budget = new DailyBudget({ limitMinutes: options.settings.limitMinutes, store: options.store, now: options.clock.now });
    this.budget.on('warning', ({ usedMinutes }) => {
      const notes = this.notes();
      if (notes.warned) return;
      notes.warned = true;
      options.logger.warn(
        `Roboflow stream: ${Math.round((usedMinutes / options.settings.limitMinutes) * 100)} % of today's stream budget used (${round(usedMinutes, 1)} of ${describeLimit(options.settings)})`,
      );
    });
  }

  /** Reads today's minutes and starts counting. `exhausted` tells whether a session may start. */
  async open(): Promise<void> {
    await this.budget.load();
    // Written back at once: n8n saves static data when the activation finishes, so a
    // count that only the process memory had reaches the database too.
    const merged = await this.options.store.load();
    if (merged?.day === localDay(this.options.clock.now())) await this.options.store.save(merged);
    this.budget.on('exhausted', () => {
      const notes = this.notes();
      const first = !notes.reported;
      notes.reported = true;
      this.handlers.exhausted.forEach((handler) => handler(first));
    });
    this.budget.on('available', () => this.handlers.available.forEach((handler) => handler()));
    this.timer = setInterval(() => void this.tick(), this.options.clock.tickMs);
  }

  /** Reads today's minutes without counting (a manual run: n8n would not save them). */
  async read(): Promise<void> {
    await this.budget.load();
  }

  onExhausted(handler: (firstToday: boolean) => void): void {
    this.handlers.exhausted.push(handler);
  }

  onAvailable(handler: () => void): void {
    this.handlers.available.push(handler);
  }

  get exhausted(): boolean {
    return this.budget.exhausted;
  }

  /** The session runs (billed) or not. */
  running(running: boolean): void {
    this.budget.running(this.options.streamId, running);
  }

  stats(): BudgetStats {
    const minutes = this.budget.usedMinutes();
    const { settings } = this.options;
    return {
      minutesToday: round(minutes, 2),
      estimatedCredits: round(minutesToCredits(minutes, settings.plan, settings.minutesPerCredit), 3),
      dailyLimitMinutes: round(settings.limitMinutes, 2),
    };
  }

  /** "240 min (≈ 3 credits); 241.2 min used today" for log lines and errors. */
  describe(): string {
    return `${describeLimit(this.options.settings)}; ${round(this.budget.usedMinutes(), 1)} min used today`;
  }

  /** Stops counting and saves what was spent. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.budget.running(this.options.streamId, false);
    await this.tick();
  }

  private async tick(): Promise<void> {
    try {
      await this.budget.tick();
    } catch (error) {
      this.options.logger.warn(`Roboflow stream: the stream budget could not be saved (${(error as Error).message})`);
    }
  }

  private notes(): Remembered['notes'] {
    return this.options.memory.notes(this.options.key, localDay(this.options.clock.now()));
  }
}
