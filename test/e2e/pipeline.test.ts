import { strict as assert } from 'node:assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PipelineClient, PipelineStream, RoboflowError, type PipelineHandle, type PipelineStats, type PipelineStreamOptions, type StreamResult } from '../../lib';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('wrong-pipeline-key-42');
const CAMERA_PASSWORD = secret('door-pa55-word');

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  class: string;
}

const boxes = (result: StreamResult): Box[] => (result.data?.predictions as { predictions?: Box[] } | undefined)?.predictions ?? [];
const rows = (list: Array<{ class?: string; color?: string; x: number; y: number; width: number; height: number }>): string[] =>
  list.map((box) => `${box.class ?? box.color} ${box.x} ${box.y} ${box.width} ${box.height}`).sort();

describe('self-hosted InferencePipeline over HTTP (local server with the stream API)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let client: PipelineClient;
  let opened: PipelineStream[] = [];
  const stream = (extra: Partial<PipelineStreamOptions> = {}): PipelineStream => {
    const created = new PipelineStream({ connection: server.connection(), workflow: { model: 'colors/1' }, source: { kind: 'device', index: 0 }, statsIntervalMs: 500, ...extra });
    opened.push(created);
    return created;
  };
  const listed = (): Promise<string[]> => client.list();
  const collect = (piped: PipelineStream): StreamResult[] => {
    const results: StreamResult[] = [];
    piped.on('result', (result) => results.push(result));
    return results;
  };

  before(async () => {
    // Device 0 is the door camera: its file looped at its own rate, so frame id n is scene frame (n - 1) mod 100.
    server = await startLocalServer(['--stream-api', '--cameras', 'door', '--rtsp-port', '0', '--rtsp-auth', `cam:${CAMERA_PASSWORD}`]);
    client = new PipelineClient({ connection: server.connection() });
  });
  after(async () => {
    await client.close();
    assert.equal(await server.stop(), 0);
    const printed = server.output.join('');
    assert.doesNotMatch(printed, new RegExp(API_KEY), 'the server never prints the API key');
    assert.doesNotMatch(printed, new RegExp(CAMERA_PASSWORD), 'nor the camera password');
  });
  beforeEach(() => server.resetFaults().then(() => server.faults({ streamApi: true })));
  afterEach(async () => {
    await Promise.all(opened.map((piped) => piped.stop()));
    opened = [];
    await eventually(async () => (await listed()).length === 0, 5_000, 'no pipeline left on the server');
  });

  it('starts a pipeline on a device and consumes its results in order, exact detections, frame from frames_metadata', async () => {
    const scene = getScene('door');
    const piped = stream();
    const results = collect(piped);
    const handles: Array<{ handle: PipelineHandle; attached: boolean }> = [];
    piped.on('pipeline', (event) => handles.push(event));
    piped.start();
    await eventually(() => results.length >= 15, 15_000, '15 results');
    assert.equal(piped.state, 'streaming');
    assert.deepEqual(
      results.slice(0, 15).map((result) => result.frameId),
      Array.from({ length: 15 }, (_, index) => index + 1),
      'every frame, in order',
    );
    for (const result of results) {
      assert.deepEqual(rows(boxes(result)), rows(expectedBoxes(scene, (result.frameId - 1) % scene.frames)), `frame ${result.frameId}`);
      assert.deepEqual(Object.keys(result.data ?? {}), ['predictions'], "a model's image output is left out by default");
      assert.equal(result.metadata?.frame_id, result.frameId);
      assert.equal(result.metadata?.source_id, 0);
      assert.match(String(result.metadata?.frame_timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
    }
    assert.equal(handles.length, 1);
    assert.equal(handles[0].attached, false);
    assert.deepEqual(await listed(), [handles[0].handle.pipelineId]);
    assert.equal(handles[0].handle.serverUrl, server.url);
  });

  it('reports the server status as stats: source state and latency reports', async () => {
    const piped = stream();
    const stats: PipelineStats[] = [];
    piped.on('stats', (report) => stats.push(report));
    piped.start();
    const running = await eventually(() => stats.find((report) => report.sourceState === 'RUNNING' && report.latencyMs?.endToEnd !== null), 15_000, 'a RUNNING report with latencies');
    assert.equal(running.pipelineId, piped.pipelineId);
    assert.deepEqual(
      running.sources.map((source) => [source.reference, source.width, source.height, source.isFile]),
      [['0', 640, 360, false]],
    );
    assert.ok(running.latencyMs!.inference! >= 0);
    assert.ok(Array.isArray(running.report.latency_reports));
    assert.ok((running.report.video_source_status_updates ?? []).some((update) => update.event_type === 'SOURCE_STATE_UPDATE'));
  });

  it('pauses (the server mutes the source: no results) and resumes (results again, frame ids went on counting)', async () => {
    const piped = stream();
    const results = collect(piped);
    const stats: PipelineStats[] = [];
    piped.on('stats', (report) => stats.push(report));
    piped.start();
    await eventually(() => results.length >= 5, 15_000, 'results before the pause');
    await piped.pause();
    assert.equal(piped.paused, true);
    await piped.pause(); // twice is harmless (the server would refuse to mute a muted source)
    const mutedAt = stats.length;
    await eventually(() => stats.slice(mutedAt).find((report) => report.sourceState === 'MUTED'), 5_000, 'the server reports MUTED');
    const during = results.length;
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    assert.ok(results.length - during <= 1, 'no results while paused (one may have been buffered before)');
    const lastBefore = results[results.length - 1].frameId;
    await piped.resume();
    await eventually(() => results.length >= during + 5, 10_000, 'results after resuming');
    assert.ok(results[results.length - 1].frameId > lastBefore + 5, 'frames read while muted were counted and dropped');
    assert.equal(opened.length, 1);
    assert.equal((await listed()).length, 1, 'the same pipeline');
  });

  it('stop terminates the pipeline on the server', async () => {
    const piped = stream();
    const ended: string[] = [];
    piped.on('pipeline-ended', ({ reason }) => ended.push(reason));
    piped.start();
    await eventually(() => piped.state === 'streaming', 15_000, 'streaming');
    const id = piped.pipelineId!;
    await piped.stop();
    assert.equal(piped.state, 'stopped');
    assert.deepEqual(ended, ['stopped']);
    assert.deepEqual(await listed(), []);
    await assert.rejects(client.status(id), (error: RoboflowError) => error.status === 404 && error.message.includes('Could not find InferencePipeline with id='));
  });

  it('re-attaches to its own pipeline after a restart (detach, then a new stream with the persisted handle): one pipeline on the server', async () => {
    const first = stream();
    const before = collect(first);
    first.start();
    await eventually(() => before.length >= 3, 15_000, 'first results');
    const persisted = JSON.parse(JSON.stringify(first.handle)) as PipelineHandle;
    assert.doesNotMatch(JSON.stringify(persisted), new RegExp(API_KEY), 'the handle holds no secret');
    await first.detach();
    assert.deepEqual(await listed(), [persisted.pipelineId], 'detach leaves the pipeline running');

    const second = stream({ resume: persisted });
    const after = collect(second);
    const events: Array<{ handle: PipelineHandle; attached: boolean }> = [];
    second.on('pipeline', (event) => events.push(event));
    second.start();
    await eventually(() => after.length >= 3, 15_000, 'results after re-attaching');
    assert.deepEqual(
      events.map((event) => [event.handle.pipelineId, event.attached]),
      [[persisted.pipelineId, true]],
    );
    assert.deepEqual(await listed(), [persisted.pipelineId], 'one pipeline on the server');
    assert.ok(after[0].frameId > before[before.length - 1].frameId, 'the same pipeline went on counting');
  });

  it('an unknown pipeline id on re-attach starts a new pipeline', async () => {
    const piped = stream({ resume: { pipelineId: 'gone-after-server-restart', serverUrl: server.url, fingerprint: 'ab'.repeat(16), startedAt: '2026-11-29T10:00:00.000Z' } });
    const events: Array<{ handle: PipelineHandle; attached: boolean }> = [];
    const ended: Array<{ pipelineId: string; reason: string }> = [];
    piped.on('pipeline', (event) => events.push(event));
    piped.on('pipeline-ended', (event) => ended.push(event));
    piped.start();
    await eventually(() => events.length === 1, 15_000, 'a pipeline');
    assert.equal(events[0].attached, false);
    assert.notEqual(events[0].handle.pipelineId, 'gone-after-server-restart');
    assert.deepEqual(ended, [{ pipelineId: 'gone-after-server-restart', reason: 'gone from the server' }]);
    assert.deepEqual(await listed(), [events[0].handle.pipelineId]);
  });

  it('a persisted pipeline started with other settings is terminated and replaced (never two)', async () => {
    const first = stream();
    first.start();
    await eventually(() => first.state === 'streaming', 15_000, 'streaming');
    const persisted = first.handle!;
    await first.detach();
    const changed = stream({ resume: persisted, maxFps: 5 });
    const events: Array<{ handle: PipelineHandle; attached: boolean }> = [];
    changed.on('pipeline', (event) => events.push(event));
    changed.start();
    await eventually(() => events.length === 1, 15_000, 'a pipeline');
    assert.equal(events[0].attached, false);
    assert.deepEqual(await listed(), [events[0].handle.pipelineId]);
    assert.notEqual(events[0].handle.pipelineId, persisted.pipelineId);
  });

  it('the server terminates a pipeline nobody consumes within consumption_timeout', async () => {
    const piped = stream({ consumptionTimeout: 1 });
    piped.start();
    await eventually(() => piped.state === 'streaming', 15_000, 'streaming');
    const id = piped.pipelineId!;
    await piped.detach();
    assert.deepEqual(await listed(), [id]);
    await eventually(async () => !(await listed()).includes(id), 6_000, 'the server ended the unconsumed pipeline');
  });

  it('a live pipeline the server ended is replaced by a new one (the stream goes on)', async () => {
    const piped = stream({ reconnect: { initialMs: 100, maxMs: 200 } });
    const results = collect(piped);
    const events: Array<{ handle: PipelineHandle; attached: boolean }> = [];
    piped.on('pipeline', (event) => events.push(event));
    piped.start();
    await eventually(() => results.length >= 3, 15_000, 'results');
    await client.terminate(piped.pipelineId!);
    await eventually(() => events.length === 2, 10_000, 'a new pipeline');
    const count = results.length;
    await eventually(() => results.length > count + 2, 10_000, 'results from the new pipeline');
    assert.deepEqual(await listed(), [events[1].handle.pipelineId]);
  });

  it('a camera URL the server opens (RTSP with a login), and a file on the server that ends the stream', async () => {
    const [camera] = await server.cameras();
    const url = camera.rtsp_url!.replace('rtsp://', `rtsp://cam:${CAMERA_PASSWORD}@`);
    const live = stream({ source: { kind: 'url', url } });
    const results = collect(live);
    const stats: PipelineStats[] = [];
    live.on('stats', (report) => stats.push(report));
    live.start();
    await eventually(() => results.length >= 3 && stats.some((report) => report.sourceState === 'RUNNING'), 20_000, 'results from the RTSP camera');
    assert.ok(
      stats.every((report) => !JSON.stringify(report).includes(CAMERA_PASSWORD)),
      'the server masks the camera password in its reports',
    );
    await live.stop();

    const scene = getScene('two-squares');
    const file = stream({ source: { kind: 'file', path: await sceneVideo('two-squares') }, pollIntervalMs: 100 });
    const frames = collect(file);
    const completed = file.next('complete', 20_000);
    file.start();
    const [done] = await completed;
    assert.equal(file.state, 'complete');
    assert.ok(frames.length > 0);
    assert.ok(
      frames.every((result, index) => index === 0 || result.frameId > frames[index - 1].frameId),
      'in order',
    );
    for (const result of frames) assert.deepEqual(rows(boxes(result)), rows(expectedBoxes(scene, result.frameId - 1)), `frame ${result.frameId}`);
    assert.equal(done.frameId, frames[frames.length - 1].frameId + 1);
  });

  it('no key check on the routes; the key is handed to the pipeline, which needs it for a saved workflow', async () => {
    const keyless = new PipelineClient({ connection: server.connection({ apiKey: WRONG_KEY }) });
    try {
      assert.deepEqual(await keyless.list(), []);
      const id = await keyless.initialise({
        workflow: {
          specification: {
            version: '1.0',
            inputs: [{ type: 'WorkflowImage', name: 'image' }],
            steps: [{ type: 'local/image_stats@v1', name: 's', image: '$inputs.image' }],
            outputs: [{ type: 'JsonField', name: 'b', selector: '$steps.s.brightness' }],
          },
        },
        source: { kind: 'device', index: 0 },
      });
      await keyless.terminate(id);
      await assert.rejects(
        keyless.initialise({ workflow: { workspace: 'ws', workflowId: 'detect-colors' }, source: { kind: 'device', index: 0 } }),
        (error: RoboflowError) => error.code === 'invalid-api-key',
      );
    } finally {
      await keyless.close();
    }
    const failing = stream({ workflow: { workspace: 'ws', workflowId: 'no-such-workflow' } });
    const error = failing.next('error', 15_000);
    failing.start();
    const [failure] = await error;
    assert.equal(failure.code, 'not-found');
    assert.match(failure.message, /Requested Roboflow resources \(models \/ workflows etc\.\) not available/);
    assert.equal(failing.state, 'failed');
  });

  it('a server without the stream API (the hosted service): 404 at start, one clear error', async () => {
    await server.faults({ streamApi: false });
    const piped = stream();
    const error = piped.next('error', 15_000);
    piped.start();
    const [failure] = await error;
    assert.equal(failure.code, 'not-found');
    assert.match(failure.message, /^This server has no InferencePipeline API \(404\): start the self-hosted Inference server with ENABLE_STREAM_API=True/);
    assert.equal(piped.state, 'failed');
    await server.faults({ streamApi: true });
  });

  it('a camera the server cannot open: the stream says why, and tries again with a new pipeline', async () => {
    const piped = stream({ source: { kind: 'url', url: 'rtsp://127.0.0.1:9/nothing-here' }, reconnect: { initialMs: 5_000, maxMs: 5_000 } });
    const reconnecting = piped.next('reconnecting', 20_000);
    piped.start();
    const [{ error }] = await reconnecting;
    assert.equal(error.code, 'source-ended');
    assert.match(error.message, /^The server could not read the video source \(.+\); pipeline [0-9a-f-]{36} ended$/);
  });

  it('a pipeline the server forgot before any status showed why (its source never ran): still named a source failure', async () => {
    // A server that loses the pipeline at once, as Roboflow's manager does within a second
    // of a source error: no status ever carries the error.
    const gone = createServer((request, response) => {
      const reply = (status: number, body: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(body));
      };
      if (request.method === 'POST' && request.url === '/inference_pipelines/initialise')
        reply(200, { status: 'success', context: { request_id: null, pipeline_id: '0b5c3c36-2a4e-4b7e-9a51-3f0c6a2d9e11' } });
      else reply(404, { status: 'failure', message: 'Pipeline not found' });
    });
    await new Promise<void>((resolve) => gone.listen(0, '127.0.0.1', resolve));
    try {
      const port = (gone.address() as AddressInfo).port;
      const piped = new PipelineStream({
        connection: server.connection({ serverUrl: `http://127.0.0.1:${port}` }),
        workflow: { model: 'colors/1' },
        source: { kind: 'url', url: 'rtsp://127.0.0.1:9/nothing-here' },
        reconnect: { initialMs: 5_000, maxMs: 5_000 },
      });
      const reconnecting = piped.next('reconnecting', 10_000);
      piped.start();
      const [{ error }] = await reconnecting;
      await piped.stop();
      assert.equal(error.code, 'source-ended');
      assert.equal(error.message, 'The server could not read the video source (no frame was read before the pipeline ended); pipeline 0b5c3c36-2a4e-4b7e-9a51-3f0c6a2d9e11 ended');
    } finally {
      gone.close();
    }
  });

  it('re-attaching to a paused pipeline knows it is paused; resume unmutes it', async () => {
    const first = stream();
    const before = collect(first);
    first.start();
    await eventually(() => before.length >= 2, 15_000, 'results');
    await first.pause();
    const persisted = first.handle!;
    await first.detach();
    const second = stream({ resume: persisted });
    const after = collect(second);
    const paused: boolean[] = [];
    second.on('paused', (value) => paused.push(value));
    second.start();
    await eventually(() => paused.length === 1, 10_000, 'told it is paused');
    assert.equal(second.paused, true);
    await second.resume();
    await eventually(() => after.length >= 3, 10_000, 'results after resuming');
    assert.deepEqual(paused, [true, false]);
  });

  it('reconfigure is not supported while running; ack is a no-op', () => {
    const piped = stream();
    assert.throws(() => piped.reconfigure(), /cannot change its outputs while it runs/);
    piped.ack();
  });
});
