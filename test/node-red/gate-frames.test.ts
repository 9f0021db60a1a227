import { strict as assert } from 'node:assert';
import type { NodeMessage } from 'node-red';
import sharp from 'sharp';
import { expectedBoxes, renderScene } from '../../server/media/scenes';
import { DOORWAY_ENTRY, quietDoorway } from '../helpers/media';
import { API_KEY, eventually, startLocalServer, type RunningServer, type Sessions } from '../helpers/local-server';
import { ALL_NODES, collect, configNode, helper, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';

const QUIET_DOORWAY = quietDoorway('quiet-doorway-frames');
const ENTRY = DOORWAY_ENTRY;

function since(before: Sessions, now: Sessions): Sessions['ended'] {
  const old = new Set([...before.active, ...before.ended].map((session) => session.id));
  return [...now.active, ...now.ended].filter((session) => !old.has(session.id));
}

const redBoxes = (msg: NodeMessage): string[] =>
  ((msg.payload as { predictions?: { predictions?: Array<{ class: string; x: number; y: number; width: number; height: number }> } } | undefined)?.predictions?.predictions ?? [])
    .filter((p) => p.class === 'red')
    .map((p) => [p.x, p.y, p.width, p.height].join(','));

describe('Node-RED: roboflow-stream motion gate on frames from the flow', function () {
  this.timeout(90_000);
  let server: RunningServer;
  let jpegs: Buffer[];

  before(async () => {
    useUserDir();
    server = await startLocalServer([]);
    jpegs = await Promise.all(
      Array.from({ length: QUIET_DOORWAY.frames }, (_, index) =>
        sharp(renderScene(QUIET_DOORWAY, index), { raw: { width: QUIET_DOORWAY.width, height: QUIET_DOORWAY.height, channels: 4 } })
          .jpeg({ quality: 90 })
          .toBuffer(),
      ),
    );
  });
  after(async () => {
    await server.stop();
  });
  afterEach(async () => {
    await helper.unload();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left');
  });

  const flow = (props: Record<string, unknown>): FlowNode[] =>
    onTab([
      configNode(server.url),
      {
        id: 'stream',
        type: 'roboflow-stream',
        roboflow: 'cfg',
        workspace: 'demo',
        workspaceType: 'str',
        workflow: 'detect-colors',
        workflowType: 'str',
        dataOutputs: 'predictions',
        source: 'frames',
        start: 'deploy',
        gate: 'motion',
        quietTime: 4,
        preRoll: 2,
        gateClasses: 'red',
        motionArea: 1,
        version: 5,
        wires: [['results'], []],
        ...props,
      },
      { id: 'results', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);

  it('no session while the doorway is empty; one for the visit, with the frames from before it was ready (pre-roll); none after the quiet time', async () => {
    const before = await server.sessions();
    await helper.load(ALL_NODES, flow({}), { cfg: { apiKey: API_KEY } });
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const results = collect(helper.getNode('results'));
    const caught = collect(helper.getNode('caught'));
    await eventually(() => statuses.some((s) => s.text === 'watching (no motion)'), 5_000, 'watching');
    // A camera in the flow: one JPEG every 100 ms, as they come.
    const pushedAt: number[] = [];
    for (let index = 0; index < QUIET_DOORWAY.frames; index++) {
      if (index === ENTRY) assert.equal(since(before, await server.sessions()).length, 0, 'no session while the doorway is empty');
      pushedAt.push(Date.now());
      node.receive({ payload: jpegs[index] });
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'the session closed after the quiet time');
    const ours = since(before, await server.sessions());
    assert.equal(ours.length, 1, `one session for the one visit: ${statuses.map((s) => s.text).join(' | ')}`);
    const session = ours[0];
    const startedAt = Date.parse(session.startedAt);
    const endedAt = Date.parse(session.endedAt!);
    assert.ok(startedAt >= pushedAt[ENTRY], 'opened when the person appeared');
    assert.ok(endedAt < pushedAt[pushedAt.length - 1], `closed after the quiet time, before the scene's last frame (lasted ${(endedAt - startedAt) / 1000} s)`);
    // Counted on the server: more frames reached it than came while the session ran (the
    // pre-roll was sent first; a realtime session may skip some of them, so received, not processed).
    const duringSession = pushedAt.filter((at) => at >= startedAt && at <= endedAt).length;
    assert.ok(session.framesReceived > duringSession, `the server received ${session.framesReceived} frames, ${duringSession} came while it ran`);
    const first = expectedBoxes(QUIET_DOORWAY, ENTRY).find((box) => box.color === 'red')!;
    const seen = results.flatMap(redBoxes);
    assert.ok(seen.includes([first.x, first.y, first.width, first.height].join(',')), `the entry frame was analysed: ${seen.slice(0, 5).join(' | ')}`);
    assert.ok(
      results.some((msg) => redBoxes(msg).length === 0),
      'and frames from before the person appeared',
    );
    const story = statuses.map((s) => s.text).join(' | ');
    assert.ok(
      statuses.some((s) => /^streaming( \d+ fps)? \(motion\)/.test(s.text ?? '')),
      story,
    );
    assert.ok(
      statuses.some((s) => /^closing in \d s$/.test(s.text ?? '')),
      story,
    );
    assert.equal(statuses[statuses.length - 1]?.text, 'watching (no motion)');
    assert.equal(caught.length, 0);
  });

  it('an image the flow sends that is not readable: one clear error, the gate keeps watching', async () => {
    await helper.load(ALL_NODES, flow({}), { cfg: { apiKey: API_KEY } });
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const caught = collect(helper.getNode('caught'));
    await eventually(() => statuses.some((s) => s.text === 'watching (no motion)'), 5_000, 'watching');
    node.receive({ payload: Buffer.from('not an image') });
    await eventually(() => caught.length === 1, 5_000, 'one error for Catch nodes');
    assert.match((caught[0].error as { message: string }).message, /Frame is not a readable image/);
    node.receive({ payload: jpegs[0] });
    node.receive({ payload: jpegs[1] });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(caught.length, 1);
  });

  it("a motion gate on a camera Roboflow's server reads, or on a file: one clear error that names a field the source shows", async () => {
    await helper.load(ALL_NODES, flow({ id: 'stream', source: 'rtsp', url: 'rtsp://camera.invalid/stream', urlType: 'str', capture: 'server' }), { cfg: { apiKey: API_KEY } });
    const rtsp = recordStatuses(helper.getNode('stream'));
    await eventually(() => rtsp.some((s) => s.fill === 'red' && /motion gate watches the picture on this machine/i.test(s.text ?? '')), 5_000, 'red status (camera)');
    await helper.unload();
    await helper.load(ALL_NODES, flow({ source: 'file', url: '/tmp/clip.mp4', urlType: 'str' }), { cfg: { apiKey: API_KEY } });
    const file = recordStatuses(helper.getNode('stream'));
    await eventually(() => file.some((s) => s.fill === 'red' && (s.text ?? '').includes('A video file is not gated')), 5_000, 'red status (file)');
  });
});
