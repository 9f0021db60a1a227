import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import type { INodeExecutionData } from 'n8n-workflow';
import { PipelineClient } from '../../lib';
import { FailureMemory } from '../../nodes/n8n/RoboflowStreamTrigger/failure-memory';
import { ShutdownWatch } from '../../nodes/n8n/RoboflowStreamTrigger/shutdown';
import { runStreamTrigger } from '../../nodes/n8n/RoboflowStreamTrigger/trigger';
import type { RoboflowApiCredential } from '../../nodes/n8n/shared/connection';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { MEDIA_DIR, sceneVideo } from '../helpers/media';
import { triggerContext, WorkflowStaticData, type TriggerContextOptions } from '../helpers/n8n-context';

/**
 * The Stream Trigger against the local server: a trained model streamed over WebRTC
 * (exact detections from the built-in `colors/1`), and self-hosted InferencePipelines
 * (the server started with --stream-api opens the camera itself): items, the pipeline's
 * handle in static data, n8n shutting down (the pipeline left running) and starting
 * again (re-attached: one pipeline on the server), deactivation (terminated).
 */

interface Box {
  class?: string;
  color?: string;
  x: number;
  y: number;
  width: number;
  height: number;
}

const rows = (list: Box[]): string[] => list.map((box) => `${box.class ?? box.color} ${box.x} ${box.y} ${box.width} ${box.height}`).sort();
const boxes = (item: INodeExecutionData): Box[] => (item.json.predictions as { predictions: Box[] }).predictions;
const frameId = (item: INodeExecutionData): number => (item.json.frame as { frame_id: number }).frame_id;
const items = (emitted: INodeExecutionData[][][]): INodeExecutionData[] => emitted.map((data) => data[0][0]);

/** What n8n has on the process: its own once-handler for SIGTERM, registered at start-up (a stand-in emitter, so no real signal is sent). */
function n8nProcess(): EventEmitter {
  const process = new EventEmitter();
  process.once('SIGTERM', () => undefined);
  process.once('SIGINT', () => undefined);
  return process;
}

