import { anchorOf, crosses, crossingDirection, insidePolygon, type Anchor, type Box, type CrossingDirection, type Point } from './geometry';
import { ObjectTracker, type Detection, type Track, type TrackerOptions } from './tracker';

export interface ZoneSpec {
  name: string;
  /** At least three corners, in image pixels. */
  polygon: Point[];
}

export interface LineSpec {
  name: string;
  from: Point;
  to: Point;
}

export interface ObjectEventsOptions {
  zones?: ZoneSpec[];
  lines?: LineSpec[];
  /** The point of a box that decides zones and line crossings (default: bottom, the feet). */
  anchor?: Anchor;
  /** An object unseen this long has left (default 1 s): a detection missing for a few frames is not a new visit. */
  leaveAfterMs?: number;
  /** Send `update` events for an object at most this often (default 0: no updates). */
  updateEveryMs?: number;
  /** Follow only these classes (default: all). */
  classes?: string[];
  /** Ignore detections below this confidence entirely (default 0). */
  minConfidence?: number;
  /**
   * Detections followed per frame at most (default 1,000; a workflow's own limit is
   * usually 300): beyond it only the most confident are followed, and `lastFrame.skipped`
   * says how many were not. Bounds the work of a frame whatever a workflow returns.
   */
  maxDetections?: number;
  tracker?: TrackerOptions;
}

/** What the last frame cost. */
export interface FrameWork {
  /** Detections followed (after the class and confidence filters and the cap). */
  followed: number;
  /** Detections left out by `maxDetections` (the least confident). */
  skipped: number;
  /** Track/detection pairs the tracker compared (grows with the objects, not their square). */
  comparisons: number;
}

/** An object as events and counts report it. Times are milliseconds on the caller's clock. */
export interface ObjectState {
  id: string;
  class: string;
  confidence: number;
  maxConfidence: number;
  box: Box;
  firstSeen: number;
  lastSeen: number;
  /** lastSeen - firstSeen. */
  dwellMs: number;
  /** The zones its anchor is in, in the order the zones were given. */
  zones: string[];
}

export type ObjectEvent =
  | { type: 'enter' | 'update' | 'leave'; time: number; object: ObjectState }
  | { type: 'zone-enter' | 'zone-leave'; time: number; zone: string; object: ObjectState }
  | { type: 'line-cross'; time: number; line: string; direction: CrossingDirection; object: ObjectState };

export interface ObjectCounts {
  /** Objects present now. */
  objects: number;
  byClass: Record<string, number>;
  /** Objects in each zone now, in total and by class. */
  zones: Record<string, { count: number; byClass: Record<string, number> }>;
  /** Crossings of each line since the start, by direction. */
  lines: Record<string, Partial<Record<CrossingDirection, number>>>;
}

interface Followed {
  track: Track;
  /** Per line, where the anchor last was off the line: an object that stops right on a line crosses it when it goes on to the other side. */
  offLine: Map<string, Point>;
  zones: Set<string>;
  lastUpdate: number;
}

function onLine({ from, to }: LineSpec, [x, y]: Point): boolean {
  return (to[0] - from[0]) * (y - from[1]) - (to[1] - from[1]) * (x - from[0]) === 0;
}

/**
 * Turns per-frame detections into events a person cares about: an object entered, left,
 * entered or left a zone, crossed a line; and live counts. Feed it every frame's
 * detections with the frame's time; call `expire` on a timer when frames may stop (a
 * live camera that goes quiet), and `end` when the source ends.
 */
export class ObjectEvents {
  private readonly tracker: ObjectTracker;
  private readonly followed = new Map<string, Followed>();
  private readonly crossings = new Map<string, Partial<Record<CrossingDirection, number>>>();
  private readonly zones: ZoneSpec[];
  private readonly lines: LineSpec[];
  private readonly anchor: Anchor;
  private readonly leaveAfterMs: number;
  private readonly updateEveryMs: number;
  private readonly classes?: Set<string>;
  private readonly minConfidence: number;
  private readonly maxDetections: number;
  /** What the last `update` followed and skipped. */
  lastFrame: FrameWork = { followed: 0, skipped: 0, comparisons: 0 };

  constructor(options: ObjectEventsOptions = {}) {
    this.tracker = new ObjectTracker(options.tracker);
    this.zones = options.zones ?? [];
    this.lines = options.lines ?? [];
    this.anchor = options.anchor ?? 'bottom';
    this.leaveAfterMs = options.leaveAfterMs ?? 1_000;
    this.updateEveryMs = options.updateEveryMs ?? 0;
    this.classes = options.classes && options.classes.length > 0 ? new Set(options.classes) : undefined;
    this.minConfidence = options.minConfidence ?? 0;
    this.maxDetections = Math.max(1, options.maxDetections ?? 1_000);
    for (const line of this.lines) this.crossings.set(line.name, {});
  }

