import { strict as assert } from 'node:assert';
import { FrameReader } from '../../server/media/frame-reader';
import { SCENES, expectedBoxes, getScene, renderScene } from '../../server/media/scenes';
import { BUILTIN_WORKFLOWS, describeBuiltins, findBuiltin } from '../../server/workflows/builtins';
import { compileWorkflow, WorkflowDefinitionError } from '../../server/workflows/engine';
import { sceneVideo } from '../helpers/media';

interface Prediction {
  x: number;
  y: number;
  width: number;
  height: number;
  class: string;
  class_id: number;
  confidence: number;
  tracker_id?: number;
}

const run = (id: string, parameters: Record<string, unknown> = {}) => compileWorkflow(findBuiltin(id)!.specification, 'image').createRun(parameters);
const predictionsOf = (outputs: Record<string, unknown>): Prediction[] => (outputs.predictions as { predictions: Prediction[] }).predictions;
const sortBoxes = <T extends { x: number; y: number }>(boxes: T[]): T[] => [...boxes].sort((a, b) => a.y - b.y || a.x - b.x);

describe('local server workflows', () => {
  for (const scene of Object.values(SCENES)) {
    it(`detect-colors finds exactly the objects of scene "${scene.name}" in rendered frames`, () => {
      const detector = run('detect-colors');
      for (let index = 0; index < scene.frames; index += 3) {
        const outputs = detector.process({ width: scene.width, height: scene.height, rgba: renderScene(scene, index) }, {});
        const expected = expectedBoxes(scene, index);
        const got = predictionsOf(outputs);
        // Objects of one colour that touch are one blob; the scenes keep them apart.
        assert.deepEqual(
          sortBoxes(got).map((p) => [p.class, p.x, p.y, p.width, p.height]),
          sortBoxes(expected).map((b) => [b.color, b.x, b.y, b.width, b.height]),
          `frame ${index}`,
        );
        assert.equal(outputs.count, expected.length);
      }
    });
  }

  it('keeps detections exact through H.264 encoding and ffmpeg decoding', async () => {
    const scene = getScene('two-squares');
    const detector = run('detect-colors');
    const path = await sceneVideo('two-squares');
    let frames = 0;
    await new Promise<void>((resolve, reject) => {
      new FrameReader(
        { input: path },
        {
          onFrame: (frame) => {
            frames++;
            const got = sortBoxes(predictionsOf(detector.process(frame, {}))).map((p) => [p.class, p.x, p.y, p.width, p.height]);
            const expected = sortBoxes(expectedBoxes(scene, frame.index - 1)).map((b) => [b.color, b.x, b.y, b.width, b.height]);
            assert.deepEqual(got, expected, `frame ${frame.index}`);
          },
          onEnd: (error) => (error ? reject(error) : resolve()),
        },
      ).start();
    });
    assert.equal(frames, scene.frames);
  });

  it('renames classes and filters colours through workflow parameters', () => {
    const scene = getScene('door');
    const outputs = run('detect-colors', { class_names: { red: 'person' }, colors: ['red'] }).process({ width: scene.width, height: scene.height, rgba: renderScene(scene, 45) }, {});
    assert.deepEqual(
      predictionsOf(outputs).map((p) => p.class),
      ['person'],
    );
  });

  it('track-colors keeps tracker ids when two same-coloured objects pass each other', () => {
    const scene = getScene('crossing');
    const tracker = run('track-colors');
    const idsByObject = new Map<string, Set<number>>();
    for (let index = 0; index < scene.frames; index++) {
      const predictions = predictionsOf(tracker.process({ width: scene.width, height: scene.height, rgba: renderScene(scene, index) }, {}));
      for (const box of expectedBoxes(scene, index)) {
        const match = predictions.find((p) => Math.abs(p.x - box.x) < 2 && Math.abs(p.y - box.y) < 2);
        assert.ok(match?.tracker_id, `frame ${index}: ${box.object} tracked`);
        const ids = idsByObject.get(box.object) ?? new Set();
        ids.add(match.tracker_id);
        idsByObject.set(box.object, ids);
      }
    }
    assert.deepEqual(
      [...idsByObject.values()].map((ids) => ids.size),
      [1, 1],
    );
    assert.notDeepEqual([...idsByObject.get('left-ball')!], [...idsByObject.get('right-ball')!]);
  });

  it('motion reports change between frames and none for a still scene', () => {
    const scene = getScene('two-squares');
    const motion = run('motion');
    const frame = (index: number) => ({ width: scene.width, height: scene.height, rgba: renderScene(scene, index) });
    assert.equal(motion.process(frame(0), {}).motion, 0);
    const moved = motion.process(frame(5), {});
    assert.ok((moved.motion as number) > 0.01);
    assert.equal(moved.motion_detected, true);
    assert.deepEqual(motion.process(frame(5), {}), { motion: 0, motion_detected: false });
  });

  it('lists built-in workflows with their outputs, image outputs and parameters', () => {
    const listing = describeBuiltins();
    assert.deepEqual(
      listing.map((w) => w.id),
      BUILTIN_WORKFLOWS.map((w) => w.id),
    );
    const detect = listing.find((w) => w.id === 'detect-colors')!;
    assert.deepEqual(detect.outputs, ['predictions', 'count', 'output_image']);
    assert.deepEqual(detect.image_outputs, ['output_image']);
    assert.deepEqual(detect.parameters, { colors: null, min_area: 64, class_names: {} });
  });

  for (const [name, spec, message] of [
    ['an unknown block', { inputs: [{ type: 'WorkflowImage', name: 'image' }], steps: [{ type: 'roboflow_core/yolo@v1', name: 'm' }], outputs: [] }, /Unknown block type "roboflow_core\/yolo@v1"/],
    ['no image input of that name', { inputs: [{ type: 'WorkflowImage', name: 'picture' }], steps: [], outputs: [] }, /no image input named "image"/],
    ['a dangling selector', { inputs: [{ type: 'WorkflowImage', name: 'image' }], steps: [], outputs: [{ name: 'x', selector: '$steps.nope.predictions' }] }, /unknown step "nope"/],
    ['a missing step field', { inputs: [{ type: 'WorkflowImage', name: 'image' }], steps: [{ type: 'local/color_detector@v1', name: 'd' }], outputs: [] }, /Step "d" needs "image"/],
    ['steps that are not a list', { inputs: [], steps: {}, outputs: [] }, /steps must be a list/],
  ] as const) {
    it(`rejects a specification with ${name}`, () => {
      assert.throws(
        () => compileWorkflow(spec, 'image'),
        (error: Error) => error instanceof WorkflowDefinitionError && message.test(error.message),
      );
    });
  }
});
