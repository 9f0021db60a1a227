import { strict as assert } from 'node:assert';
import type { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { NodeMessage } from 'node-red';
import { getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { MEDIA_DIR, sceneImage, sceneVideo } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, recordErrors, recordStatuses, useUserDir, onTab, type FlowNode } from '../helpers/node-red-helper';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('a-wrong-key-123');

describe('Node-RED: roboflow-stream', function () {
  this.timeout(60_000);
  let server: RunningServer;

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--rtsp-port', '0']);
  });
  after(async () => {
    await server.stop();
  });
  beforeEach(() => server.resetFaults());
  afterEach(async () => {
    await helper.unload();
    // Closing the flow must end every session on the server.
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'sessions ended on the server after close');
  });

  const credentials = { cfg: { apiKey: API_KEY } };
  const stream = (props: Record<string, unknown>): FlowNode => ({
    id: 'stream',
    type: 'roboflow-stream',
    name: 'under test',
    roboflow: 'cfg',
    workspace: 'demo',
    workspaceType: 'str',
    workflow: 'detect-colors',
    workflowType: 'str',
    workflowSpec: '',
    imageInput: 'image',
    dataOutputs: 'predictions, count',
    streamOutputs: '',
    parameters: '',
    source: 'frames',
    url: '',
    urlType: 'str',
    realtime: '',
    start: 'deploy',
    version: 1,
    wires: [['results'], ['video']],
    ...props,
  });
  const flow = (props: Record<string, unknown>, extra: FlowNode[] = []): FlowNode[] =>
    onTab([
      configNode(server.url),
      stream(props),
      { id: 'results', type: 'helper' },
      { id: 'video', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
      ...extra,
    ]);

  it('file source on deploy: one message per frame in order, then msg.complete; status tells the story', async () => {
    const scene = getScene('two-squares');
    await helper.load(ALL_NODES, flow({ source: 'file', url: await sceneVideo('two-squares') }), credentials);
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const results = collect(helper.getNode('results'));
    await eventually(() => results.some((msg) => msg.complete), 20_000, 'the complete message');
    const frames = results.filter((msg) => !msg.complete);
    assert.equal(frames.length, scene.frames);
    assert.deepEqual(
      frames.map((msg) => (msg.frame as { frame_id: number }).frame_id),
      Array.from({ length: scene.frames }, (_, i) => i + 1),
    );
    for (const msg of frames) {
      assert.equal(msg.topic, 'detect-colors');
      assert.equal((msg.payload as { count: number }).count, 2);
      assert.deepEqual(msg.errors, []);
    }
    const last = results[results.length - 1];
    assert.deepEqual([last.complete, last.payload], [true, { frames: scene.frames, terminationReason: null }]);
    const texts = statuses.map((status) => status.text);
    assert.ok(
      texts.some((text) => text === 'uploading 100%'),
      texts.join(' | '),
    );
    assert.equal(texts[texts.length - 1], `complete (${scene.frames} frames)`);
    assert.ok(!texts.some((text) => text?.includes('roboflow-stream.')), 'status texts are translated, not keys');
  });

  it('frames source: images in, detections out on 1, annotated JPEG on 2', async () => {
    await helper.load(ALL_NODES, flow({ source: 'frames', dataOutputs: 'count', streamOutputs: 'output_image' }), credentials);
    const node = helper.getNode('stream');
    const results = collect(helper.getNode('results'));
    const video = collect(helper.getNode('video'));
    for (let index = 0; index < 12; index++) {
      node.receive({ payload: await sceneImage('two-squares', index) });
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await eventually(() => results.length >= 8 && video.length >= 3, 10_000, 'results and video frames');
    assert.ok(results.every((msg) => (msg.payload as { count: number }).count === 2));
    const jpeg = video[video.length - 1].payload as Buffer;
    assert.ok(Buffer.isBuffer(jpeg) && jpeg[0] === 0xff && jpeg[1] === 0xd8, 'a JPEG on output 2');
  });

  it('stats on demand (msg.topic "stats") and on the status: rates, delay from frame to result, drops, reconnects', async () => {
    await helper.load(ALL_NODES, flow({ source: 'frames', dataOutputs: 'count', streamOutputs: '' }), credentials);
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const results = collect(helper.getNode('results'));
    for (let index = 0; index < 25; index++) {
      node.receive({ payload: await sceneImage('two-squares', index % 30) });
      await new Promise((resolve) => setTimeout(resolve, 60));
    }
    await eventually(() => results.length >= 15, 10_000, 'results');
    node.receive({ topic: 'stats' });
    const answer = await eventually(() => results.find((msg) => msg.topic === 'stats'), 5_000, 'the stats message');
    const stats = answer.payload as { fpsIn: number; fpsOut: number; results: number; dropped: number; latencyMs: { p50: number; max: number } | null; reconnects: number; windowSeconds: number };
    assert.ok(stats.fpsIn > 4 && stats.fpsIn < 20, `frames in per second (one every 60 ms plus decoding): ${stats.fpsIn}`);
    assert.ok(stats.fpsOut > 3, `results per second: ${stats.fpsOut}`);
    assert.ok(stats.results >= 15);
    assert.ok(stats.latencyMs && stats.latencyMs.p50 > 0 && stats.latencyMs.p50 <= stats.latencyMs.max && stats.latencyMs.max < 5_000, JSON.stringify(stats.latencyMs));
    assert.equal(stats.reconnects, 0);
    assert.ok(stats.windowSeconds > 1 && stats.windowSeconds <= 5);
    assert.ok(
      statuses.some((s) => /^streaming \d+ fps · \d+ ms/.test(s.text ?? '')),
      `the delay on the status: ${statuses.map((s) => s.text).join(' | ')}`,
    );
  });

  it('start and stop by message, and reconfigure outputs while running (RTSP source)', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    await helper.load(ALL_NODES, flow({ source: 'rtsp', url: '', start: 'message', dataOutputs: 'count' }), credentials);
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const results = collect(helper.getNode('results'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal((await server.sessions()).active.length, 0, 'nothing starts before the message');
    node.receive({ topic: 'start', url: camera.rtsp_url });
    await eventually(() => results.length >= 3, 15_000, 'results after start');
    assert.deepEqual(Object.keys(results[0].payload as object), ['count']);
    // "streaming" at once, the rate once a second has been measured (never a first "0 fps").
    await eventually(() => statuses.some((s) => /^streaming [1-9]\d* fps$/.test(s.text ?? '')), 5_000, 'the measured rate on the status');
    const live = statuses.filter((s) => s.text?.startsWith('streaming'));
    assert.equal(live[0].text, 'streaming', 'the first live status has no rate yet');
    assert.equal(live[0].fill, 'green');
    node.receive({ topic: 'reconfigure', payload: { dataOutputs: ['predictions'] } });
    await eventually(() => results.length > 0 && 'predictions' in (results[results.length - 1].payload as object), 10_000, 'reconfigured outputs');
    node.receive({ topic: 'stop' });
    await eventually(() => statuses.some((s) => s.text === 'stopped'), 5_000, 'stopped status');
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'session ended by stop');
  });

  it('a pinned workflow version and a dry run go with the start request; a node saved before them sends neither', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    const before = new Set([...(await server.sessions()).ended].map((session) => session.id));
    await helper.load(ALL_NODES, flow({ source: 'rtsp', url: camera.rtsp_url, dataOutputs: 'count', workflowVersion: ' 7 ', disableSinks: true, processingTimeout: 3600, version: 2 }), credentials);
    const session = await eventually(async () => (await server.sessions()).active[0], 10_000, 'a session');
    assert.deepEqual([session.workflowVersionId, session.sinksDisabled], ['7', true]);
    await helper.unload();
    await helper.load(ALL_NODES, flow({ source: 'rtsp', url: camera.rtsp_url, dataOutputs: 'count' }), credentials);
    const old = await eventually(async () => (await server.sessions()).active.find((s) => !before.has(s.id) && s.id !== session.id), 10_000, 'a session for the old node');
    assert.deepEqual([old.workflowVersionId, old.sinksDisabled], [null, false]);
  });

  it('file source on message: runs each file in turn', async () => {
    const path = await sceneVideo('two-squares');
    await helper.load(ALL_NODES, flow({ source: 'file', url: '', start: 'message', dataOutputs: 'count' }), credentials);
    const node = helper.getNode('stream');
    const results = collect(helper.getNode('results'));
    node.receive({ payload: path });
    node.receive({ payload: path });
    await eventually(() => results.filter((msg) => msg.complete).length === 2, 30_000, 'two files done');
    assert.equal(results.filter((msg) => !msg.complete).length, 60);
    assert.ok(results.every((msg) => msg.file === path));
  });

  describe('errors a user can cause: clear status, node.error for Catch, the flow keeps running', () => {
    async function expectFailure(props: Record<string, unknown>, statusText: RegExp, logText: RegExp, extraCredentials: Record<string, unknown> = credentials): Promise<void> {
      await helper.load(ALL_NODES, flow(props), extraCredentials);
      const node = helper.getNode('stream');
      const statuses = recordStatuses(node);
      const errors = recordErrors(node);
      const caught = collect(helper.getNode('caught'));
      await eventually(() => statuses.some((s) => s.fill === 'red' && statusText.test(s.text ?? '')), 15_000, `red status ${statusText}`);
      await eventually(() => errors.some((e) => logText.test(e.text)), 5_000, `error ${logText}`);
      await eventually(() => caught.length > 0, 5_000, 'the Catch node got the error');
      const printed = JSON.stringify([statuses, errors]);
      assert.doesNotMatch(printed, new RegExp(API_KEY));
    }

    it('wrong API key', async () => expectFailure({ source: 'file', url: await sceneVideo('two-squares') }, /API key rejected \(401\)/, /check the API key/, { cfg: { apiKey: WRONG_KEY } }));

    it('wrong API key on a live camera: fails at once, no reconnect loop', async () => {
      const camera = (await server.cameras()).find((c) => c.name === 'door')!;
      await expectFailure({ source: 'rtsp', url: camera.rtsp_url }, /API key rejected \(401\)/, /API key rejected/, { cfg: { apiKey: WRONG_KEY } });
      const started = (await server.sessions()).started;
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      assert.equal((await server.sessions()).started, started);
    });

    it('unknown workflow', async () =>
      expectFailure({ source: 'file', url: await sceneVideo('two-squares'), workflow: 'people-counter' }, /Not found \(404\)/, /check the workspace name and workflow id/));

    it('unknown workflow on a frames source (connects with its first frame)', async () => {
      await helper.load(ALL_NODES, flow({ source: 'frames', workflow: 'people-counter' }), credentials);
      const node = helper.getNode('stream');
      const statuses = recordStatuses(node);
      const caught = collect(helper.getNode('caught'));
      node.receive({ payload: await sceneImage('two-squares', 0) });
      await eventually(() => statuses.some((s) => s.fill === 'red' && (s.text ?? '').includes('Not found (404)')), 10_000, 'red 404 status');
      await eventually(() => caught.length > 0, 5_000, 'caught');
    });

    it('bad output name', async () =>
      expectFailure({ source: 'file', url: await sceneVideo('two-squares'), dataOutputs: 'people' }, /Output names rejected \(400\)/, /Invalid data_output fields: \['people'\]/));

    it('a file that is not a video: one clear error within seconds', async () => {
      const { writeFile } = await import('node:fs/promises');
      const { randomBytes } = await import('node:crypto');
      const path = join(MEDIA_DIR, 'not-a-video.mp4');
      await writeFile(path, randomBytes(200_000));
      const started = Date.now();
      await expectFailure({ source: 'file', url: path }, /No frame of this video could be read/, /is it a video file\?/);
      assert.ok(Date.now() - started < 10_000);
    });

    it('missing video file', () => expectFailure({ source: 'file', url: join(MEDIA_DIR, 'no-such-file.mp4') }, /Video file not found/, /Video file not found/));

    it('workspace stream limit: says so and retries slowly', async () => {
      await server.faults({ streamLimit: 0 });
      const camera = (await server.cameras()).find((c) => c.name === 'door')!;
      await helper.load(ALL_NODES, flow({ source: 'rtsp', url: camera.rtsp_url }), credentials);
      const node = helper.getNode('stream');
      const statuses = recordStatuses(node);
      const warnings: string[] = [];
      (node as unknown as EventEmitter).on('call:warn', (call: { args: [string] }) => warnings.push(String(call.args[0])));
      await eventually(() => statuses.some((s) => s.text === 'workspace stream limit reached (0), retrying (1)'), 10_000, 'the limit on the status');
      await eventually(() => warnings.some((w) => w.includes('Workspace stream limit reached (0)')), 5_000, 'the limit named in the log');
    });

    it('a worker that is not ready yet (504; a start with no answer in time has the same code): "no worker yet (cold start)" on the status, then it streams', async () => {
      await server.faults({ failNext: { initialise_webrtc_worker: { status: 504, count: 1 } } });
      await helper.load(ALL_NODES, flow({ source: 'frames', dataOutputs: 'count' }), credentials);
      const node = helper.getNode('stream');
      const statuses = recordStatuses(node);
      const results = collect(helper.getNode('results'));
      const frame = await sceneImage('two-squares', 1);
      node.receive({ payload: frame });
      await eventually(() => statuses.some((s) => /^no worker yet \(cold start\).*retrying \(1\)$/.test(s.text ?? '') && s.fill === 'yellow'), 10_000, 'the cold start on the status');
      await eventually(
        () => {
          node.receive({ payload: frame });
          return results.length >= 1;
        },
        20_000,
        'a result once the worker is ready',
      );
    });

    it('a malformed message to a frames source: error for that message, the next frame still works', async () => {
      await helper.load(ALL_NODES, flow({ source: 'frames', dataOutputs: 'count' }), credentials);
      const node = helper.getNode('stream');
      const caught = collect(helper.getNode('caught'));
      const results = collect(helper.getNode('results'));
      node.receive({ payload: 'not an image' });
      await eventually(() => caught.length === 1, 5_000, 'caught error');
      assert.match((caught[0].error as { message: string }).message, /Expected an image \(JPEG\/PNG Buffer\) in msg.payload, got string/);
      node.receive({ payload: Buffer.from('garbage bytes') });
      await eventually(() => caught.length === 2, 5_000, 'second caught error');
      assert.match((caught[1].error as { message: string }).message, /not a readable image/);
      node.receive({ payload: await sceneImage('two-squares', 1) });
      await eventually(() => results.length >= 1, 10_000, 'a result after the bad messages');
    });

    it('server gone: a live source keeps trying and says why on the status, it does not give up', async () => {
      await helper.load(
        ALL_NODES,
        onTab([configNode('http://127.0.0.1:9'), stream({ source: 'rtsp', url: 'rtsp://127.0.0.1:1/none' }), { id: 'results', type: 'helper' }, { id: 'video', type: 'helper' }]),
        credentials,
      );
      const statuses = recordStatuses(helper.getNode('stream'));
      await eventually(() => statuses.some((s) => s.text === 'server not reachable: connection refused, retrying (1)' && s.fill === 'yellow'), 10_000, 'reconnecting status with its reason');
    });

    it('a camera the server cannot open: the reason on the status, one warning per outage, one error to Catch after 5 attempts, still retrying', async function () {
      this.timeout(90_000);
      await server.faults({ sourceOpenTimeoutMs: 300 });
      await helper.load(ALL_NODES, flow({ source: 'rtsp', url: 'rtsp://127.0.0.1:9/none' }), credentials);
      const node = helper.getNode('stream');
      // Fast retries for the test: the policy is the engine's, the counting is the node's.
      const statuses = recordStatuses(node);
      const warnings: string[] = [];
      (node as unknown as EventEmitter).on('call:warn', (call: { args: [string] }) => warnings.push(String(call.args[0])));
      const configWarnings: string[] = [];
      (helper.getNode('cfg') as unknown as EventEmitter).on('call:warn', (call: { args: [string] }) => configWarnings.push(String(call.args[0])));
      const caught = collect(helper.getNode('caught'));
      await eventually(() => statuses.some((s) => /^camera not reachable.*, retrying \(1\)$/.test(s.text ?? '') && s.fill === 'yellow'), 20_000, 'the reason on the status');
      await eventually(() => caught.length === 1, 80_000, 'one error to Catch after five attempts');
      assert.match((caught[0].error as { message: string }).message, /Still failing after 5 attempts \(the node keeps trying\)/);
      await eventually(() => statuses.some((s) => (s.text ?? '').endsWith('retrying (6)')), 40_000, 'still retrying after the error');
      assert.equal(caught.length, 1, 'one error per outage, not one per attempt');
      assert.deepEqual(warnings.length, 1, `one warning in the Debug sidebar per outage: ${warnings.join(' | ')}`);
      assert.deepEqual(configWarnings, [], 'nothing attributed to the config node');
    });

    it('no config node selected', async () => {
      await helper.load(
        ALL_NODES,
        onTab([
          stream({ roboflow: '', source: 'frames' }),
          { id: 'results', type: 'helper' },
          { id: 'video', type: 'helper' },
          { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
          { id: 'caught', type: 'helper' },
        ]),
      );
      const node = helper.getNode('stream');
      const statuses = recordStatuses(node);
      node.receive({ payload: await sceneImage('two-squares', 0) });
      await eventually(() => statuses.some((s) => s.fill === 'red' && (s.text ?? '').includes('No Roboflow config selected')), 5_000, 'red status');
    });
  });

  it('loads a flow saved before properties carried a version (migration)', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    const old: FlowNode = { id: 'stream', type: 'roboflow-stream', roboflow: 'cfg', workspace: 'demo', workflow: 'detect-colors', url: camera.rtsp_url, wires: [['results'], []] };
    await helper.load(ALL_NODES, onTab([configNode(server.url), old, { id: 'results', type: 'helper' }]), credentials);
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 2, 15_000, 'results from the migrated node');
    const message = results[0] as NodeMessage & { payload: Record<string, unknown> };
    assert.ok('predictions' in message.payload && 'count' in message.payload, 'every non-image output by default');
  });
});
