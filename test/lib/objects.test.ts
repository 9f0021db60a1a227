import { strict as assert } from 'node:assert';
import fc from 'fast-check';
import sharp from 'sharp';
import {
  AlertPolicy,
  ObjectEvents,
  ObjectTracker,
  crosses,
  crossingDirection,
  insidePolygon,
  iou,
  renderSnapshot,
  type Candidate,
  type Detection,
  type ObjectEvent,
  type Point,
  type Track,
} from '../../lib';

const box = (x: number, y: number, cls = 'person', confidence = 0.9, size = 40): Detection => ({ x, y, width: size, height: size, class: cls, confidence });
const summary = (events: ObjectEvent[]): string[] =>
  events.map((event) => `${event.type}:${event.object.id}${'zone' in event ? `@${event.zone}` : ''}${'line' in event ? `@${event.line}:${event.direction}` : ''}`);

describe('objects: geometry', () => {
  it('overlap, polygons and line crossings with their direction', () => {
    assert.equal(iou(box(0, 0), box(0, 0)), 1);
    assert.equal(iou(box(0, 0), box(100, 0)), 0);
    assert.ok(Math.abs(iou(box(0, 0), box(20, 0)) - 1 / 3) < 1e-9);
    const square: Point[] = [
      [0, 0],
      [100, 0],
      [100, 100],
      [0, 100],
    ];
    assert.equal(insidePolygon([50, 50], square), true);
    assert.equal(insidePolygon([150, 50], square), false);
    const triangle: Point[] = [
      [0, 0],
      [100, 0],
      [0, 100],
    ];
    assert.equal(insidePolygon([80, 80], triangle), false);
    // A vertical line x = 50 from y 0 to 100.
    assert.equal(crosses([50, 0], [50, 100], [40, 50], [60, 50]), true);
    assert.equal(crossingDirection([50, 0], [50, 100], [40, 50], [60, 50]), 'left-to-right');
    assert.equal(crossingDirection([50, 100], [50, 0], [60, 50], [40, 50]), 'right-to-left', 'the direction does not depend on how the line was drawn');
    assert.equal(crosses([50, 0], [50, 100], [40, 150], [60, 150]), false, 'passing beyond the end of the line');
    assert.equal(crosses([50, 0], [50, 100], [40, 50], [50, 50]), false, 'reaching the line is not crossing it');
    assert.equal(crossingDirection([0, 50], [100, 50], [50, 40], [50, 60]), 'top-to-bottom');
  });
});

describe('objects: tracker', () => {
  it('two objects passing each other keep their ids (constant-velocity prediction)', () => {
    const tracker = new ObjectTracker();
    const ids: Array<[string, string]> = [];
    for (let step = 0; step <= 10; step++) {
      // One moves right along y = 100, the other left along y = 130: their boxes overlap mid-way.
      const seen = tracker.update([box(20 + step * 20, 100), box(220 - step * 20, 130)], step * 100);
      const right = seen.find((track) => track.box.y === 100)!;
      const left = seen.find((track) => track.box.y === 130)!;
      ids.push([right.id, left.id]);
    }
    assert.ok(
      ids.every(([a, b]) => a === ids[0][0] && b === ids[0][1]),
      JSON.stringify(ids),
    );
    assert.notEqual(ids[0][0], ids[0][1]);
  });

  it("takes the workflow's tracker_id as the identity", () => {
    const tracker = new ObjectTracker();
    const first = tracker.update([{ ...box(10, 10), tracker_id: 7 }], 0);
    const second = tracker.update([{ ...box(300, 300), tracker_id: 7 }], 100);
    assert.equal(first[0].id, 't7');
    assert.equal(second[0].id, 't7', 'even far away: the workflow said it is the same object');
  });

  it('does not match across classes or too far', () => {
    const tracker = new ObjectTracker();
    const [a] = tracker.update([box(100, 100, 'person')], 0);
    const [b] = tracker.update([box(100, 100, 'car')], 100);
    const [c] = tracker.update([box(400, 400, 'person')], 200);
    assert.equal(new Set([a.id, b.id, c.id]).size, 3);
  });
});

/**
 * A crowd of `count` objects on a jittered grid (two classes, 16-48 px boxes), moved by
 * `step` px: spread over a 1920x1080 frame, or `pitch` px apart whatever their number.
 */
function crowd(count: number, step = 0, spacing?: number): Detection[] {
  const columns = spacing ? Math.ceil(Math.sqrt(count)) : Math.ceil(Math.sqrt((count * 16) / 9));
  const pitch = spacing ?? 1920 / columns;
  return Array.from({ length: count }, (_, i) => {
    const jitter = ((i * 7919) % 13) - 6;
    const size = 16 + ((i * 31) % 33);
    return { ...box((i % columns) * pitch + pitch / 2 + jitter + step, Math.floor(i / columns) * pitch + pitch / 2 - jitter, i % 5 === 0 ? 'car' : 'person', 0.5 + ((i * 17) % 50) / 100, size) };
  });
}