  /** One frame's detections, seen at `now`. Returns the events of this frame, in order: leaves, then per object enter, zone changes, crossings, update. */
  update(detections: readonly Detection[], now: number): ObjectEvent[] {
    const events = this.expire(now);
    let wanted = detections.filter((detection) => detection.confidence >= this.minConfidence && (!this.classes || this.classes.has(detection.class)));
    const skipped = Math.max(0, wanted.length - this.maxDetections);
    if (skipped > 0) wanted = [...wanted].sort((a, b) => b.confidence - a.confidence).slice(0, this.maxDetections);
    const tracks = this.tracker.update(wanted, now);
    this.lastFrame = { followed: wanted.length, skipped, comparisons: this.tracker.lastWork.comparisons };
    for (const track of tracks) {
      const anchor = anchorOf(track.box, this.anchor);
      let followed = this.followed.get(track.id);
      if (!followed) {
        followed = { track, offLine: new Map(), zones: new Set(), lastUpdate: now };
        this.followed.set(track.id, followed);
        events.push({ type: 'enter', time: now, object: this.state(followed) });
      }
      for (const line of this.lines) {
        if (onLine(line, anchor)) continue;
        const before = followed.offLine.get(line.name);
        followed.offLine.set(line.name, anchor);
        if (!before || !crosses(line.from, line.to, before, anchor)) continue;
        const direction = crossingDirection(line.from, line.to, before, anchor);
        let counts = this.crossings.get(line.name);
        if (!counts) this.crossings.set(line.name, (counts = {}));
        counts[direction] = (counts[direction] ?? 0) + 1;
        events.push({ type: 'line-cross', time: now, line: line.name, direction, object: this.state(followed) });
      }
      for (const zone of this.zones) {
        const inside = insidePolygon(anchor, zone.polygon);
        if (inside === followed.zones.has(zone.name)) continue;
        if (inside) followed.zones.add(zone.name);
        else followed.zones.delete(zone.name);
        events.push({ type: inside ? 'zone-enter' : 'zone-leave', time: now, zone: zone.name, object: this.state(followed) });
      }
      if (this.updateEveryMs > 0 && now - followed.lastUpdate >= this.updateEveryMs) {
        followed.lastUpdate = now;
        events.push({ type: 'update', time: now, object: this.state(followed) });
      }
    }
    return events;
  }

  /** The objects unseen for longer than the leave time have left: their zone-leave and leave events. */
  expire(now: number): ObjectEvent[] {
    const events: ObjectEvent[] = [];
    for (const followed of [...this.followed.values()]) {
      if (now - followed.track.lastSeen > this.leaveAfterMs) events.push(...this.depart(followed));
    }
    return events;
  }

  /** The source ended: every object still present leaves. */
  end(): ObjectEvent[] {
    return [...this.followed.values()].flatMap((followed) => this.depart(followed));
  }

  objects(): ObjectState[] {
    return [...this.followed.values()].map((followed) => this.state(followed));
  }

  counts(): ObjectCounts {
    const counts: ObjectCounts = { objects: 0, byClass: {}, zones: {}, lines: {} };
    for (const zone of this.zones) counts.zones[zone.name] = { count: 0, byClass: {} };
    for (const { track, zones } of this.followed.values()) {
      counts.objects++;
      counts.byClass[track.class] = (counts.byClass[track.class] ?? 0) + 1;
      for (const name of zones) {
        const zone = counts.zones[name];
        zone.count++;
        zone.byClass[track.class] = (zone.byClass[track.class] ?? 0) + 1;
      }
    }
    for (const [name, directions] of this.crossings) counts.lines[name] = { ...directions };
    return counts;
  }

  private depart(followed: Followed): ObjectEvent[] {
    // Left at the moment it was last seen: that is when it was last known to be there.
    const time = followed.track.lastSeen;
    const events: ObjectEvent[] = [];
    for (const zone of this.zones) {
      if (!followed.zones.has(zone.name)) continue;
      followed.zones.delete(zone.name);
      events.push({ type: 'zone-leave', time, zone: zone.name, object: this.state(followed) });
    }
    this.followed.delete(followed.track.id);
    this.tracker.remove(followed.track.id);
    events.push({ type: 'leave', time, object: this.state(followed) });
    return events;
  }

  private state({ track, zones }: Followed): ObjectState {
    return {
      id: track.id,
      class: track.class,
      confidence: track.confidence,
      maxConfidence: track.maxConfidence,
      box: { ...track.box },
      firstSeen: track.firstSeen,
      lastSeen: track.lastSeen,
      dwellMs: track.lastSeen - track.firstSeen,
      zones: this.zones.filter((zone) => zones.has(zone.name)).map((zone) => zone.name),
    };
  }
}
