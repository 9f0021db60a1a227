import { iou, type Box } from './geometry';

/** One detection as a Roboflow workflow reports it (centre, size, class; `tracker_id` when the workflow tracks). */
export interface Detection extends Box {
  class: string;
  confidence: number;
  tracker_id?: number;
  detection_id?: string;
}

/** An object followed from frame to frame. Times are milliseconds on the caller's clock. */
export interface Track {
  /** Stable for the object's whole visit: `t<tracker_id>` from the workflow's tracker, else `o<n>` from ours. */
  id: string;
  class: string;
  confidence: number;
  /** Highest confidence seen during the visit. */
  maxConfidence: number;
  box: Box;
  firstSeen: number;
  lastSeen: number;
  /** Frames it was detected in. */
  hits: number;
  /** Pixels per millisecond, from its last two sightings (used to predict where it is after a gap). */
  velocity: [number, number];
}

export interface TrackerOptions {
  /** Minimum overlap to take a detection as the same object without looking at distance. */
  minIou?: number;
  /** How far (in box sizes) a detection may be from where a track was predicted to be. */
  maxDistance?: number;
}

/** The work of the last `update`, for callers who want to see it stays bounded. */
export interface TrackerWork {
  /** Detections matched by our own tracker (without a workflow `tracker_id`). */
  detections: number;
  /** Track/detection pairs whose cost was computed. */
  comparisons: number;
}

export interface Candidate {
  track: Track;
  detection: number;
  cost: number;
}

/**
 * At most this many neighbours are compared with one detection or track: a crowd of one
 * class packed in one place costs a bounded amount per object.
 */
const MAX_COMPARED = 32;

/** The size level of a box: boxes of level n are at least 2^n and less than 2^(n+1) pixels on their longer side. */
function levelOf(size: number): number {
  return size < 2 ? 0 : Math.floor(Math.log2(size));
}

/**
 * Things by where they are, in square cells whose side grows with the things' size (one
 * grid per size level, cells `gate` x 2^(level+1) wide). A pair can only match when its
 * centres are within `gate` x the larger box size, so the smaller of the two finds the
 * larger one in the 3x3 cells around it in the larger one's level: no pair that could
 * match is missed, and nothing far away is looked at.
 */
class LevelGrid<T> {
  private readonly levels = new Map<number, Map<number, T[]>>();

  constructor(private readonly gate: number) {}

  private cell(level: number): number {
    return this.gate * 2 ** (level + 1);
  }

  add(item: T, x: number, y: number, size: number): void {
    this.sorted = undefined;
    const level = levelOf(size);
    const cell = this.cell(level);
    let cells = this.levels.get(level);
    if (!cells) this.levels.set(level, (cells = new Map<number, T[]>()));
    const key = cellKey(Math.floor(x / cell), Math.floor(y / cell));
    const list = cells.get(key);
    if (list) list.push(item);
    else cells.set(key, [item]);
  }

  private sorted: number[] | undefined;

  /** The items of level `from` and above (or strictly above) whose cell is next to (x, y): the centre cell first. */
  near(x: number, y: number, from: number, strictlyAbove: boolean, limit: number, visit: (item: T) => void): void {
    let count = 0;
    this.sorted ??= [...this.levels.keys()].sort((a, b) => a - b);
    for (const level of this.sorted) {
      if (level < from || (strictlyAbove && level === from)) continue;
      const cells = this.levels.get(level);
      if (!cells) continue;
      const cell = this.cell(level);
      const cx = Math.floor(x / cell);
      const cy = Math.floor(y / cell);
      for (const [dx, dy] of NEIGHBOURS) {
        const list = cells.get(cellKey(cx + dx, cy + dy));
        if (!list) continue;
        for (const item of list) {
          if (count++ >= limit) return;
          visit(item);
        }
      }
    }
  }
}

/** A cell's coordinates as one number (a string per lookup costs more than the lookup). */
function cellKey(cx: number, cy: number): number {
  return (cx + 0x100000) * 0x200000 + (cy + 0x100000);
}

/** The 3x3 cells around one, the centre first. */
const NEIGHBOURS: ReadonlyArray<readonly [number, number]> = [
  [0, 0],
  [-1, 0],
  [1, 0],
  [0, -1],
  [0, 1],
  [-1, -1],
  [1, -1],
  [-1, 1],
  [1, 1],
];

/**
 * Our own tracker, for workflows without one: each frame's detections are matched to the
 * objects seen before by overlap with their predicted box (constant velocity, so two
 * objects passing each other keep their ids), then by distance, cheapest pair first, one
 * class at a time. Detections carrying the workflow's `tracker_id` are taken as given.
 * Tracks are never dropped here: the caller decides when an unseen object has left.
 *
 * A detection is only compared with the tracks near it (a grid of the tracks' predicted
 * centres; a pair further apart than the gate can never match), at most 32 of them, so a
 * frame costs about the number of objects, not its square: 4,000 detections take
 * milliseconds, not seconds.
 */
export class ObjectTracker {
  private readonly minIou: number;
  private readonly maxDistance: number;
  private nextId = 1;
  readonly tracks = new Map<string, Track>();
  /** The work of the last update. */
  lastWork: TrackerWork = { detections: 0, comparisons: 0 };

  constructor(options: TrackerOptions = {}) {
    this.minIou = options.minIou ?? 0.1;
    this.maxDistance = options.maxDistance ?? 1.5;
  }

