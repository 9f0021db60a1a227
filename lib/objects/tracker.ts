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

interface Candidate {
  track: Track;
  detection: number;
  cost: number;
}

/**
 * Our own tracker, for workflows without one: each frame's detections are matched to the
 * objects seen before by overlap with their predicted box (constant velocity, so two
 * objects passing each other keep their ids), then by distance, cheapest pair first, one
 * class at a time. Detections carrying the workflow's `tracker_id` are taken as given.
 * Tracks are never dropped here: the caller decides when an unseen object has left.
 */
export class ObjectTracker {
  private readonly minIou: number;
  private readonly maxDistance: number;
  private nextId = 1;
  readonly tracks = new Map<string, Track>();

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
    const candidates: Candidate[] = [];
    untracked.forEach((detection, index) => {
      for (const track of open) {
        if (track.class !== detection.class) continue;
        const cost = this.cost(track, detection, now);
        if (cost !== undefined) candidates.push({ track, detection: index, cost });
      }
    });
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

  /** Forgets an object (it left); its id is never given out again. */
  remove(id: string): void {
    this.tracks.delete(id);
  }

  /** Lower is better; undefined: too far to be the same object. Overlap wins over distance. */
  private cost(track: Track, detection: Detection, now: number): number | undefined {
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
