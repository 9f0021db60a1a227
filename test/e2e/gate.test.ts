import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { CapturedStream, type StreamResult } from '../../lib';
import { generateSceneVideo } from '../../server/media/generate';
import { expectedBoxes } from '../../server/media/scenes';
import { eventually, startLocalServer, type RunningServer, type Sessions } from '../helpers/local-server';
import { MEDIA_DIR, DOORWAY_ENTRY, quietDoorway } from '../helpers/media';

const QUIET_DOORWAY = quietDoorway('quiet-doorway', { doorFrame: true });
const ENTRY = DOORWAY_ENTRY;

function since(before: Sessions, now: Sessions): Sessions['ended'] {
  const old = new Set([...before.active, ...before.ended].map((session) => session.id));
  return [...now.active, ...now.ended].filter((session) => !old.has(session.id));
}

const redBoxes = (result: StreamResult): string[] =>
  ((result.data?.predictions as { predictions?: Array<{ class: string; x: number; y: number; width: number; height: number }> } | undefined)?.predictions ?? [])
    .filter((p) => p.class === 'red')
    .map((p) => [p.x, p.y, p.width, p.height].join(','));

describe('motion-gated stream: a session only while something happens (engine)', function () {
  this.timeout(90_000);
  let server: RunningServer;
  let video: string;

  before(async () => {
    server = await startLocalServer([]);
    video = join(MEDIA_DIR, 'quiet-doorway.mp4');
    await generateSceneVideo(QUIET_DOORWAY, video);
  });
  after(async () => {
    await server.stop();
  });

  it('no session while the doorway is empty; one opens when the person appears, with the frames before it (pre-roll); it closes after the quiet time', async () => {
    const before = await server.sessions();
    const stream = new CapturedStream({
      connection: server.connection(),
      workflow: { workspace: 'demo', workflowId: 'detect-colors' },
      camera: { kind: 'file', path: video, loop: false },
      dataOutputs: ['predictions'],
      gate: { mode: 'motion', quietMs: 2_000, preRollMs: 2_000, holdClasses: ['red'] },
    });
    const results: StreamResult[] = [];
    const gates: string[] = [];
    stream.on('result', (result) => results.push(result));
    stream.on('gate', ({ state }) => gates.push(state));
    const started = Date.now();
    stream.start();
    try {
      await eventually(() => stream.cameraState === 'open', 20_000, 'the camera');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.equal(since(before, await server.sessions()).length, 0, 'no session while nothing moves');
      await eventually(() => gates.includes('open'), 10_000, 'the gate opening');
      await eventually(() => gates.lastIndexOf('watching') > gates.indexOf('open'), 20_000, 'the gate closing after the quiet time');
      await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'the session ended');
    } finally {
      await stream.stop();
    }
    const ours = since(before, await server.sessions());
    assert.equal(ours.length, 1, 'one session for the one visit');
    const session = ours[0];
    const openedAfter = (Date.parse(session.startedAt) - started) / 1000;
    const lasted = (Date.parse(session.endedAt!) - Date.parse(session.startedAt)) / 1000;
    assert.ok(openedAfter >= 2.5, `opened ${openedAfter.toFixed(1)} s in, when the person appeared (3 s)`);
    assert.ok(lasted >= 2 && lasted < 10, `open for ${lasted.toFixed(1)} s: the visit (3 s) plus the quiet time (2 s)`);
    // The pre-roll: the person's very first position was analysed, although motion was
    // noticed and the session connected only after it.
    const first = expectedBoxes(QUIET_DOORWAY, ENTRY).find((box) => box.color === 'red')!;
    const seen = results.flatMap(redBoxes);
    assert.ok(seen.includes([first.x, first.y, first.width, first.height].join(',')), `the entry frame was analysed: ${seen.slice(0, 5).join(' | ')}`);
    assert.ok(
      results.some((result) => redBoxes(result).length === 0),
      'and frames from before the person appeared',
    );
  });
});
