import { strict as assert } from 'node:assert';
import type { EventEmitter } from 'node:events';
import { API_KEY, eventually, peakConcurrency, startLocalServer, type RunningServer, type Sessions } from '../helpers/local-server';
import { ALL_NODES, collect, configNode, helper, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';
import { secret } from '../helpers/secrets';

/** A camera password with every character that used to slip past the redaction or the URL. */
const CAMERA_PASSWORD = secret(`p@ss w'rd"%:/x`);

/** The server's sessions that started after `before` was taken. */
function since(before: Sessions, now: Sessions): Sessions {
  const old = new Set([...before.active, ...before.ended].map((session) => session.id));
  return { ...now, active: now.active.filter((s) => !old.has(s.id)), ended: now.ended.filter((s) => !old.has(s.id)) };
}

describe('Node-RED: roboflow-stream owns one session at most, and keeps it for days', function () {
  this.timeout(60_000);
  let server: RunningServer;

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--rtsp-port', '0', '--rtsp-auth', `cam:${CAMERA_PASSWORD}`]);
  });
  after(async () => {
    await server.stop();
    assert.doesNotMatch(server.output.join(''), new RegExp(CAMERA_PASSWORD.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'the server never prints the camera password');
  });
  beforeEach(() => server.resetFaults());
  afterEach(async () => {
    await helper.unload();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left on the server after the node closed');
  });

  const credentials = { cfg: { apiKey: API_KEY }, stream: { cameraUser: 'cam', cameraPassword: CAMERA_PASSWORD } };
  const camera = async (name = 'door'): Promise<string> => (await server.cameras()).find((c) => c.name === name)!.rtsp_url!;
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
        dataOutputs: 'count',
        streamOutputs: '',
        parameters: '',
        source: 'rtsp',
        url: '',
        urlType: 'str',
        realtime: '',
        start: 'message',
        processingTimeout: 3600,
        workflowVersion: '',
        disableSinks: false,
        version: 2,
        wires: [['results'], []],
        ...props,
      },
      { id: 'results', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);

  for (const pipelineIds of [false, true]) {
    it(`start messages in any order and at any rate never leak a session (server ${pipelineIds ? 'with' : 'without'} pipeline ids)`, async () => {
      await server.faults({ pipelineIds });
      const url = await camera();
      const before = await server.sessions();
      await helper.load(ALL_NODES, flow({ url }), credentials);
      const node = helper.getNode('stream');
      const results = collect(helper.getNode('results'));
      let peak = 0;
      const watch = setInterval(() => void server.sessions().then((s) => (peak = Math.max(peak, s.active.length))), 25);
      try {
        // Three starts in one tick, then a stop: the old code left three billed sessions.
        node.receive({ topic: 'start' });
        node.receive({ topic: 'start' });
        node.receive({ topic: 'start' });
        node.receive({ topic: 'stop' });
        await eventually(async () => (await server.sessions()).active.length === 0, 15_000, 'no session open after the stop');
        // Two starts while streaming, then more at once: still one session at a time.
        node.receive({ topic: 'start' });
        await eventually(() => results.length >= 3, 15_000, 'results');
        node.receive({ topic: 'start' });
        node.receive({ topic: 'start' });
        await eventually(() => results.length >= 6, 15_000, 'results after the restarts');
      } finally {
        clearInterval(watch);
      }
      await helper.unload();
      await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'nothing open once the node is gone');
      const ours = since(before, await server.sessions());
      assert.ok(peak <= 1, `at most one open session at any moment (saw ${peak})`);
      assert.ok(peakConcurrency(ours) <= 1, 'never two sessions at once (server start/end times)');
      assert.equal(ours.active.length, 0);
    });
  }

  it('the camera login comes from the node credentials (any characters); the flow holds no password', async () => {
    await helper.load(ALL_NODES, flow({ url: await camera(), start: 'deploy' }), credentials);
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 3, 15_000, 'results from a camera that needs its login');
    assert.ok(results.every((msg) => typeof msg.payload === 'object'));
  });

  it('a flow saved with the password in the URL still runs, and warns once how to move it into the credentials', async () => {
    const bare = await camera();
    const url = bare.replace('rtsp://', `rtsp://cam:${encodeURIComponent(CAMERA_PASSWORD)}@`);
    await helper.load(ALL_NODES, flow({ url, start: 'deploy' }), { cfg: { apiKey: API_KEY } });
    const node = helper.getNode('stream');
    const warnings: string[] = [];
    (node as unknown as EventEmitter).on('call:warn', (call: { args: [string] }) => warnings.push(String(call.args[0])));
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 3, 15_000, 'results');
    node.receive({ topic: 'start' });
    await eventually(() => results.length >= 6, 15_000, 'results after a restart');
    assert.equal(warnings.filter((w) => w.includes('holds a password')).length, 1, warnings.join(' | '));
  });

  it('a live camera outlives the processing timeout: results for 20 s across renewed sessions, no complete, "renewing session" shown', async function () {
    this.timeout(60_000);
    // The server ends every session after 2 s, whatever the node asked for (it sends 3600).
    await server.faults({ sessionTimeoutSec: 2 });
    const before = await server.sessions();
    await helper.load(ALL_NODES, flow({ url: await camera(), start: 'deploy' }), credentials);
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length > 0, 20_000, 'the first result');
    const from = results.length;
    const arrivals: number[] = [];
    helper.getNode('results').on('input', () => arrivals.push(Date.now()));
    const start = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    const gaps = arrivals.slice(1).map((at, i) => at - arrivals[i]);
    assert.ok(results.length - from > 40, `results during 20 s: ${results.length - from}`);
    assert.ok(arrivals[0] - start < 5_000 && Math.max(...gaps) < 5_000, `longest gap ${Math.max(...gaps)} ms`);
    assert.ok(!results.some((msg) => msg.complete), 'a live camera never sends msg.complete');
    assert.ok(
      statuses.some((s) => s.text === 'renewing session' && s.fill === 'yellow'),
      statuses.map((s) => s.text).join(' | '),
    );
    assert.ok(!statuses.some((s) => s.fill === 'red'));
    const ours = since(before, await server.sessions());
    assert.ok(ours.ended.length >= 4, `sessions: ${ours.ended.length}`);
    assert.equal(peakConcurrency(ours), 1, 'never two sessions at once');
  });

  it('a camera the server pulls ends its stream: "camera ended, reconnecting (n)", results go on, no complete', async function () {
    this.timeout(60_000);
    await server.faults({ cameraEndAfterMs: 2_000 });
    const before = await server.sessions();
    await helper.load(ALL_NODES, flow({ url: await camera(), start: 'deploy', capture: 'server' }), credentials);
    const statuses = recordStatuses(helper.getNode('stream'));
    const results = collect(helper.getNode('results'));
    await eventually(() => statuses.some((s) => /^camera ended, reconnecting \(\d+\)$/.test(s.text ?? '') && s.fill === 'yellow'), 20_000, 'camera ended on the status');
    // For 20 s the camera keeps ending every 2 s: the node keeps coming back (with backoff).
    const count = results.length;
    await new Promise((resolve) => setTimeout(resolve, 20_000));
    assert.ok(results.length - count > 20, `results during 20 s: ${results.length - count}`);
    assert.ok(!results.some((msg) => msg.complete), 'a live camera never sends msg.complete');
    assert.ok(!statuses.some((s) => s.fill === 'red'), statuses.map((s) => s.text).join(' | '));
    const ours = since(before, await server.sessions());
    assert.ok(ours.ended.length >= 3, `sessions: ${ours.ended.length}`);
    assert.equal(peakConcurrency(ours), 1, 'never two sessions at once');
  });
});
