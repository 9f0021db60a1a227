import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PipelineClient } from '../../lib';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { ALL_NODES, collect, configNode, helper, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';
import { secret } from '../helpers/secrets';

const CAMERA_PASSWORD = secret('pipe-cam pw:7@');

interface Box {
  class: string;
}

/**
 * The Stream node on a self-hosted Inference server's InferencePipeline API (capture:
 * pipeline), and streaming a trained model instead of a workflow.
 */
describe('Node-RED: roboflow-stream on a self-hosted pipeline, and with a model id', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let client: PipelineClient;
  let userDir: string;
  let cameraUrl: string;
  const listed = (): Promise<string[]> => client.list();
  const handleFile = (): string => join(userDir, 'roboflow', 'pipelines', 'stream', 'pipeline.json');

  before(async () => {
    userDir = useUserDir();
    server = await startLocalServer(['--stream-api', '--cameras', 'door', '--rtsp-port', '0', '--rtsp-auth', `cam:${CAMERA_PASSWORD}`]);
    client = new PipelineClient({ connection: server.connection() });
    cameraUrl = (await server.cameras())[0].rtsp_url!;
  });
  after(async () => {
    await client.close();
    await server.stop();
    assert.doesNotMatch(server.output.join(''), new RegExp(CAMERA_PASSWORD), 'the server never printed the camera password');
  });
  beforeEach(() => server.resetFaults().then(() => server.faults({ streamApi: true })));
  afterEach(async () => {
    // Stopping Node-RED leaves a pipeline running on purpose (it re-attaches): end it here.
    await helper.unload();
    await server.faults({ streamApi: true });
    await Promise.all((await listed()).map((id) => client.terminate(id)));
  });

  // A fresh object each time: Node-RED keeps the one it is given and deletes from it the
  // credentials of nodes a deploy removed.
  const credentials = (): Record<string, Record<string, string>> => ({ cfg: { apiKey: API_KEY }, stream: { cameraUser: 'cam', cameraPassword: CAMERA_PASSWORD } });
  const streamNode = (props: Record<string, unknown> = {}): FlowNode => ({
    id: 'stream',
    type: 'roboflow-stream',
    roboflow: 'cfg',
    workspace: '',
    workflow: '',
    workflowSpec: '',
    model: 'colors/1',
    source: 'rtsp',
    url: cameraUrl,
    capture: 'pipeline',
    version: 4,
    wires: [['results'], []],
    ...props,
  });
  const flow = (props: Record<string, unknown> = {}, config = configNode(server.url)): FlowNode[] =>
    onTab([config, streamNode(props), { id: 'results', type: 'helper' }, { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] }, { id: 'caught', type: 'helper' }]);

  it('the self-hosted server opens the camera (login from the credentials); results per frame, in order; the status says so', async () => {
    await helper.load(ALL_NODES, flow(), credentials());
    const statuses = recordStatuses(helper.getNode('stream'));
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 5, 30_000, 'results from the pipeline');
    const boxes = (results[0].payload as { predictions: { predictions: Box[] } }).predictions.predictions;
    assert.ok(boxes.length > 0 && boxes.every((box) => typeof box.class === 'string'), 'detections of the model');
    assert.deepEqual(Object.keys(results[0].payload as object), ['predictions'], "a model's image output is left out");
    assert.equal(results[0].topic, 'colors/1');
    const ids = results.map((msg) => (msg.frame as { frame_id: number }).frame_id);
    assert.ok(
      ids.every((id, index) => index === 0 || id > ids[index - 1]),
      `in order: ${ids.join(',')}`,
    );
    assert.equal((await listed()).length, 1);
    assert.deepEqual((await server.sessions()).active, [], 'no WebRTC session at all');
    await eventually(() => statuses.some((s) => /^streaming \d+ fps( · \d+ ms)? · self-hosted pipeline$/.test(s.text ?? '')), 5_000, 'the status');
    // The handle on disk names the pipeline, and holds no secret.
    const kept = readFileSync(handleFile(), 'utf8');
    assert.equal((JSON.parse(kept) as { pipelineId: unknown }).pipelineId, (await listed())[0]);
    assert.doesNotMatch(kept, new RegExp(`${API_KEY}|${CAMERA_PASSWORD.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it("pause and resume mute the camera on the server; stats carry the server's report", async () => {
    await helper.load(ALL_NODES, flow(), credentials());
    const node = helper.getNode('stream');
    const statuses = recordStatuses(node);
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 3, 30_000, 'results');
    node.receive({ topic: 'pause' });
    await eventually(() => statuses.some((s) => s.text === 'paused'), 5_000, 'paused on the status');
    await new Promise((resolve) => setTimeout(resolve, 400));
    const during = results.length;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.ok(results.length - during <= 1, 'no results while paused');
    // The server's own report, on demand (it is read every 5 s).
    await eventually(
      async () => {
        node.receive({ topic: 'stats' });
        await new Promise((resolve) => setTimeout(resolve, 100));
        const stats = results.filter((msg) => msg.topic === 'stats').pop();
        return (stats?.payload as { pipeline?: { sourceState: string; paused: boolean } } | undefined)?.pipeline?.sourceState === 'MUTED';
      },
      15_000,
      'stats reporting the muted source',
    );
    const stats = results.filter((msg) => msg.topic === 'stats').pop()!.payload as { pipeline: { paused: boolean; pipelineId: string } };
    assert.equal(stats.pipeline.paused, true);
    assert.deepEqual(await listed(), [stats.pipeline.pipelineId]);
    node.receive({ topic: 'resume' });
    const before = results.filter((msg) => msg.topic !== 'stats').length;
    await eventually(() => results.filter((msg) => msg.topic !== 'stats').length >= before + 3, 10_000, 'results after resuming');
  });

  it('survives a restart: the node re-attaches to its pipeline (one on the server, frames go on counting)', async () => {
    await helper.load(ALL_NODES, flow(), credentials());
    let results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 3, 30_000, 'results');
    const [pipelineId] = await listed();
    const lastFrame = (results[results.length - 1].frame as { frame_id: number }).frame_id;
    // "Restart": the flow stops (not a delete) and starts again.
    await helper.unload();
    assert.deepEqual(await listed(), [pipelineId], 'stopping Node-RED leaves the pipeline running');
    assert.ok(existsSync(handleFile()), 'its handle is kept');
    await helper.load(ALL_NODES, flow(), credentials());
    results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 3, 30_000, 'results after the restart');
    assert.deepEqual(await listed(), [pipelineId], 'the same pipeline, not a second one');
    assert.ok((results[0].frame as { frame_id: number }).frame_id > lastFrame, 'the pipeline went on counting');
  });

  it('stop terminates the pipeline; a node changed to another capture terminates the one it left', async () => {
    await helper.load(ALL_NODES, flow(), credentials());
    const node = helper.getNode('stream');
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 1, 30_000, 'results');
    node.receive({ topic: 'stop' });
    await eventually(async () => (await listed()).length === 0, 5_000, 'terminated by stop');
    await eventually(() => !existsSync(handleFile()), 5_000, 'and forgotten');

    node.receive({ topic: 'start' });
    await eventually(async () => (await listed()).length === 1, 15_000, 'started again');
    await helper.unload();
    assert.equal((await listed()).length, 1, 'left running by the restart');
    // Redeployed as a local-capture stream of a saved workflow: the old pipeline must not run on unread.
    await helper.load(ALL_NODES, flow({ model: '', workspace: 'demo', workflow: 'detect-colors', capture: 'local', dataOutputs: 'count' }), credentials());
    await eventually(async () => (await listed()).length === 0, 10_000, 'the leftover pipeline terminated');
    assert.equal(existsSync(handleFile()), false);
    await helper.unload();

    // Deleting the node (a full deploy without it, which also restarts the config node) terminates its pipeline.
    await helper.load(ALL_NODES, flow(), credentials());
    await eventually(async () => (await listed()).length === 1, 15_000, 'a pipeline');
    await helper.setFlows(onTab([configNode(server.url)]), 'full', credentials());
    await eventually(async () => (await listed()).length === 0, 10_000, 'terminated when the node was deleted');
    assert.equal(existsSync(handleFile()), false);
  });

  it("clear errors: a pipeline on Roboflow's hosted service, pause on a WebRTC stream, a server without the stream API", async () => {
    const hosted = { ...configNode('https://serverless.roboflow.com'), apiUrl: 'https://api.roboflow.com' };
    await helper.load(ALL_NODES, flow({ start: 'message' }, hosted), credentials());
    let caught = collect(helper.getNode('caught'));
    const statuses = recordStatuses(helper.getNode('stream'));
    helper.getNode('stream').receive({ topic: 'start' });
    await eventually(() => caught.length === 1, 10_000, 'the hosted error');
    assert.match((caught[0].error as { message: string }).message, /runs on your own Inference server/);
    assert.match(statuses[statuses.length - 1].text ?? '', /^A pipeline runs on your own Inference server/);
    await helper.unload();

    await helper.load(ALL_NODES, flow({ capture: 'server', model: '', workspace: 'demo', workflow: 'detect-colors' }), credentials());
    caught = collect(helper.getNode('caught'));
    helper.getNode('stream').receive({ topic: 'pause' });
    await eventually(() => caught.length === 1, 10_000, 'the pause error');
    assert.match((caught[0].error as { message: string }).message, /pause and resume apply to a self-hosted pipeline/);
    await helper.unload();

    await server.faults({ streamApi: false });
    await helper.load(ALL_NODES, flow(), credentials());
    caught = collect(helper.getNode('caught'));
    await eventually(() => caught.length === 1, 15_000, 'the missing-API error');
    assert.match((caught[0].error as { message: string }).message, /ENABLE_STREAM_API=True/);
  });

  it('a trained model over WebRTC (hosted-style session): its predictions, its class filter', async () => {
    await helper.load(ALL_NODES, flow({ capture: 'server', model: 'colors/1', modelClasses: 'red', modelConfidence: 0.5 }), credentials());
    const results = collect(helper.getNode('results'));
    await eventually(() => results.length >= 3, 30_000, 'results');
    const boxes = (results[0].payload as { predictions: { predictions: Box[] } }).predictions.predictions;
    assert.ok(boxes.length > 0, 'the door scene has red');
    assert.ok(
      boxes.every((box) => box.class === 'red'),
      boxes.map((box) => box.class).join(','),
    );
    assert.equal(results[0].topic, 'colors/1');
    assert.equal((await server.sessions()).active.length, 1);
  });
});
