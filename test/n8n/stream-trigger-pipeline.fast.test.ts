import { strict as assert } from 'node:assert';
import { EventEmitter } from 'node:events';
import { NodeHelpers, NodeOperationError, type INodeExecutionData } from 'n8n-workflow';
import type { PipelineHandle, PipelineStats } from '../../lib';
import { RoboflowStreamTrigger } from '../../nodes/n8n/RoboflowStreamTrigger/RoboflowStreamTrigger.node.js';
import { FailureMemory } from '../../nodes/n8n/RoboflowStreamTrigger/failure-memory';
import { ShutdownWatch, type ShutdownSignal } from '../../nodes/n8n/RoboflowStreamTrigger/shutdown';
import { runStreamTrigger, type StreamTriggerDependencies } from '../../nodes/n8n/RoboflowStreamTrigger/trigger';
import { triggerContext, WorkflowStaticData, type TriggerContextOptions } from '../helpers/n8n-context';
import { secret } from '../helpers/secrets';
import { fakeOpen, result, until, type FakeStream, type Opened } from './fake-stream';

/**
 * The Stream Trigger's trained-model and self-hosted-pipeline settings, with n8n's
 * trigger functions mocked and the engine's stream faked: what reaches the engine, the
 * items, where the pipeline's handle is kept, and what a close does to the pipeline
 * (deactivation: terminated; n8n shutting down: left running for the restart).
 */

const credential = { apiKey: 'fast-test-key', serverUrl: 'http://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9' };
const CAMERA_PASSWORD = secret('pipe-cam-Pa55');
const saved = { workflowMode: 'saved', workspace: 'demo', workflowId: 'detect-colors' };
const pipelineCamera = { streamType: 'pipeline', source: 'rtsp', url: 'rtsp://192.168.1.20:554/stream1', ...saved, emit: 'frames', throttleSeconds: 0 };
const handleOf = (pipelineId: string): PipelineHandle => ({ pipelineId, serverUrl: credential.serverUrl, fingerprint: 'ab'.repeat(16), startedAt: '2026-12-01T10:00:00.000Z' });

/** A shutdown signal the test sets. */
function shutdownFlag(): ShutdownSignal & { set(): void; watched: number } {
  let signalled = false;
  return {
    watched: 0,
    watch() {
      this.watched++;
    },
    shuttingDown: () => signalled,
    set: () => {
      signalled = true;
    },
  };
}

function setup(options: Omit<TriggerContextOptions, 'credential'>, deps: Partial<StreamTriggerDependencies> & { open: Opened }) {
  const trigger = triggerContext({ credential, version: 3, ...options });
  const { open, ...rest } = deps;
  const run = () => runStreamTrigger(trigger.context, { failures: new FailureMemory(), firstOutcomeMs: 5_000, now: Date.now, shutdown: shutdownFlag(), ...rest, openStream: open.open });
  return { ...trigger, run };
}

const json = (emitted: INodeExecutionData[][][]) => emitted.map((data) => data[0][0].json);

const stats = (pipelineId: string): PipelineStats => ({
  pipelineId,
  sourceState: 'RUNNING',
  sources: [{ reference: '0', state: 'RUNNING', width: 640, height: 360 }],
  latencyMs: { frameDecoding: 1.5, inference: 12, endToEnd: 20 },
  inferenceThroughput: 9.8,
  sourceErrors: [],
  report: { latency_reports: [], sources_metadata: [] },
});

/** A fake pipeline that starts (a new pipeline, or re-attaches to `resume`) and streams. */
const pipelineOpen = (id = 'pipe-1') =>
  fakeOpen((stream: FakeStream) => {
    stream.pipelineStarted(handleOf(id));
    stream.set('streaming');
  });