describe('n8n Stream Trigger: trained models and self-hosted pipelines (local server with --stream-api)', function () {
  this.timeout(90_000);
  let server: RunningServer;
  let credential: RoboflowApiCredential;
  let client: PipelineClient;
  const fileAccess = process.env.N8N_RESTRICT_FILE_ACCESS_TO;
  const listed = (): Promise<string[]> => client.list();

  before(async () => {
    process.env.N8N_RESTRICT_FILE_ACCESS_TO = MEDIA_DIR;
    // Device 0 is the door camera: its video looped at its own rate.
    server = await startLocalServer(['--stream-api', '--cameras', 'door', '--rtsp-port', '0']);
    credential = { apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url };
    client = new PipelineClient({ connection: server.connection() });
  });
  after(async () => {
    if (fileAccess === undefined) delete process.env.N8N_RESTRICT_FILE_ACCESS_TO;
    else process.env.N8N_RESTRICT_FILE_ACCESS_TO = fileAccess;
    await client.close();
    assert.equal(await server.stop(), 0);
  });
  beforeEach(() => server.resetFaults().then(() => server.faults({ streamApi: true })));
  afterEach(async () => {
    await server.faults({ streamApi: true });
    await eventually(async () => (await listed()).length === 0, 10_000, 'no pipeline left on the server');
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'no WebRTC session left');
  });

  const trigger = (options: Omit<TriggerContextOptions, 'credential'>, shutdown = new ShutdownWatch(n8nProcess())) => {
    const context = triggerContext({ credential, version: 3, ...options });
    return { ...context, run: () => runStreamTrigger(context.context, { failures: new FailureMemory(), shutdown }) };
  };

  it('Trained Model over WebRTC: "Test step" returns frames of a file with the exact detections of colors/1 under `predictions`', async () => {
    const scene = getScene('two-squares');
    const { run, emitted } = trigger({
      mode: 'manual',
      parameters: { source: 'file', filePath: await sceneVideo('two-squares'), workflowMode: 'model', model: 'colors/1', emit: 'frames', throttleSeconds: 0, options: { manualItems: 5 } },
    });
    await (
      await run()
    ).manualTriggerFunction!();
    const got = emitted[0][0];
    assert.equal(got.length, 5);
    for (const item of got) {
      assert.deepEqual(Object.keys(item.json).sort(), ['errors', 'frame', 'model', 'predictions']);
      assert.equal(item.json.model, 'colors/1');
      assert.deepEqual(rows(boxes(item)), rows(expectedBoxes(scene, frameId(item) - 1)), `frame ${frameId(item)}`);
    }
  });

  it('a pipeline on a camera of the server: items with exact detections; n8n shutting down leaves it running; n8n started again re-attaches (one pipeline); deactivation terminates it', async () => {
    const scene = getScene('door');
    const staticData = new WorkflowStaticData();
    const parameters = {
      streamType: 'pipeline',
      source: 'serverDevice',
      deviceIndex: 0,
      workflowMode: 'model',
      model: 'colors/1',
      emit: 'frames',
      throttleSeconds: 0,
      options: { pollIntervalMs: 100, pipelineStats: true },
    };
    const check = (got: INodeExecutionData[]): void => {
      for (const item of got) assert.deepEqual(rows(boxes(item)), rows(expectedBoxes(scene, (frameId(item) - 1) % scene.frames)), `frame ${frameId(item)}`);
    };

    // Published.
    const n8n = n8nProcess();
    const first = trigger({ mode: 'trigger', parameters, staticData }, new ShutdownWatch(n8n));
    const response = await first.run();
    staticData.persist(); // n8n, once the activation has finished
    await eventually(() => first.emitted.length >= 5, 20_000, 'five items');
    const [id] = await listed();
    assert.deepEqual(await listed(), [id]);
    assert.equal((staticData.saved['node:Roboflow'] as { pipeline: { pipelineId: string } }).pipeline.pipelineId, id, 'the handle is in the database');
    check(items(first.emitted));
    assert.deepEqual(Object.keys(items(first.emitted)[0].json).sort(), ['errors', 'frame', 'model', 'pipeline', 'predictions'], 'the frame image is not sent back');
    const running = await eventually(
      () => items(first.emitted).find((item) => (item.json.pipeline as { sourceState?: string } | null)?.sourceState === 'RUNNING'),
      15_000,
      "an item with the server's report",
    );
    assert.equal((running.json.pipeline as { pipelineId: string }).pipelineId, id);

    // n8n stops: SIGTERM, then n8n closes its triggers.
    n8n.emit('SIGTERM');
    await response.closeFunction!();
    assert.deepEqual(await listed(), [id], 'left running on the server');
    assert.ok(
      first.logs.includes(`Roboflow pipeline ${id}: n8n is shutting down; the pipeline keeps running on the server and is re-attached when n8n starts again (the server ends it after 300 s unread)`),
    );
    const lastBefore = frameId(items(first.emitted)[first.emitted.length - 1]);

    // n8n starts again: a new process reads the database's static data.
    staticData.reload();
    const second = trigger({ mode: 'trigger', parameters, staticData }, new ShutdownWatch(n8nProcess()));
    const again = await second.run();
    await eventually(() => second.emitted.length >= 3, 20_000, 'items after the restart');
    assert.ok(
      second.logs.some((line) => line.startsWith(`Roboflow pipeline ${id}: re-attached`)),
      second.logs.join('\n'),
    );
    assert.deepEqual(await listed(), [id], 'one pipeline on the server');
    assert.ok(frameId(items(second.emitted)[0]) > lastBefore, 'the same pipeline went on counting');
    check(items(second.emitted));

    // Unpublished: no signal.
    await again.closeFunction!();
    assert.deepEqual(await listed(), [], 'terminated');
  });

  it('a saved workflow on a file of the server: "Test step" returns the Data Outputs asked for, then terminates its pipeline', async () => {
    const { run, emitted } = trigger({
      mode: 'manual',
      parameters: {
        streamType: 'pipeline',
        source: 'serverFile',
        serverFilePath: await sceneVideo('two-squares'),
        workflowMode: 'saved',
        workspace: 'demo',
        workflowId: 'detect-colors',
        dataOutputs: 'count',
        emit: 'frames',
        throttleSeconds: 0,
        options: { manualItems: 3, pollIntervalMs: 100 },
      },
    });
    await (
      await run()
    ).manualTriggerFunction!();
    const got = emitted[0][0];
    assert.equal(got.length, 3);
    for (const item of got) assert.deepEqual(item.json, { count: 2, frame: item.json.frame, errors: [], workflowId: 'detect-colors' });
    assert.deepEqual(await listed(), []);
  });

  it('a server without the stream API (as the hosted service): the activation fails with what to do', async () => {
    await server.faults({ streamApi: false });
    const { run } = trigger({ mode: 'trigger', parameters: { streamType: 'pipeline', source: 'serverDevice', deviceIndex: 0, workflowMode: 'model', model: 'colors/1', options: {} } });
    await assert.rejects(run(), /This server has no InferencePipeline API \(404\): start the self-hosted Inference server with ENABLE_STREAM_API=True/);
  });
});