/**
 * How many track/detection pairs `run` has the tracker price, counted where any version
 * of it prices a pair (its cost method), whatever its matching does.
 */
function pricedPairs(run: () => void): number {
  const prototype = ObjectTracker.prototype as unknown as { cost: (...args: unknown[]) => unknown };
  const original = prototype.cost;
  let count = 0;
  prototype.cost = function (this: unknown, ...args: unknown[]) {
    count++;
    return original.apply(this, args);
  };
  try {
    run();
  } finally {
    prototype.cost = original;
  }
  return count;
}

/** Which id the tracker gave the detection at each place. */
function idsByPlace(tracks: Track[]): Map<string, string> {
  return new Map(tracks.map((track) => [`${track.box.x},${track.box.y}`, track.id]));
}

/** The reference: every open track priced against every detection (what the grid must agree with). */
class EveryPairTracker extends ObjectTracker {
  protected override candidates(open: readonly Track[], untracked: readonly Detection[], now: number): Candidate[] {
    const candidates: Candidate[] = [];
    untracked.forEach((detection, index) => {
      for (const track of open) {
        if (track.class !== detection.class) continue;
        const cost = this.cost(track, detection, now);
        if (cost !== undefined) candidates.push({ track, detection: index, cost });
      }
    });
    return candidates;
  }
}