describe('n8n Stream Trigger: trained models and self-hosted pipelines (mocked, no server)', () => {
  describe('Trained Model', () => {
    it('reaches the engine as a model reference with its options; items name the model and hold its predictions', async () => {
      const opened = fakeOpen();
      const { emitted, run } = setup(
        {
          mode: 'trigger',
          parameters: {
            source: 'file',
            filePath: '/videos/clip.mp4',
            workflowMode: 'model',
            model: ' colors/1 ',
            modelOptions: { confidence: 0.5, classes: 'red, blue', taskType: 'object-detection' },
            dataOutputs: 'count',
            emit: 'frames',
            throttleSeconds: 0,
          },
        },
        { open: opened },
      );
      const pending = run();
      await until(() => opened.streams.length === 1, 'the stream');
      opened.streams[0].set('streaming');
      opened.streams[0].fire('result', result(1, 2));
      const response = await pending;
      assert.deepEqual(opened.settings[0].workflow, { model: 'colors/1', confidence: 0.5, classes: ['red', 'blue'], taskType: 'object-detection' });
      assert.deepEqual(opened.settings[0].dataOutputs, [], "a model's one output is predictions: Data Outputs does not apply");
      const [item] = json(emitted);
      assert.equal(item.model, 'colors/1');
      assert.equal('workflowId' in item, false);
      assert.equal((item.predictions as { predictions: unknown[] }).predictions.length, 2);
      await response.closeFunction!();
    });

    it('only the model id is needed; a bad id or confidence fails the activation with what to fix', async () => {
      const opened = fakeOpen();
      const read = async (parameters: Record<string, unknown>) => {
        const { run } = setup({ mode: 'trigger', parameters: { source: 'rtsp', url: 'rtsp://127.0.0.1/door', workflowMode: 'model', ...parameters } }, { open: opened });
        return run();
      };
      await (
        await read({ model: 'colors/1' })
      ).closeFunction!();
      assert.deepEqual(opened.settings[0].workflow, { model: 'colors/1' });
      await assert.rejects(read({ model: '' }), (error: Error) => error instanceof NodeOperationError && error.message === 'Set the model as project/version, e.g. my-project/3');
      await assert.rejects(read({ model: 'my project/3' }), /Invalid model id "my project\/3": use project\/version, e\.g\. my-project\/3/);
      await assert.rejects(read({ model: 'colors/1', modelOptions: { confidence: 4 } }), /The model's confidence must be a number from 0 to 1 \(got 4\)/);
      assert.equal(opened.streams.length, 1, 'nothing started for a bad setting');
    });

    it('is offered beside Saved Workflow and Specification; a saved workflow keeps its mode and fields', () => {
      const description = new RoboflowStreamTrigger().description;
      const mode = description.properties.find((property) => property.name === 'workflowMode')!;
      assert.deepEqual(
        (mode.options as Array<{ value: string }>).map((option) => option.value),
        ['saved', 'specification', 'model'],
      );
      assert.equal(mode.default, 'saved');
      const resolved = NodeHelpers.getNodeParameters(description.properties, { workflowMode: 'model', model: 'colors/1' }, true, false, { typeVersion: 3 }, description)!;
      assert.equal(resolved.model, 'colors/1');
      assert.equal('workspace' in resolved, false);
      assert.equal('dataOutputs' in resolved, false);
      const old = NodeHelpers.getNodeParameters(description.properties, { workspace: 'demo', workflowId: 'detect-colors' }, true, false, { typeVersion: 3 }, description)!;
      assert.equal(old.workflowMode, 'saved');
      assert.equal('model' in old, false);
      assert.equal(description.defaultVersion, 3, 'adding choices needs no new version');
    });
  });

  describe('Self-Hosted Inference Pipeline: settings', () => {
    const readSettings = async (parameters: Record<string, unknown>, extra: Omit<TriggerContextOptions, 'credential' | 'parameters' | 'mode'> = {}) => {
      // A result at once: a file's activation waits for its first one.
      const opened = fakeOpen((stream) => {
        stream.pipelineStarted(handleOf('pipe-1'));
        stream.set('streaming');
        stream.fire('result', result(1, 1));
      });
      const { run } = setup({ mode: 'trigger', parameters, ...extra }, { open: opened });
      await (
        await run()
      ).closeFunction!();
      return opened.settings[0];
    };

    it('a URL the server opens (camera login put in), a file on the server, a device index; the server reads it, no camera settings here', async () => {
      const url = await readSettings(
        { ...pipelineCamera, cameraAuth: 'credential', capture: 'local', gate: 'motion', dailyLimit: 'minutes', options: {} },
        { cameraLogin: { username: 'cam', password: CAMERA_PASSWORD } },
      );
      assert.deepEqual(url.pipeline?.source, { kind: 'url', url: `rtsp://cam:${encodeURIComponent(CAMERA_PASSWORD)}@192.168.1.20:554/stream1` });
      assert.equal(url.target, 'rtsp://192.168.1.20:554/stream1', 'the target (logged) holds no login');
      assert.equal(url.reader, 'server');
      assert.deepEqual([url.local, url.gate, url.budget, url.processingTimeout], [undefined, undefined, undefined, null]);
      assert.deepEqual(url.pipeline, { source: url.pipeline.source, pollIntervalMs: 200, consumptionTimeout: 300, includeStats: false });
      const file = await readSettings({ ...pipelineCamera, source: 'serverFile', serverFilePath: ' /videos/clip.mp4 ', options: {} });
      assert.deepEqual(file.pipeline?.source, { kind: 'file', path: '/videos/clip.mp4' });
      assert.equal(file.source, 'serverFile');
      const device = await readSettings({ ...pipelineCamera, source: 'serverDevice', deviceIndex: 1, options: {} });
      assert.deepEqual(device.pipeline?.source, { kind: 'device', index: 1 });
    });

    it('its options reach the pipeline: max fps, poll interval, keep running unread (0: never ends), outputs left out, stats in items', async () => {
      const settings = await readSettings({
        ...pipelineCamera,
        options: { maxFps: 5, pollIntervalMs: 100, consumptionTimeout: 0, excludedOutputs: 'output_image, crops', pipelineStats: true, workflowVersionId: 'v3', disableSinks: true },
      });
      assert.deepEqual(settings.pipeline, {
        source: settings.pipeline!.source,
        maxFps: 5,
        pollIntervalMs: 100,
        consumptionTimeout: null,
        excludedFields: ['output_image', 'crops'],
        includeStats: true,
      });
      assert.deepEqual(settings.workflow, { workspace: 'demo', workflowId: 'detect-colors', versionId: 'v3' });
      assert.equal(settings.disableSinks, true);
    });

    it('mistakes fail the activation with what to fix', async () => {
      const fails = async (parameters: Record<string, unknown>, message: RegExp) => {
        const opened = pipelineOpen();
        const { run } = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {}, ...parameters } }, { open: opened });
        await assert.rejects(run(), (error: Error) => error instanceof NodeOperationError && message.test(error.message));
        assert.equal(opened.streams.length, 0);
      };
      await fails({ url: '' }, /^Set the camera or video URL the server opens$/);
      await fails({ url: 'ftp://camera/stream' }, /^The video URL must start with rtsp:\/\/, rtsps:\/\/, http:\/\/, https:\/\/, rtmp:\/\/, udp:\/\/ or tcp:\/\/$/);
      await fails({ source: 'serverFile', serverFilePath: ' ' }, /^Set the path of the video file on the Inference server$/);
      await fails({ source: 'serverDevice', deviceIndex: -1 }, /^Invalid device index -1: use 0, 1, \.\.\.$/);
      await fails({ source: 'mjpeg' }, /^A self-hosted pipeline reads a URL, a file or a device on the server/);
      await fails({ options: { pollIntervalMs: 1 } }, /^Poll Interval must be 20 or more \(got 1\)$/);
    });

    it('the editor: Run With defaults to a WebRTC stream (saved workflows unchanged); a pipeline shows its own fields and a trusted-network notice, none of the camera-here ones', () => {
      const description = new RoboflowStreamTrigger().description;
      const resolve = (parameters: Record<string, unknown>, typeVersion = 3) => NodeHelpers.getNodeParameters(description.properties, parameters as never, true, false, { typeVersion }, description)!;
      for (const version of [1, 2, 3]) {
        const old = resolve({ url: 'rtsp://cam/door' }, version);
        assert.equal(old.streamType, 'webrtc');
        assert.equal(old.capture, version >= 3 ? 'local' : 'server', `version ${version} keeps who reads the camera`);
        for (const name of ['serverFilePath', 'deviceIndex', 'pipelineNotice']) assert.equal(name in old, false, `${name} is a pipeline field`);
      }
      const pipeline = resolve({ streamType: 'pipeline', url: 'rtsp://cam/door' });
      assert.equal(pipeline.source, 'rtsp');
      assert.equal(pipeline.url, 'rtsp://cam/door', 'the URL field is the same parameter: switching keeps it');
      for (const name of ['capture', 'cameraOptions', 'gate', 'dailyLimit', 'filePath', 'videoUrl', 'devicePath']) assert.equal(name in pipeline, false, `${name} is hidden for a pipeline`);
      assert.equal(pipeline.cameraAuth, 'none');
      const notice = description.properties.find((property) => property.name === 'pipelineNotice')!;
      assert.match(notice.displayName, /checks no API key on its pipeline routes.*Keep it on a trusted network/);
      const pipelineOptions = description.properties.filter((property) => property.name === 'options' && property.displayOptions?.show?.streamType);
      assert.equal(pipelineOptions.length, 2, 'version 1 and version 2+');
      for (const options of pipelineOptions) {
        const names = (options.options as Array<{ name: string }>).map((option) => option.name);
        for (const name of ['pipelineStats', 'consumptionTimeout', 'maxFps', 'pollIntervalMs', 'excludedOutputs', 'parameters', 'workflowVersionId']) assert.ok(names.includes(name), name);
        for (const name of ['realtime', 'processingTimeout']) assert.equal(names.includes(name), false, `${name} is a WebRTC session's`);
      }
      const webrtcSources = description.properties.filter((property) => property.name === 'source');
      assert.deepEqual(
        webrtcSources.map((property) => (property.options as Array<{ value: string }>).map((option) => option.value)),
        [
          ['mjpeg', 'rtsp', 'device', 'file', 'replay', 'videoUrl'],
          ['rtsp', 'serverDevice', 'serverFile'],
        ],
      );
    });
  });

  describe('Self-Hosted Inference Pipeline: published', () => {
    it('keeps the pipeline handle in static data; n8n saves it when the activation finishes; the next activation re-attaches to it', async () => {
      const staticData = new WorkflowStaticData();
      const opened = pipelineOpen('pipe-1');
      const first = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {} }, staticData }, { open: opened });
      const response = await first.run();
      staticData.persist(); // n8n, once the activation has finished
      assert.deepEqual(staticData.saved['node:Roboflow'], { pipeline: handleOf('pipe-1') });
      assert.equal(opened.resumed[0], undefined, 'nothing kept yet: a new pipeline');
      assert.ok(first.logs.includes(`Roboflow pipeline pipe-1: started on ${credential.serverUrl}`));
      await response.closeFunction!();

      // n8n after a restart: the database's copy.
      staticData.reload();
      const second = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {} }, staticData }, { open: opened });
      await (
        await second.run()
      ).closeFunction!();
      assert.deepEqual(opened.resumed[1], handleOf('pipe-1'));
    });

    it('deactivation terminates the pipeline; n8n shutting down leaves it running when its handle is saved', async () => {
      const deactivated = pipelineOpen();
      const a = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {} } }, { open: deactivated });
      await (
        await a.run()
      ).closeFunction!();
      assert.deepEqual([deactivated.streams[0].stops, deactivated.streams[0].detaches], [1, 0]);

      const shutdown = shutdownFlag();
      const staticData = new WorkflowStaticData();
      const stopping = pipelineOpen();
      const b = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {} }, staticData }, { open: stopping, shutdown });
      const response = await b.run();
      staticData.persist();
      assert.equal(shutdown.watched, 1, 'a pipeline trigger watches for the shutdown');
      shutdown.set();
      await response.closeFunction!();
      await response.closeFunction!();
      assert.deepEqual([stopping.streams[0].stops, stopping.streams[0].detaches], [0, 1]);
      assert.ok(
        b.logs.some((line) =>
          /^Roboflow pipeline pipe-1: n8n is shutting down; the pipeline keeps running on the server and is re-attached when n8n starts again \(the server ends it after 300 s unread\)$/.test(line),
        ),
      );
    });

    it('n8n shutting down before a replaced pipeline reached the database terminates it (a restart could not find it)', async () => {
      const shutdown = shutdownFlag();
      const staticData = new WorkflowStaticData();
      const opened = pipelineOpen('pipe-1');
      const { run, logs } = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {} }, staticData }, { open: opened, shutdown });
      const response = await run();
      staticData.persist();
      const stream = opened.streams[0];
      // The server ended it; a new one started: written to static data, not saved (no item since).
      stream.fire('pipeline-ended', { pipelineId: 'pipe-1', reason: 'ended on the server' });
      stream.pipelineStarted(handleOf('pipe-2'));
      assert.equal((staticData.live['node:Roboflow'] as { pipeline: PipelineHandle }).pipeline.pipelineId, 'pipe-2');
      shutdown.set();
      await response.closeFunction!();
      assert.deepEqual([stream.stops, stream.detaches], [1, 0]);
      assert.ok(logs.includes('Roboflow pipeline pipe-1 ended (ended on the server)'));
      assert.ok(logs.some((line) => line.startsWith("Roboflow pipeline pipe-2: n8n is shutting down, but this pipeline is not in n8n's database yet")));
    });

    it('an item saves it: after an emit, the replaced pipeline is the one a restart finds and a shutdown leaves running', async () => {
      const shutdown = shutdownFlag();
      const staticData = new WorkflowStaticData();
      const opened = pipelineOpen('pipe-1');
      const { run, emitted } = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {} }, staticData }, { open: opened, shutdown });
      const response = await run();
      staticData.persist();
      const stream = opened.streams[0];
      stream.fire('pipeline-ended', { pipelineId: 'pipe-1', reason: 'ended on the server' });
      stream.pipelineStarted(handleOf('pipe-2'));
      stream.fire('result', result(1, 1));
      assert.equal(emitted.length, 1);
      assert.equal((staticData.saved['node:Roboflow'] as { pipeline: PipelineHandle }).pipeline.pipelineId, 'pipe-2');
      shutdown.set();
      await response.closeFunction!();
      assert.deepEqual([stream.stops, stream.detaches], [0, 1]);
    });

    it('a kept handle that is not one is ignored with a warning (a new pipeline starts)', async () => {
      const staticData = new WorkflowStaticData({ 'node:Roboflow': { pipeline: { pipelineId: 'x', serverUrl: 'file:///etc/passwd', fingerprint: 'ab'.repeat(16), startedAt: '' } } });
      const opened = pipelineOpen();
      const { run, logs } = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {} }, staticData }, { open: opened });
      await (
        await run()
      ).closeFunction!();
      assert.equal(opened.resumed[0], undefined);
      assert.ok(logs.includes('Roboflow pipeline: the kept pipeline handle is unusable (pipeline.serverUrl is not an http(s) URL); a new pipeline is started'));
    });

    it('re-attached to a pipeline paused on the server: resumed (a trigger has no input to resume it by)', async () => {
      const opened = fakeOpen((stream) => {
        stream.pipelineStarted(handleOf('pipe-1'), true, true);
        stream.set('streaming');
      });
      const { run, logs } = setup({ mode: 'trigger', parameters: { ...pipelineCamera, options: {} } }, { open: opened });
      const response = await run();
      assert.equal(opened.streams[0].resumes, 1);
      assert.ok(logs.includes('Roboflow pipeline pipe-1 was paused on the server: resuming it'));
      assert.ok(logs.some((line) => line.startsWith('Roboflow pipeline pipe-1: re-attached')));
      await response.closeFunction!();
    });

    it("the server's report: at debug in the log always, in items as `pipeline` only when asked (small: no raw report)", async () => {
      const run = async (pipelineStats: boolean) => {
        const opened = pipelineOpen();
        const trigger = setup({ mode: 'trigger', parameters: { ...pipelineCamera, dataOutputs: 'count', options: { pipelineStats } } }, { open: opened });
        const response = await trigger.run();
        const stream = opened.streams[0];
        stream.fire('stats', stats('pipe-1'));
        stream.fire('result', {
          frameId: 7,
          data: { count: 2, predictions: { predictions: [] }, output_image: 'base64...' },
          metadata: { frame_id: 7, received_at: '2026-01-01T00:00:00Z' },
          errors: [],
        });
        await response.closeFunction!();
        return trigger;
      };
      const plain = await run(false);
      assert.deepEqual(
        json(plain.emitted),
        [{ count: 2, frame: { frame_id: 7, received_at: '2026-01-01T00:00:00Z' }, errors: [], workflowId: 'detect-colors' }],
        'Data Outputs picks the outputs (a pipeline returns them all)',
      );
      assert.ok(plain.logs.includes('Roboflow pipeline pipe-1: source RUNNING, 9.8 fps, latency 20 ms'));
      const asked = await run(true);
      assert.deepEqual(json(asked.emitted)[0].pipeline, {
        pipelineId: 'pipe-1',
        sourceState: 'RUNNING',
        latencyMs: { frameDecoding: 1.5, inference: 12, endToEnd: 20 },
        inferenceThroughput: 9.8,
        sourceErrors: [],
      });
    });

    it('"Test step" starts a pipeline of its own and terminates it: never re-attached, never kept', async () => {
      const staticData = new WorkflowStaticData({ 'node:Roboflow': { pipeline: handleOf('pipe-active') } });
      const opened = fakeOpen((stream) => {
        stream.pipelineStarted(handleOf('pipe-test'));
        stream.set('streaming');
        stream.fire('stats', stats('pipe-test'));
        stream.fire('result', result(1, 1));
      });
      const { run, emitted } = setup({ mode: 'manual', parameters: { ...pipelineCamera, options: { pipelineStats: true } }, staticData }, { open: opened });
      const response = await run();
      await response.manualTriggerFunction!();
      assert.equal(opened.resumed[0], undefined);
      assert.deepEqual([opened.streams[0].stops, opened.streams[0].detaches], [1, 0]);
      assert.equal((emitted[0][0][0].json.pipeline as { pipelineId: string }).pipelineId, 'pipe-test');
      assert.deepEqual((staticData.live['node:Roboflow'] as { pipeline: PipelineHandle }).pipeline, handleOf('pipe-active'), "the published trigger's handle is left alone");
    });

    it('a file on the server: the completion item after its end', async () => {
      const opened = fakeOpen((stream) => {
        stream.pipelineStarted(handleOf('pipe-1'));
        stream.set('streaming');
        stream.fire('result', result(1, 1));
      });
      const { run, emitted } = setup({ mode: 'trigger', parameters: { ...pipelineCamera, source: 'serverFile', serverFilePath: '/videos/clip.mp4', options: {} } }, { open: opened });
      const response = await run();
      opened.streams[0].fire('complete', { frameId: 2, reason: null });
      assert.deepEqual(
        json(emitted).map((item) => item.complete ?? item.frame),
        [{ frame_id: 1, received_at: '2026-01-01T00:00:00Z' }, true],
      );
      await response.closeFunction!();
    });
  });

  describe('ShutdownWatch', () => {
    it('listens in front of an existing handler, once; never alone (the process must still exit on the signal)', () => {
      const lonely = new EventEmitter();
      const watch = new ShutdownWatch(lonely);
      watch.watch();
      assert.equal(lonely.listenerCount('SIGTERM'), 0, 'no handler of its own where there was none');
      const n8n = new EventEmitter();
      const order: string[] = [];
      const shutdown = new ShutdownWatch(n8n);
      n8n.once('SIGTERM', () => order.push(`n8n sees shuttingDown=${shutdown.shuttingDown()}`));
      n8n.once('SIGINT', () => undefined);
      shutdown.watch();
      shutdown.watch();
      assert.equal(n8n.listenerCount('SIGTERM'), 2, 'one listener, however often it is asked');
      assert.equal(shutdown.shuttingDown(), false);
      n8n.emit('SIGTERM');
      assert.deepEqual(order, ['n8n sees shuttingDown=true'], 'set before n8n starts closing triggers');
      assert.equal(n8n.listenerCount('SIGTERM'), 0, "gone after the signal, like n8n's: a second signal ends the process");
    });
  });
});
