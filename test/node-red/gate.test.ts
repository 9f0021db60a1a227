import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { generateSceneVideo } from '../../server/media/generate';
import { API_KEY, eventually, peakConcurrency, startLocalServer, type RunningServer, type Sessions } from '../helpers/local-server';
import { MEDIA_DIR, quietDoorway } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';

const QUIET_DOORWAY = quietDoorway('quiet-doorway-node');

function since(before: Sessions, now: Sessions): Sessions {
  const old = new Set([...before.active, ...before.ended].map((session) => session.id));
  return { ...now, active: now.active.filter((s) => !old.has(s.id)), ended: now.ended.filter((s) => !old.has(s.id)) };
}

describe('Node-RED: roboflow-stream gated (pay only for what you watch)', function () {
  this.timeout(90_000);
  let server: RunningServer;

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--rtsp-port', '0']);
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
        workflowSpec: '',
        imageInput: 'image',
        dataOutputs: 'predictions',
        streamOutputs: '',
        parameters: '',
        urlType: 'str',
        realtime: '',
        start: 'deploy',
        capture: 'server',
        maxFps: 10,
        maxSize: 1280,
        hwaccel: 'none',
        rtspTransport: 'tcp',
        loop: false,
        gateClasses: 'red',
        motionArea: 1,
        preRoll: 2,
        version: 3,
        wires: [['results'], []],
        ...props,
      },
      { id: 'results', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);

  it('gate messages open and close the session (a door sensor); in any order they never leave one open', async () => {
    const url = (await server.cameras()).find((camera) => camera.name === 'two-squares')!.rtsp_url!;
    const before = await server.sessions();
    // Detections of 'person' would keep it open; this scene has none, so only the messages count.
    await helper.load(ALL_NODES, flow({ source: 'rtsp', url, gate: 'message', quietTime: 1, gateClasses: 'person' }), { cfg: { apiKey: API_KEY } });
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const results = collect(helper.getNode('results'));
    await eventually(() => statuses.some((s) => s.text === 'waiting for the gate'), 5_000, 'waiting for the gate');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(since(before, await server.sessions()).active.length, 0, 'no session before the gate opens');
    // Closing a closed gate, then opening twice: one session.
    node.receive({ topic: 'gate', payload: false });
    node.receive({ topic: 'gate', payload: true });
    node.receive({ topic: 'gate', payload: 'open' });
    await eventually(() => results.length >= 3, 15_000, 'results while the gate is open');
    await eventually(() => statuses.some((s) => /^streaming.*\(gate\)/.test(s.text ?? '')), 5_000, '"(gate)" on the status');
    node.receive({ topic: 'gate', payload: false });
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'the session closed after the quiet time');
    // A burst of messages in any order, ending closed.
    for (const payload of [true, false, true, true, false, false, true, false]) node.receive({ topic: 'gate', payload });
    await eventually(async () => (await server.sessions()).active.length === 0 && statuses[statuses.length - 1]?.text === 'waiting for the gate', 15_000, 'closed again after the burst');
    // The status stays so (no late "streaming" from the session that wound down).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.equal(statuses[statuses.length - 1]?.text, 'waiting for the gate', statuses.map((s) => s.text).join(' | '));
    const ours = since(before, await server.sessions());
    assert.ok(peakConcurrency(ours) <= 1, 'never two sessions');
    node.receive({ topic: 'gate', payload: 'maybe' });
    const caught = collect(helper.getNode('caught'));
    await eventually(() => caught.length === 1, 5_000, 'a bad gate message is one clear error');
    assert.match((caught[0].error as { message: string }).message, /gate message needs msg.payload true/);
  });

  it('motion gate on a camera read here: "watching (no motion)", a session for the visit, "closing in N s", watching again', async () => {
    const video = join(MEDIA_DIR, 'quiet-doorway-node.mp4');
    await generateSceneVideo(QUIET_DOORWAY, video);
    const before = await server.sessions();
    await helper.load(ALL_NODES, flow({ source: 'replay', url: video, loop: false, gate: 'motion', quietTime: 3 }), { cfg: { apiKey: API_KEY } });
    const statuses = recordStatuses(helper.getNode('stream'));
    const results = collect(helper.getNode('results'));
    await eventually(() => statuses.some((s) => s.text === 'watching (no motion)'), 15_000, 'watching');
    await eventually(() => results.length > 0, 20_000, 'results once the person moves');
    await eventually(() => statuses.some((s) => /^closing in \d s$/.test(s.text ?? '')), 20_000, 'closing in N s');
    await eventually(async () => since(before, await server.sessions()).ended.length === 1, 20_000, 'the session ended after the quiet time');
    assert.ok(
      statuses.some((s) => (s.text ?? '').includes('(motion)')),
      statuses.map((s) => s.text).join(' | '),
    );
    assert.equal(since(before, await server.sessions()).ended.length + since(before, await server.sessions()).active.length, 1, 'one session for one visit');
  });

  it('motion only inside "Ignore motion in" opens no session (the same visit without the mask opens one, above)', async () => {
    const video = join(MEDIA_DIR, 'quiet-doorway-node.mp4');
    await generateSceneVideo(QUIET_DOORWAY, video);
    const before = await server.sessions();
    // The person walks through the lower two thirds of the picture (y 80-156 of 180): all of it ignored.
    const ignored = JSON.stringify([
      [
        [0, 0.35],
        [1, 0.35],
        [1, 1],
        [0, 1],
      ],
    ]);
    await helper.load(ALL_NODES, flow({ source: 'replay', url: video, loop: false, gate: 'motion', quietTime: 3, motionIgnore: ignored, version: 5 }), { cfg: { apiKey: API_KEY } });
    const statuses = recordStatuses(helper.getNode('stream'));
    const results = collect(helper.getNode('results'));
    await eventually(() => statuses.some((s) => s.text === 'watching (no motion)'), 15_000, 'watching');
    await eventually(() => statuses.some((s) => (s.text ?? '').startsWith('video ended')), 40_000, 'the whole visit played');
    assert.equal(results.length, 0, 'no results');
    const ours = since(before, await server.sessions());
    assert.equal(ours.active.length + ours.ended.length, 0, `no session: ${statuses.map((s) => s.text).join(' | ')}`);
    assert.ok(!statuses.some((s) => (s.text ?? '').includes('(motion)')));
  });

  it('"Ignore motion in" that is not a list of polygons in shares of the picture: one clear error, nothing starts', async () => {
    const before = await server.sessions();
    const video = join(MEDIA_DIR, 'quiet-doorway-node.mp4');
    await helper.load(ALL_NODES, flow({ source: 'replay', url: video, start: 'message', gate: 'motion', motionIgnore: '[[[0,0],[320,0],[320,180]]]' }), { cfg: { apiKey: API_KEY } });
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const caught = collect(helper.getNode('caught'));
    node.receive({ topic: 'start' });
    await eventually(() => caught.length === 1, 5_000, 'one error for Catch nodes');
    assert.match(
      (caught[0].error as { message: string }).message,
      /^RoboflowError: Ignore motion in is not valid: point 2 of polygon 1 is \[320,0\]; it must be a list of polygons, each at least 3 \[x, y\] points from 0 to 1 /,
    );
    assert.ok(
      statuses.some((s) => s.fill === 'red' && s.text === 'Ignore motion in is not valid'),
      statuses.map((s) => s.text).join(' | '),
    );
    assert.equal(since(before, await server.sessions()).active.length, 0);
  });

  it('a motion gate needs the camera read on this machine: one clear error', async () => {
    const url = (await server.cameras()).find((camera) => camera.name === 'two-squares')!.rtsp_url!;
    await helper.load(ALL_NODES, flow({ source: 'rtsp', url, gate: 'motion' }), { cfg: { apiKey: API_KEY } });
    const statuses = recordStatuses(helper.getNode('stream'));
    await eventually(() => statuses.some((s) => s.fill === 'red' && /motion gate watches the picture on this machine/i.test(s.text ?? '')), 5_000, 'red status');
  });
});
