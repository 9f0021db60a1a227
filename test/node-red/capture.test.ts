import { strict as assert } from 'node:assert';
import type { EventEmitter } from 'node:events';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { ALL_NODES, collect, configNode, helper, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';
import { secret } from '../helpers/secrets';
import { TcpProxy } from '../helpers/tcp-proxy';

const CAMERA_PASSWORD = secret('node-cam-pw 9"');

describe('Node-RED: roboflow-stream reading cameras on this machine (capture: local)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let bareUrl: (name: string) => Promise<string>;

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--rtsp-port', '0', '--rtsp-auth', `cam:${CAMERA_PASSWORD}`]);
    bareUrl = async (name) => (await server.cameras()).find((camera) => camera.name === name)!.rtsp_url!;
  });
  after(async () => {
    await server.stop();
  });
  // Local capture must work against a server that cannot reach the camera at all.
  beforeEach(() => server.faults({ noPull: true }));
  afterEach(async () => {
    await helper.unload();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left after the node closed');
  });

  const credentials = { cfg: { apiKey: API_KEY }, stream: { cameraUser: 'cam', cameraPassword: CAMERA_PASSWORD } };
  const streamNode = (props: Record<string, unknown>): FlowNode => ({
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
    urlType: 'str',
    realtime: '',
    start: 'deploy',
    capture: 'local',
    maxFps: 10,
    maxSize: 1280,
    hwaccel: 'none',
    rtspTransport: 'tcp',
    loop: true,
    version: 3,
    wires: [['results'], []],
    ...props,
  });
  const flow = (props: Record<string, unknown>): FlowNode[] =>
    onTab([
      configNode(server.url),
      streamNode(props),
      { id: 'results', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);

  it('reads the RTSP camera itself (login from the credentials) and says what it sends: "streaming N fps · camera 640x360 → 640x360"', async () => {
    await helper.load(ALL_NODES, flow({ url: await bareUrl('door') }), credentials);
    const statuses = recordStatuses(helper.getNode('stream'));
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 5, 30_000, 'results');
    assert.deepEqual(
      (await server.sessions()).active.map((session) => session.source),
      ['track'],
      'frames come on the video track: the server opened no camera',
    );
    await eventually(() => statuses.some((s) => /^streaming \d+ fps · camera 640x360 → 640x360$/.test(s.text ?? '')), 5_000, 'the camera sizes on the status');
    assert.equal(statuses[0].text, 'opening camera');
  });

  it("a flow saved before local capture existed keeps Roboflow's server reading the camera", async () => {
    const old = streamNode({ url: await bareUrl('door'), version: 2 });
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- the flow as saved before these properties existed
    for (const key of ['capture', 'maxFps', 'maxSize', 'hwaccel', 'rtspTransport', 'loop']) delete old[key];
    await server.faults({ noPull: false });
    await helper.load(ALL_NODES, onTab([configNode(server.url), old, { id: 'results', type: 'helper' }]), credentials);
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 3, 30_000, 'results');
    assert.deepEqual(
      (await server.sessions()).active.map((session) => session.source),
      ['rtsp'],
      'the server pulls the camera, as before',
    );
  });

  it('the camera drops: "camera unreachable, retrying (n)", one warning, then results again', async function () {
    this.timeout(90_000);
    const real = new URL(await bareUrl('door'));
    const proxy = new TcpProxy({ host: real.hostname, port: Number(real.port) });
    await proxy.up();
    try {
      await helper.load(ALL_NODES, flow({ url: proxy.url(real.toString()) }), credentials);
      const node = helper.getNode('stream');
      const statuses = recordStatuses(node);
      const warnings: string[] = [];
      (node as unknown as EventEmitter).on('call:warn', (call: { args: [string] }) => warnings.push(String(call.args[0])));
      const results = collect(helper.getNode('results'));
      await eventually(() => results.length >= 5, 30_000, 'results');
      await proxy.down();
      await eventually(() => statuses.some((s) => /^camera unreachable.*, retrying \(\d+\)$/.test(s.text ?? '') && s.fill === 'yellow'), 20_000, 'the camera status');
      const count = results.length;
      await proxy.up();
      await eventually(() => results.length >= count + 5, 40_000, 'results after the camera came back');
      assert.equal(warnings.filter((w) => w.includes('camera is unreachable')).length, 1, warnings.join(' | '));
    } finally {
      await proxy.down();
    }
  });

  it('a USB camera that is not there: one clear error on the status and to Catch', async () => {
    await helper.load(ALL_NODES, flow({ source: 'device', url: '/dev/video-none-here' }), credentials);
    const statuses = recordStatuses(helper.getNode('stream'));
    const caught = collect(helper.getNode('caught'));
    await eventually(() => caught.length === 1, 20_000, 'the error at a Catch node');
    assert.match((caught[0].error as { message: string }).message, /Camera not found at \/dev\/video-none-here/);
    await eventually(() => statuses.some((s) => s.fill === 'red' && (s.text ?? '').includes('Camera not found')), 5_000, 'red status');
  });
});
