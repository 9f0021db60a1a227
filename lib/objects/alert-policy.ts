import type { ObjectState } from './object-events';

export interface AlertPolicyOptions {
  /** Alert only for these classes (default: all). */
  classes?: string[];
  /** Minimum confidence (the best seen during the visit), one for all classes or per class (`"*"` for the rest). */
  minConfidence?: number | Record<string, number>;
  /** The object must have been present this long (default 0). */
  minDwellMs?: number;
  /** The object must be in one of these zones (default: anywhere). */
  zones?: string[];
  /** At most this many alerts in any 60 s (default: no cap). */
  maxPerMinute?: number;
}

export interface AlertDecision {
  alerts: ObjectState[];
  /** Objects that qualified but wait because the rate cap was reached; they alert once it frees if they are still there. */
  deferred: number;
}

const MINUTE = 60_000;

/**
 * Decides which objects deserve an alert: once per object and visit (re-armed when it
 * leaves), only when it is confident enough, has stayed long enough and is where it
 * should be, and never more than the rate cap allows. Quiet hours belong to the flow.
 */
export class AlertPolicy {
  private readonly alerted = new Set<string>();
  private readonly sent: number[] = [];

  constructor(private readonly options: AlertPolicyOptions = {}) {}

  /** The objects present at `now` (see ObjectEvents.objects()); returns the ones to alert for now. */
  check(objects: readonly ObjectState[], now: number): AlertDecision {
    while (this.sent.length > 0 && now - this.sent[0] >= MINUTE) this.sent.shift();
    const decision: AlertDecision = { alerts: [], deferred: 0 };
    for (const object of objects) {
      if (this.alerted.has(object.id) || !this.qualifies(object)) continue;
      if (this.options.maxPerMinute !== undefined && this.sent.length >= this.options.maxPerMinute) {
        decision.deferred++;
        continue;
      }
      this.alerted.add(object.id);
      this.sent.push(now);
      decision.alerts.push(object);
    }
    return decision;
  }

  /** The object left: a later visit may alert again. */
  forget(id: string): void {
    this.alerted.delete(id);
  }

  private qualifies(object: ObjectState): boolean {
    const { classes, minConfidence, minDwellMs = 0, zones } = this.options;
    if (classes && classes.length > 0 && !classes.includes(object.class)) return false;
    const threshold = typeof minConfidence === 'number' ? minConfidence : (minConfidence?.[object.class] ?? minConfidence?.['*'] ?? 0);
    if (object.maxConfidence < threshold) return false;
    if (object.dwellMs < minDwellMs) return false;
    if (zones && zones.length > 0 && !object.zones.some((zone) => zones.includes(zone))) return false;
    return true;
  }
}