describe('objects: tracker work per frame', () => {
  it('4,000 detections a frame: each is priced against its neighbours only, every object keeps its id', () => {
    const work = (count: number, spacing?: number): number => {
      const tracker = new ObjectTracker();
      const first = idsByPlace(tracker.update(crowd(count, 0, spacing), 0));
      let second = new Map<string, string>();
      const priced = pricedPairs(() => (second = idsByPlace(tracker.update(crowd(count, 3, spacing), 100))));
      const moved = crowd(count, 3, spacing);
      crowd(count, 0, spacing).forEach((detection, i) => assert.equal(second.get(`${moved[i].x},${moved[i].y}`), first.get(`${detection.x},${detection.y}`), `${count}: object ${i} keeps its id`));
      return priced;
    };
    // In one 1920x1080 frame (a dense crowd, boxes overlapping): pricing every pair would be 16,000,000.
    const inFrame = work(4_000);
    assert.ok(inFrame <= 4_000 * 64, `4,000 detections priced ${inFrame} pairs`);
    // At the same density, 4,000 objects cost about 13 times what 300 do (every pair: 178 times).
    const small = work(300, 60);
    const large = work(4_000, 60);
    assert.ok(large <= small * (4_000 / 300) * 2, `the work grows with the objects, not their square: ${small} pairs for 300, ${large} for 4,000`);
  });

  it('a crowd packed in one place still costs a bounded amount per detection', () => {
    const tracker = new ObjectTracker();
    const packed = Array.from({ length: 2_000 }, (_, i) => box(500 + (i % 40), 500 + Math.floor(i / 40), 'person', 0.9, 30));
    tracker.update(packed, 0);
    const priced = pricedPairs(() => tracker.update(packed, 100));
    assert.ok(priced <= 2_000 * 64, `priced ${priced} pairs`);
  });

  it('finds the same matches as pricing every pair (random scenes)', () => {
    const scene = fc.array(
      fc.record({
        x: fc.integer({ min: 0, max: 640 }),
        y: fc.integer({ min: 0, max: 360 }),
        size: fc.integer({ min: 4, max: 200 }),
        dx: fc.integer({ min: -30, max: 30 }),
        dy: fc.integer({ min: -30, max: 30 }),
        car: fc.boolean(),
      }),
      { minLength: 1, maxLength: 25 },
    );
    fc.assert(
      fc.property(scene, fc.integer({ min: 2, max: 5 }), (objects, frames) => {
        const grid = new ObjectTracker();
        const reference = new EveryPairTracker();
        for (let frame = 0; frame < frames; frame++) {
          // Sizes and positions with fractions: equal costs (ties) would make either answer right.
          const detections = objects.map((o, i) => box(o.x + o.dx * frame + i / 997, o.y + o.dy * frame + i / 991, o.car ? 'car' : 'person', 0.9, o.size + i / 101));
          assert.deepEqual(idsByPlace(grid.update(detections, frame * 100)), idsByPlace(reference.update(detections, frame * 100)));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('beyond maxDetections a frame, only the most confident are followed, and the frame says how many were skipped', () => {
    const objects = new ObjectEvents({ maxDetections: 1_000 });
    const detections = crowd(1_500);
    const events = objects.update(detections, 0);
    assert.deepEqual([objects.lastFrame.followed, objects.lastFrame.skipped], [1_000, 500]);
    assert.equal(events.filter((event) => event.type === 'enter').length, 1_000);
    const weakest = Math.min(...objects.objects().map((object) => object.confidence));
    const skipped = [...detections].sort((a, b) => b.confidence - a.confidence).slice(1_000);
    assert.ok(
      skipped.every((detection) => detection.confidence <= weakest),
      'the least confident were left out',
    );
  });
});

describe('objects: events', () => {
  it('enter once, no second visit for a detection missing two frames, leave after the leave time', () => {
    const objects = new ObjectEvents({ leaveAfterMs: 500 });
    const events: ObjectEvent[] = [];
    for (let frame = 0; frame < 20; frame++) {
      const missing = frame === 8 || frame === 9;
      events.push(...objects.update(missing ? [] : [box(50 + frame * 5, 100)], frame * 100));
    }
    assert.deepEqual(summary(events), ['enter:o1']);
    events.length = 0;
    events.push(...objects.update([], 2_000), ...objects.update([], 2_500));
    assert.deepEqual(summary(events), ['leave:o1']);
    const leave = events[0];
    assert.equal(leave.time, 1_900, 'left when last seen');
    assert.equal(leave.object.dwellMs, 1_900);
  });

  it('zones: enter and leave by the anchor (bottom centre by default), counts by zone and class', () => {
    const door: Point[] = [
      [200, 0],
      [300, 0],
      [300, 200],
      [200, 200],
    ];
    const objects = new ObjectEvents({ zones: [{ name: 'door', polygon: door }] });
    const events: ObjectEvent[] = [];
    // Centre y 170, height 40: the feet (y 190) are inside the zone; x walks 150 -> 350.
    for (let step = 0; step <= 10; step++) {
      events.push(...objects.update([box(150 + step * 20, 170)], step * 100));
      if (step === 5) assert.deepEqual(objects.counts().zones.door, { count: 1, byClass: { person: 1 } });
    }
    assert.deepEqual(summary(events), ['enter:o1', 'zone-enter:o1@door', 'zone-leave:o1@door']);
    assert.equal(events[1].time, 300, 'x = 210 at step 3 is the first inside');
    assert.equal(events[2].time, 800, 'x = 310 at step 8 is the first outside');
    assert.deepEqual(objects.counts().zones.door, { count: 0, byClass: {} });
  });

  it('an object that leaves while in a zone leaves the zone too; end() lets everyone leave', () => {
    const objects = new ObjectEvents({
      zones: [
        {
          name: 'all',
          polygon: [
            [0, 0],
            [1000, 0],
            [1000, 1000],
            [0, 1000],
          ],
        },
      ],
    });
    objects.update([box(100, 100), box(500, 500)], 0);
    assert.deepEqual(summary(objects.end()), ['zone-leave:o1@all', 'leave:o1', 'zone-leave:o2@all', 'leave:o2']);
    assert.equal(objects.counts().objects, 0);
  });

  it('lines: crossings with direction, counted per line', () => {
    const objects = new ObjectEvents({ lines: [{ name: 'gate', from: [100, 0], to: [100, 300] }], anchor: 'center' });
    const events: ObjectEvent[] = [];
    for (let step = 0; step <= 6; step++) events.push(...objects.update([box(40 + step * 20, 50, 'person'), box(160 - step * 20, 250, 'car')], step * 100));
    assert.deepEqual(
      summary(events).filter((line) => line.startsWith('line')),
      ['line-cross:o1@gate:left-to-right', 'line-cross:o2@gate:right-to-left'],
    );
    assert.deepEqual(objects.counts().lines.gate, { 'left-to-right': 1, 'right-to-left': 1 });
  });

  it('throttled updates, class filter and minimum confidence', () => {
    const objects = new ObjectEvents({ updateEveryMs: 300, classes: ['person'], minConfidence: 0.5 });
    const events: ObjectEvent[] = [];
    for (let step = 0; step <= 10; step++) events.push(...objects.update([box(100, 100, 'person'), box(300, 300, 'car'), box(500, 500, 'person', 0.2)], step * 100));
    assert.deepEqual(summary(events), ['enter:o1', 'update:o1', 'update:o1', 'update:o1']);
  });
});

describe('objects: alert policy', () => {
  it('once per object, re-armed when it leaves', () => {
    const objects = new ObjectEvents({ leaveAfterMs: 200 });
    const policy = new AlertPolicy();
    const alerts: string[] = [];
    const run = (detections: Detection[], now: number): void => {
      for (const event of objects.update(detections, now)) if (event.type === 'leave') policy.forget(event.object.id);
      alerts.push(...policy.check(objects.objects(), now).alerts.map((object) => `${object.id}@${now}`));
    };
    for (let t = 0; t < 1_000; t += 100) run([box(100, 100)], t);
    run([], 1_500);
    for (let t = 2_000; t < 2_500; t += 100) run([box(100, 100)], t);
    assert.deepEqual(alerts, ['o1@0', 'o2@2000']);
  });

  it('minimum dwell, per-class confidence, zones', () => {
    const objects = new ObjectEvents({
      zones: [
        {
          name: 'door',
          polygon: [
            [0, 0],
            [200, 0],
            [200, 400],
            [0, 400],
          ],
        },
      ],
    });
    const policy = new AlertPolicy({ minDwellMs: 300, minConfidence: { person: 0.8, '*': 0.3 }, zones: ['door'] });
    const alerts: string[] = [];
    for (let t = 0; t <= 1_000; t += 100) {
      objects.update([box(100, 100, 'person', 0.9), box(150, 100, 'person', 0.7), box(100, 300, 'cat', 0.4), box(600, 300, 'cat', 0.9)], t);
      alerts.push(...policy.check(objects.objects(), t).alerts.map((object) => `${object.class}:${object.id}@${t}`));
    }
    // o1 person 0.9 in the door: after 300 ms; o2 person 0.7: never; o3 cat 0.4 in the door: after 300 ms; o4 outside: never.
    assert.deepEqual(alerts, ['person:o1@300', 'cat:o3@300']);
  });

  it('the rate cap defers alerts instead of dropping them', () => {
    const objects = new ObjectEvents({ leaveAfterMs: 120_000 });
    const policy = new AlertPolicy({ maxPerMinute: 2 });
    objects.update([box(100, 100), box(300, 100), box(500, 100)], 0);
    const first = policy.check(objects.objects(), 0);
    assert.deepEqual([first.alerts.map((o) => o.id), first.deferred], [['o1', 'o2'], 1]);
    objects.update([box(100, 100), box(300, 100), box(500, 100)], 30_000);
    assert.deepEqual(policy.check(objects.objects(), 30_000).alerts, []);
    objects.update([box(100, 100), box(300, 100), box(500, 100)], 60_000);
    assert.deepEqual(
      policy.check(objects.objects(), 60_000).alerts.map((o) => o.id),
      ['o3'],
      'alerts once a minute has passed',
    );
  });
});

describe('objects: snapshot', () => {
  it('draws the boxes on the frame: a JPEG of the same size with the alert colour on the box edge', async () => {
    const frame = await sharp({ create: { width: 320, height: 240, channels: 3, background: { r: 30, g: 30, b: 30 } } })
      .jpeg()
      .toBuffer();
    const snapshot = await renderSnapshot(frame, [{ box: { x: 160, y: 120, width: 100, height: 80 }, label: 'person 0.93', highlight: true }], { draw: true });
    assert.deepEqual([snapshot.width, snapshot.height], [320, 240]);
    assert.deepEqual([snapshot.jpeg[0], snapshot.jpeg[1]], [0xff, 0xd8]);
    const { data, info } = await sharp(snapshot.jpeg).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const [r, g, b] = pixel(110, 120); // the left edge of the box
    assert.ok(r > 200 && g < 120 && b < 140, `the edge is drawn in the alert colour: ${[r, g, b]}`);
    assert.deepEqual(
      pixel(160, 120).map((v) => Math.abs(v - 30) < 12),
      [true, true, true],
      'the inside is the frame',
    );
  });

  it('scales boxes from the detection size to a smaller image, and passes a rendered JPEG through', async () => {
    const small = await sharp({ create: { width: 160, height: 120, channels: 3, background: { r: 0, g: 0, b: 0 } } })
      .png()
      .toBuffer();
    const scaled = await renderSnapshot(small, [{ box: { x: 160, y: 120, width: 100, height: 80 }, label: 'x', highlight: true }], { draw: true, sourceSize: { width: 320, height: 240 } });
    const { data, info } = await sharp(scaled.jpeg).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number): number => data[(y * info.width + x) * info.channels];
    assert.ok(at(55, 60) > 150, 'the left edge at x = 55 (110 / 2)');
    const rendered = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 9, g: 9, b: 9 } } })
      .jpeg()
      .toBuffer();
    const passed = await renderSnapshot(rendered, [{ box: { x: 1, y: 1, width: 2, height: 2 }, label: 'x' }], { draw: false });
    assert.equal(passed.jpeg, rendered, 'the workflow drew the boxes: the JPEG is used as it is');
  });
});