  /** Matches a frame's detections; returns the tracks seen in this frame (new ones included). */
  update(detections: readonly Detection[], now: number): Track[] {
    const seen: Track[] = [];
    const untracked: Detection[] = [];
    for (const detection of detections) {
      if (typeof detection.tracker_id === 'number') seen.push(this.observe(`t${detection.tracker_id}`, detection, now));
      else untracked.push(detection);
    }
    const claimed = new Set(seen.map((track) => track.id));
    const open = [...this.tracks.values()].filter((track) => track.id.startsWith('o') && !claimed.has(track.id));
    const candidates = this.candidates(open, untracked, now);
    candidates.sort((a, b) => a.cost - b.cost);
    const matched = new Set<number>();
    const used = new Set<string>();
    for (const { track, detection, cost } of candidates) {
      if (matched.has(detection) || used.has(track.id) || !Number.isFinite(cost)) continue;
      matched.add(detection);
      used.add(track.id);
      seen.push(this.observe(track.id, untracked[detection], now));
    }
    untracked.forEach((detection, index) => {
      if (!matched.has(index)) seen.push(this.observe(`o${this.nextId++}`, detection, now));
    });
    return seen;
  }

  /** Every pair close enough to be the same object (within the gate), with its cost. */
  protected candidates(open: readonly Track[], untracked: readonly Detection[], now: number): Candidate[] {
    const candidates: Candidate[] = [];
    this.lastWork = { detections: untracked.length, comparisons: 0 };
    if (open.length === 0 || untracked.length === 0) return candidates;
    // A pair matches only when its centres are within gate x (the larger box size): by
    // overlap (IoU > 0 needs them within sqrt(2) sizes) or by distance (maxDistance sizes).
    const gate = Math.max(this.maxDistance, Math.SQRT2);
    const compare = (track: Track, detection: number): void => {
      this.lastWork.comparisons++;
      const cost = this.cost(track, untracked[detection], now);
      if (cost !== undefined) candidates.push({ track, detection, cost });
    };
    const size = (box: Box): number => Math.max(box.width, box.height);
    // One pair of grids per class: objects of other classes are never looked at.
    const grids = new Map<string, { tracks: LevelGrid<Track>; detections: LevelGrid<number> }>();
    const gridsOf = (name: string): { tracks: LevelGrid<Track>; detections: LevelGrid<number> } => {
      let found = grids.get(name);
      if (!found) grids.set(name, (found = { tracks: new LevelGrid<Track>(gate), detections: new LevelGrid<number>(gate) }));
      return found;
    };
    const predicted = new Map<Track, Box>();
    for (const track of open) {
      const box = predict(track, now);
      predicted.set(track, box);
      gridsOf(track.class).tracks.add(track, box.x, box.y, size(track.box));
    }
    untracked.forEach((detection, index) => gridsOf(detection.class).detections.add(index, detection.x, detection.y, size(detection)));
    // Each pair is found once, from its smaller box: a detection looks for tracks of its
    // size level and above, a track for detections strictly above its level.
    untracked.forEach((detection, index) => gridsOf(detection.class).tracks.near(detection.x, detection.y, levelOf(size(detection)), false, MAX_COMPARED, (track) => compare(track, index)));
    for (const track of open) {
      const box = predicted.get(track);
      if (!box) continue;
      gridsOf(track.class).detections.near(box.x, box.y, levelOf(size(track.box)), true, MAX_COMPARED, (index) => compare(track, index));
    }
    return candidates;
  }

  /** Forgets an object (it left); its id is never given out again. */
  remove(id: string): void {
    this.tracks.delete(id);
  }

  /** Lower is better; undefined: too far to be the same object. Overlap wins over distance. */
  protected cost(track: Track, detection: Detection, now: number): number | undefined {
    const predicted = predict(track, now);
    const overlap = iou(predicted, detection);
    if (overlap >= this.minIou) return 1 - overlap;
    const size = Math.max(track.box.width, track.box.height, detection.width, detection.height);
    const distance = Math.hypot(predicted.x - detection.x, predicted.y - detection.y) / size;
    return distance <= this.maxDistance ? 1 + distance : undefined;
  }

  private observe(id: string, detection: Detection, now: number): Track {
    const box: Box = { x: detection.x, y: detection.y, width: detection.width, height: detection.height };
    const known = this.tracks.get(id);
    if (!known) {
      const track: Track = { id, class: detection.class, confidence: detection.confidence, maxConfidence: detection.confidence, box, firstSeen: now, lastSeen: now, hits: 1, velocity: [0, 0] };
      this.tracks.set(id, track);
      return track;
    }
    const elapsed = now - known.lastSeen;
    if (elapsed > 0) known.velocity = [(box.x - known.box.x) / elapsed, (box.y - known.box.y) / elapsed];
    known.box = box;
    known.class = detection.class;
    known.confidence = detection.confidence;
    known.maxConfidence = Math.max(known.maxConfidence, detection.confidence);
    known.lastSeen = now;
    known.hits++;
    return known;
  }
}

/** Where a track's box should be at `now`, moving on at its last velocity. */
export function predict(track: Track, now: number): Box {
  const elapsed = now - track.lastSeen;
  return { ...track.box, x: track.box.x + track.velocity[0] * elapsed, y: track.box.y + track.velocity[1] * elapsed };
}
