import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, type Migration } from '../../nodes/node-red/common/migrate';
import { migrations as configMigrations } from '../../nodes/node-red/roboflow-config/migrations';
import { migrations as objectsMigrations } from '../../nodes/node-red/roboflow-objects/migrations';
import { migrations as streamMigrations } from '../../nodes/node-red/roboflow-stream/migrations';
import { migrations as videoJobMigrations } from '../../nodes/node-red/roboflow-video-job/migrations';
import { migrations as visionEventMigrations } from '../../nodes/node-red/roboflow-vision-event/migrations';
import { migrations as workflowMigrations } from '../../nodes/node-red/roboflow-workflow/migrations';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage, sceneVideo } from '../helpers/media';
import type { RoboflowConfigNode } from '../../nodes/node-red/common/config';
import { ALL_NODES, collect, configNode, helper, onTab, useUserDir, type FlowNode } from '../helpers/node-red-helper';

const NODES_DIR = join(__dirname, '..', '..', 'nodes', 'node-red');

/** The properties a node's editor saves (the keys of its `defaults`), read from its editor.html. */
function editorProperties(type: string): string[] {
  const html = readFileSync(join(NODES_DIR, type, 'editor.html'), 'utf8');
  const block = html.slice(html.indexOf('defaults: {'));
  const keys: string[] = [];
  let depth = 0;
  for (const line of block.split('\n').slice(1)) {
    const match = /^\s*(\w+): \{/.exec(line);
    if (depth === 0 && match) keys.push(match[1]);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
    if (depth < 0) break;
  }
  return keys;
}

const NODES: Array<[string, Migration[]]> = [
  ['roboflow-config', configMigrations],
  ['roboflow-stream', streamMigrations],
  ['roboflow-video-job', videoJobMigrations],
  ['roboflow-vision-event', visionEventMigrations],
  ['roboflow-objects', objectsMigrations],
  ['roboflow-workflow', workflowMigrations],
];

describe('Node-RED: flows are user data (migrations)', function () {
  this.timeout(60_000);

  describe('migrate()', () => {
    const migrations: Migration[] = [(config) => ({ a: 1, ...config }), (config) => ({ b: 2, ...config })];

    it('brings a flow saved without a version up to date, one version at a time', () => {
      assert.deepEqual(migrate({ name: 'x' }, migrations), { name: 'x', a: 1, b: 2, version: 2 });
    });

    it('starts from the saved version (a text version too), and never overwrites what the flow has', () => {
      assert.deepEqual(migrate({ version: 1, a: 'kept' }, migrations), { version: 2, a: 'kept', b: 2 });
      assert.deepEqual(migrate({ version: '1' }, migrations), { version: 2, b: 2 });
      assert.deepEqual(migrate({ version: 2, b: 'kept' }, migrations), { version: 2, b: 'kept' });
    });

    it('leaves a flow from a newer package alone (no downgrade)', () => {
      assert.deepEqual(migrate({ version: 7, z: 1 }, migrations), { version: 7, z: 1 });
    });
  });

  for (const [type, migrations] of NODES) {
    it(`${type}: a flow saved without a version gets every property the editor saves, at the editor's version`, () => {
      const migrated = migrate<Record<string, unknown>>({ id: 'n', type }, migrations);
      const missing = editorProperties(type).filter((key) => !(key in migrated) && !['name', 'roboflow', 'workspace', 'workflow', 'url', 'useCase', 'deviceId', 'streamId', 'outputs'].includes(key));
      assert.deepEqual(missing, [], `${type}: properties an old flow would lack after migration`);
      const html = readFileSync(join(NODES_DIR, type, 'editor.html'), 'utf8');
      const editorVersion = Number(/version: \{ value: (\d+) \}/.exec(html)?.[1]);
      assert.equal(migrated.version, editorVersion, `${type}: the runtime migrates to the version the editor saves`);
    });
  }

  describe('old flows load and run unchanged', () => {
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
    const load = async (node: FlowNode): Promise<ReturnType<typeof collect>> => {
      await helper.load(
        ALL_NODES,
        onTab([
          { ...configNode(server.url), version: undefined },
          { ...node, id: 'under-test', roboflow: 'cfg', wires: [['out'], ['out2']] },
          { id: 'out', type: 'helper' },
          { id: 'out2', type: 'helper' },
        ]),
        { cfg: { apiKey: API_KEY } },
      );
      return collect(helper.getNode('out'));
    };

    // Each older shape of a Stream node: without a version (hand-written), version 1, version 2.
    const streamVersions: Array<[string, Record<string, unknown>]> = [
      ['without a version', { workspace: 'demo', workflow: 'detect-colors' }],
      [
        'version 1',
        {
          version: 1,
          workspace: 'demo',
          workspaceType: 'str',
          workflow: 'detect-colors',
          workflowType: 'str',
          workflowSpec: '',
          imageInput: 'image',
          dataOutputs: 'count',
          streamOutputs: '',
          parameters: '',
          urlType: 'str',
          realtime: '',
          start: 'deploy',
        },
      ],
      [
        'version 2',
        {
          version: 2,
          workspace: 'demo',
          workspaceType: 'str',
          workflow: 'detect-colors',
          workflowType: 'str',
          workflowSpec: '',
          imageInput: 'image',
          dataOutputs: 'count',
          streamOutputs: '',
          parameters: '',
          urlType: 'str',
          realtime: '',
          start: 'deploy',
          processingTimeout: 3600,
          workflowVersion: '',
          disableSinks: false,
        },
      ],
    ];
    for (const [label, props] of streamVersions) {
      it(`roboflow-stream ${label}: its RTSP camera is pulled by the server as before`, async () => {
        const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
        const out = await load({ id: 'x', type: 'roboflow-stream', ...props, source: 'rtsp', url: camera.rtsp_url });
        await eventually(() => out.length >= 2, 20_000, 'results');
        assert.deepEqual(
          (await server.sessions()).active.map((s) => s.source),
          ['rtsp'],
        );
      });
    }

    // Each older shape of a Video Job node. All were saved before the API choice (version 3):
    // they keep the /videoinfer API they used, never Batch Processing (a new node's `auto`).
    for (const [label, props] of [
      ['without a version', { workspace: 'demo', workflow: 'detect-colors', fps: 5 }],
      ['version 1', { version: 1, target: 'workflow', workspace: 'demo', workspaceType: 'str', workflow: 'detect-colors', workflowType: 'str', model: '', fps: 5, pollInterval: '' }],
      [
        'version 2',
        {
          version: 2,
          target: 'workflow',
          workspace: 'demo',
          workspaceType: 'str',
          workflow: 'detect-colors',
          workflowType: 'str',
          model: '',
          fps: 5,
          pollInterval: '',
          workflowVersion: '',
          disableSinks: false,
        },
      ],
    ] as const) {
      it(`roboflow-video-job ${label}: a job runs, through /videoinfer as before`, async () => {
        const before = { videoinfer: await server.requestCount('videoinfer_submit'), batch: await server.requestCount('batch_job_start') };
        const out = await load({ id: 'x', type: 'roboflow-video-job', ...props });
        helper.getNode('under-test').receive({ payload: await sceneVideo('two-squares') });
        await eventually(() => out.length === 1, 30_000, 'the job results');
        assert.ok(Array.isArray(out[0].payload) && (out[0].payload as unknown[]).length > 0);
        assert.equal(out[0].generation, 'workflow', 'a /videoinfer job (Batch Processing says "batch")');
        assert.equal((await server.requestCount('videoinfer_submit')) - before.videoinfer, 1, 'submitted to /videoinfer');
        assert.equal((await server.requestCount('batch_job_start')) - before.batch, 0, 'no Batch Processing job');
      });
    }

    it('roboflow-vision-event without a version: an event is logged', async () => {
      const out = await load({ id: 'x', type: 'roboflow-vision-event', useCase: 'demo', eventType: 'custom' });
      helper.getNode('under-test').receive({ payload: { note: 'old flow' } });
      await eventually(() => out.length === 1, 10_000, 'the event');
      assert.match(String(out[0].eventId), /^[0-9a-f-]{36}$/);
    });

    it('roboflow-objects without a version: detections become object events', async () => {
      await load({ id: 'x', type: 'roboflow-objects', predictions: 'predictions' });
      const events = collect(helper.getNode('out2'));
      const box = { x: 40, y: 64, width: 48, height: 48, confidence: 0.9, class: 'red', class_id: 0, detection_id: 'a' };
      helper.getNode('under-test').receive({ payload: { predictions: { image: { width: 320, height: 240 }, predictions: [box] } } });
      await eventually(() => events.some((msg) => msg.topic === 'enter'), 5_000, 'an enter event');
    });

    // Each older shape of the config node: hand-written (URLs only), version 1 (before the
    // daily budget). Their nodes run as before, with no budget limit and the plan's own rate.
    for (const [label, config] of [
      ['without a version', (url: string): FlowNode => ({ id: 'cfg', type: 'roboflow-config', serverUrl: url, apiUrl: url })],
      ['version 1', (url: string): FlowNode => ({ id: 'cfg', type: 'roboflow-config', name: 'local', serverUrl: url, apiUrl: url, region: 'us', plan: 'webrtc-gpu-small', version: 1 })],
    ] as const) {
      it(`roboflow-config ${label}: its nodes run, with no daily budget and the plan's own credit rate`, async () => {
        await helper.load(
          ALL_NODES,
          onTab([config(server.url), { id: 'under-test', type: 'roboflow-workflow', roboflow: 'cfg', workspace: 'demo', workflow: 'detect-colors', wires: [['out']] }, { id: 'out', type: 'helper' }]),
          { cfg: { apiKey: API_KEY } },
        );
        const cfg = helper.getNode('cfg') as RoboflowConfigNode;
        const out = collect(helper.getNode('out'));
        helper.getNode('under-test').receive({ payload: await sceneImage('two-squares', 0) });
        await eventually(() => out.length === 1, 10_000, 'the answer');
        assert.ok(Array.isArray(out[0].predictions));
        assert.equal(cfg.budget().limit, null, 'no daily budget');
        assert.equal(cfg.minutesPerCredit(), undefined, "the plan's own rate");
        const connection = cfg.connection();
        assert.deepEqual([connection.serverUrl, connection.apiUrl], [server.url, server.url]);
      });
    }

    it('roboflow-workflow without a version: an image is analysed', async () => {
      const out = await load({ id: 'x', type: 'roboflow-workflow', workspace: 'demo', workflow: 'detect-colors' });
      helper.getNode('under-test').receive({ payload: await sceneImage('two-squares', 0) });
      await eventually(() => out.length === 1, 10_000, 'the answer');
      assert.ok(Array.isArray(out[0].predictions));
    });
  });
});
