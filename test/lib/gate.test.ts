import { strict as assert } from 'node:assert';
import { MotionDetector, SessionGate, hasDetections, motionMask, shrinkLuma } from '../../lib';
import { PreRoll } from '../../lib/gate/pre-roll';

/** An I420 frame of a flat grey picture with one bright square (the luma plane is what counts). */
function frame(width: number, height: number, square?: { x: number; y: number; size: number }): { width: number; height: number; data: Uint8Array } {
  const data = new Uint8Array(width * height * 1.5).fill(60);
  if (square) {
    for (let y = square.y; y < square.y + square.size; y++) for (let x = square.x; x < square.x + square.size; x++) data[y * width + x] = 220;
  }
  return { width, height, data };
}

describe('motion gate', () => {
  it('shrinks a luma plane to a small sample (one pixel from the middle of each block), aspect kept', () => {
    const luma = new Uint8Array(8 * 4).map((_, i) => (i % 8 < 4 ? 0 : 200) + Math.floor(i / 8));
    const small = shrinkLuma(luma, 8, 4, 4);
    assert.deepEqual([small.width, small.height], [4, 2]);
    assert.deepEqual([...small.data], [1, 1, 201, 201, 3, 3, 203, 203]);
  });

  it('motion: a still picture never moves; a moving square does once it lasted the settle time', () => {
    const detector = new MotionDetector({ width: 160, settleMs: 200 });
    let t = 0;
    for (let i = 0; i < 10; i++) assert.equal(detector.frameI420(frame(640, 360), (t += 100)), false, 'still');
    const verdicts: boolean[] = [];
    for (let i = 0; i < 5; i++) verdicts.push(detector.frameI420(frame(640, 360, { x: 100 + i * 40, y: 100, size: 80 }), (t += 100)));
    assert.deepEqual(verdicts, [false, false, true, true, true], 'moving after 200 ms of motion');
    assert.ok(detector.lastChange > 0.01);
  });

  it('motion: a person walking slowly through a doorway counts (their whole body against the background, not the sliver that moved since the last frame); one who stops becomes background', () => {
    // The benchmark's doorway: 640x360 at 10 fps, a 40x100 person crossing 560 pixels in 6 s
    // (9 pixels a frame: under 1 % of the picture changes from one frame to the next).
    const person = (x: number): { width: number; height: number; data: Uint8Array } => {
      const picture = frame(640, 360);
      for (let y = 200; y < 300; y++) for (let dx = 0; dx < 40; dx++) picture.data[y * 640 + x + dx] = 220;
      return picture;
    };
    const detector = new MotionDetector();
    let t = 0;
    for (let i = 0; i < 30; i++) detector.frameI420(frame(640, 360), (t += 100));
    const verdicts: boolean[] = [];
    for (let i = 0; i < 60; i++) verdicts.push(detector.frameI420(person(20 + Math.round((i * 560) / 60)), (t += 100)));
    assert.ok(verdicts.slice(5).every(Boolean), `moving through the crossing: ${verdicts.map((v) => (v ? 1 : 0)).join('')}`);
    const standing: boolean[] = [];
    for (let i = 0; i < 50; i++) standing.push(detector.frameI420(person(580), (t += 100)));
    assert.deepEqual(standing.slice(-20), new Array<boolean>(20).fill(false), `stopped for 5 s: ${standing.map((v) => (v ? 1 : 0)).join('')}`);
  });

  it('motion: changes under the mask (a tree, a road; in shares of the picture) are ignored', () => {
    const masked = new MotionDetector({
      settleMs: 0,
      mask: [
        [
          [0, 0],
          [0.5, 0],
          [0.5, 1],
          [0, 1],
        ],
      ],
    });
    let t = 0;
    masked.frameI420(frame(640, 360, { x: 20, y: 100, size: 80 }), (t += 100));
    assert.equal(masked.frameI420(frame(640, 360, { x: 120, y: 100, size: 80 }), (t += 100)), false, 'the left half is masked');
    assert.equal(masked.frameI420(frame(640, 360, { x: 420, y: 100, size: 80 }), (t += 100)), true, 'the right half is not');
  });

  it('the mask as a user types it: JSON text of polygons in shares of the picture; empty is none; anything else one error saying what to fix', () => {
    assert.deepEqual(motionMask('', 'Ignore motion in'), []);
    assert.deepEqual(motionMask('  ', 'Ignore motion in'), []);
    assert.deepEqual(motionMask(undefined, 'Ignore motion in'), []);
    assert.deepEqual(motionMask('[[[0,0],[0.3,0],[0.3,1],[0,1]]]', 'Ignore motion in'), [
      [
        [0, 0],
        [0.3, 0],
        [0.3, 1],
        [0, 1],
      ],
    ]);
    assert.deepEqual(
      motionMask(
        [
          [
            [0, 0],
            [1, 0],
            [1, 0.5],
          ],
        ],
        'Ignore motion in',
      ),
      [
        [
          [0, 0],
          [1, 0],
          [1, 0.5],
        ],
      ],
    );
    const shape =
      /^RoboflowError: Ignore motion in is not valid: got object; it must be a list of polygons, each at least 3 \[x, y\] points from 0 to 1 .*e\.g\. \[\[\[0,0\],\[0\.3,0\],\[0\.3,1\],\[0,1\]\]\]/;
    assert.throws(() => motionMask('[[[0,0],[1,0]', 'Ignore motion in'), /^RoboflowError: Ignore motion in is not valid JSON: .+; it must be a list of polygons/);
    assert.throws(() => motionMask('{"x": 1}', 'Ignore motion in'), shape);
    assert.throws(() => motionMask('[[[0,0],[1,0]]]', 'Ignore motion in'), /polygon 1 is not a list of at least 3 points/);
    assert.throws(() => motionMask('[[[0,0],[1,0],[1,1]], [[0,0],[640,0],[640,360]]]', 'Ignore motion in'), /point 2 of polygon 2 is \[640,0\]/);
    assert.throws(() => motionMask('[[[0,0],[1,0],["a",1]]]', 'Ignore motion in'), /point 3 of polygon 1 is \["a",1\]/);
    assert.throws(() => motionMask('[[0,0],[1,0],[1,1]]', 'Ignore motion in'), /polygon 1 is not a list of at least 3 points/, 'one polygon without the outer list');
  });

  it('the pre-roll holds the last seconds of frames, and never more than its caps on count and bytes (oldest let go first, each one told)', () => {
    const dropped: number[] = [];
    const preRoll = new PreRoll<number>((frame) => dropped.push(frame));
    for (let index = 0; index < 50; index++) preRoll.keep(index, index * 100, 10, { maxAgeMs: 2_000, maxFrames: 300, maxBytes: 1_000_000 });
    assert.equal(preRoll.size, 21, 'the last 2 s at 10 fps');
    assert.deepEqual(dropped, [...Array(29).keys()]);
    assert.deepEqual(preRoll.next(), { frame: 29, at: 2_900 });
    dropped.length = 0;
    for (let index = 0; index < 10; index++) preRoll.keep(100 + index, 5_000, 10, { maxAgeMs: 60_000, maxFrames: 5, maxBytes: 1_000_000 });
    assert.equal(preRoll.size, 5, 'the count cap');
    preRoll.keep(200, 5_000, 35, { maxAgeMs: 60_000, maxFrames: 300, maxBytes: 50 });
    assert.deepEqual([preRoll.size, preRoll.peekAt()], [2, 5_000], 'the bytes cap: 10 + 35 <= 50');
    preRoll.clear();
    assert.equal(preRoll.size, 0);
    assert.deepEqual(dropped.slice(-2), [109, 200], 'cleared frames are told too');
  });

  it('the gate opens on motion, stays open while there is motion or detections, closes after the quiet time', () => {
    const gate = new SessionGate({ mode: 'motion', quietMs: 1_000 });
    assert.equal(gate.motion(false, 0), undefined);
    assert.equal(gate.motion(true, 100), 'open');
    assert.equal(gate.motion(true, 200), undefined, 'opens once');
    assert.equal(gate.tick(900), undefined);
    gate.detections(1_000);
    assert.equal(gate.closesInMs(1_500), 500);
    assert.equal(gate.tick(1_999), undefined, 'detections kept it open');
    assert.equal(gate.tick(2_000), 'close');
    assert.equal(gate.state, 'watching');
  });

  it('gate messages: true opens and holds, false lets the quiet time run; in any order', () => {
    const gate = new SessionGate({ mode: 'message', quietMs: 1_000 });
    assert.equal(gate.signal(false, 0), undefined, 'closing a closed gate does nothing');
    assert.equal(gate.motion(true, 10), undefined, 'message mode ignores motion');
    assert.equal(gate.signal(true, 100), 'open');
    assert.equal(gate.signal(true, 150), undefined);
    assert.equal(gate.tick(5_000), undefined, 'held open by the message');
    assert.equal(gate.closesInMs(5_000), undefined);
    assert.equal(gate.signal(false, 5_000), undefined);
    assert.equal(gate.tick(5_999), undefined);
    assert.equal(gate.tick(6_000), 'close');
  });

  it('detections anywhere in the outputs count', () => {
    assert.equal(hasDetections({ predictions: { predictions: [{ class: 'person' }] } }), true);
    assert.equal(hasDetections({ predictions: { predictions: [] }, count: 0 }), false);
    assert.equal(hasDetections(null), false);
  });
});
