import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import sharp from 'sharp';
import { HttpClient, ResilientStream, RoboflowError, StreamSession, resolveIceServers, silentLogger, type StreamOptions, type StreamResult, type VideoFrameEvent } from '../../lib';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { API_KEY, eventually, peakConcurrency, startLocalServer, type RunningServer } from '../helpers/local-server';
import { MEDIA_DIR, sceneImage, sceneVideo } from '../helpers/media';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('wrong-key-123');
const CAMERA_PASSWORD = secret('pa55word');
const UNREACHABLE_CAMERA_PASSWORD = secret('TopSecret99');

interface Prediction {
  x: number;
  y: number;
  width: number;
  height: number;
  class: string;
}

const predictions = (result: StreamResult): Prediction[] => (result.data?.predictions as { predictions?: Prediction[] } | undefined)?.predictions ?? [];
const sorted = <T extends { x: number; y: number }>(boxes: T[]): T[] => [...boxes].sort((a, b) => a.y - b.y || a.x - b.x);

/** Runs a session until it closes; returns what it emitted. */
async function runToEnd(
  session: StreamSession,
  timeoutMs = 30_000,
): Promise<{ results: StreamResult[]; completion?: { frameId: number; reason: string | null }; reason: string; errors: RoboflowError[] }> {
  const results: StreamResult[] = [];
  const errors: RoboflowError[] = [];
  let completion: { frameId: number; reason: string | null } | undefined;
  session.on('result', (result) => results.push(result));
  session.on('complete', (done) => (completion = done));
  session.on('error', (error) => errors.push(error));
  const closed = session.next('closed', timeoutMs);
  await session.start();
  const [{ reason }] = await closed;
  return { results, completion, reason, errors };
}

describe('engine against the local server (real WebRTC on loopback)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  const workflow = { workspace: 'my-workspace', workflowId: 'detect-colors' };
  const options = (extra: Partial<StreamOptions>): StreamOptions => ({ connection: server.connection(), workflow, source: { kind: 'frames' }, ...extra });
  // Everything a test opens is stopped after it, pass or fail.
  let opened: Array<{ stop(): Promise<void> }> = [];
  const track = <T extends { stop(): Promise<void> }>(item: T): T => {
    opened.push(item);
    return item;
  };
  const newSession = (extra: Partial<StreamOptions>): StreamSession => track(new StreamSession(options(extra)));

  before(async () => {
    server = await startLocalServer(['--rtsp-port', '0', '--rtsp-auth', `cam:${CAMERA_PASSWORD}`]);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    const printed = server.output.join('');
    assert.doesNotMatch(printed, new RegExp(API_KEY), 'the server never prints the API key');
  });
  beforeEach(() => server.resetFaults());
  afterEach(async () => {
    await Promise.all(opened.map((item) => item.stop()));
    opened = [];
    // Nothing may be left running on the server.
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'no active session on the server');
  });

  for (const gzip of [false, true]) {
    it(`file source: every frame's result in order, exact detections, then completion (gzip ${gzip ? 'on' : 'off'})`, async () => {
      await server.faults({ gzip });
      const scene = getScene('two-squares');
      const progress: number[] = [];
      const session = newSession({ source: { kind: 'file', path: await sceneVideo('two-squares') }, dataOutputs: ['predictions', 'count'] });
      session.on('progress', (p) => progress.push(p.percent));
      const { results, completion, reason, errors } = await runToEnd(session);
      assert.deepEqual(errors, []);
      assert.equal(reason, 'complete');
      assert.deepEqual(
        results.map((r) => r.frameId),
        Array.from({ length: scene.frames }, (_, i) => i + 1),
      );
      assert.deepEqual(completion, { frameId: scene.frames + 1, reason: null });
      assert.equal(progress[progress.length - 1], 100);
      for (const result of results) {
        assert.deepEqual(Object.keys(result.data ?? {}).sort(), ['count', 'predictions']);
        const expected = sorted(expectedBoxes(scene, result.frameId - 1)).map((b) => [b.color, b.x, b.y, b.width, b.height]);
        assert.deepEqual(
          sorted(predictions(result)).map((p) => [p.class, p.x, p.y, p.width, p.height]),
          expected,
          `frame ${result.frameId}`,
        );
        assert.equal(result.metadata?.frame_id, result.frameId);
        assert.match(String(result.metadata?.received_at), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
      }
      const ended = await eventually(async () => (await server.sessions()).ended.find((s) => s.endedReason === 'client closed the connection'));
      assert.ok(ended, 'the client closed the peer connection after completion');
    });
  }

  it('frames source: JPEG frames pushed from the flow come back as detections', async () => {
    const scene = getScene('two-squares');
    const session = newSession({ dataOutputs: ['predictions'] });
    const results: StreamResult[] = [];
    session.on('result', (result) => results.push(result));
    await session.start();
    for (let index = 0; index < scene.frames; index++) {
      const outcome = await session.pushFrame(await sceneImage('two-squares', index));
      assert.equal(outcome.sent, true);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    await eventually(() => results.length >= scene.frames - 2, 10_000, 'results for the pushed frames');
    await session.stop();
    // Live video is lossy (VP8): boxes are close, not exact; classes and counts are exact.
    for (const result of results) {
      const got = sorted(predictions(result));
      assert.deepEqual(got.map((p) => p.class).sort(), ['blue', 'red']);
      assert.equal(result.metadata?.width, 320);
      assert.equal(result.metadata?.height, 240);
    }
    const red = results.map((result) => predictions(result).find((p) => p.class === 'red')!.x);
    assert.ok(red[red.length - 1] - red[0] > 150, 'the red square moves right');
    assert.ok(
      results.every((r, i) => i === 0 || r.frameId > results[i - 1].frameId),
      'frame ids increase',
    );
    await assert.rejects(session.pushFrame(Buffer.from('jpeg?')), /not running/);
  });

  it('frames source: a corrupt image is refused with a clear error and the stream goes on', async () => {
    const session = newSession({ dataOutputs: ['count'] });
    const results: StreamResult[] = [];
    session.on('result', (result) => results.push(result));
    await session.start();
    await assert.rejects(session.pushFrame(Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x01])), (error: RoboflowError) => error.code === 'invalid-input' && error.message.includes('not a readable image'));
    await session.pushFrame(await sceneImage('two-squares', 3, 'png'));
    await eventually(() => results.length >= 1, 5_000, 'a result after the corrupt frame');
    assert.equal(results[0].data?.count, 2);
    await session.stop();
  });

  it('RTSP source with credentials: the server pulls the camera and results flow', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'door')!;
    const url = camera.rtsp_url!.replace('rtsp://', `rtsp://cam:${CAMERA_PASSWORD}@`);
    const session = newSession({ source: { kind: 'rtsp', url }, dataOutputs: ['predictions'] });
    const results: StreamResult[] = [];
    session.on('result', (result) => results.push(result));
    await session.start();
    await eventually(() => results.length >= 10, 15_000, '10 RTSP results');
    await session.stop();
    const classes = new Set(results.flatMap((result) => predictions(result).map((p) => p.class)));
    assert.ok(classes.has('green'), 'the door frame is detected');
    assert.ok(results.every((r, i) => i === 0 || r.frameId > results[i - 1].frameId));
    const sessions = await server.sessions();
    assert.equal(sessions.ended[0].endedReason, 'client closed the connection');
  });

  it('RTSP camera that cannot be opened: a clear 504 error, password not shown', async () => {
    await server.faults({ sourceOpenTimeoutMs: 3_000 });
    const session = newSession({ source: { kind: 'rtsp', url: `rtsp://admin:${UNREACHABLE_CAMERA_PASSWORD}@127.0.0.1:9/none` } });
    await assert.rejects(session.start(), (error: RoboflowError) => {
      assert.equal(error.code, 'gateway-timeout');
      assert.match(error.message, /camera URL the server cannot open/);
      assert.doesNotMatch(`${error.message} ${error.detail}`, new RegExp(UNREACHABLE_CAMERA_PASSWORD));
      return true;
    });
  });

  it('MJPEG source: the server pulls an HTTP multipart stream', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    const session = newSession({ source: { kind: 'mjpeg', url: camera.mjpeg_url }, dataOutputs: ['count'] });
    const results: StreamResult[] = [];
    session.on('result', (result) => results.push(result));
    await session.start();
    await eventually(() => results.length >= 5, 15_000, '5 MJPEG results');
    await session.stop();
    assert.ok(results.every((result) => result.data?.count === 2));
  });

  for (const format of ['jpeg', 'i420'] as const) {
    it(`returned video: processed frames arrive on the track and come out as ${format.toUpperCase()}`, async () => {
      const session = newSession({ dataOutputs: [], streamOutputs: ['output_image'], videoOutput: format });
      const frames: VideoFrameEvent[] = [];
      const results: StreamResult[] = [];
      session.on('video-frame', (frame) => frames.push(frame));
      session.on('result', (result) => results.push(result));
      await session.start();
      for (let index = 0; index < 15; index++) {
        await session.pushFrame(await sceneImage('two-squares', index));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await eventually(() => frames.length >= 5, 10_000, 'returned video frames');
      await session.stop();
      assert.equal(results[0].data, null, 'data_output [] sends no data');
      const last = frames[frames.length - 1];
      assert.equal(last.format, format);
      assert.ok(last.width >= 160 && last.width <= 320, `width ${last.width}`);
      if (format === 'jpeg') {
        const meta = await sharp(last.data).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ['jpeg', last.width, last.height]);
      } else {
        assert.equal(last.data.byteLength, last.width * last.height * 1.5);
      }
    });
  }

  it('image data outputs arrive as base64 JPEG, and reconfigure switches outputs while running', async () => {
    const session = newSession({ dataOutputs: ['output_image'] });
    const results: StreamResult[] = [];
    session.on('result', (result) => results.push(result));
    await session.start();
    await session.pushFrame(await sceneImage('two-squares', 0));
    await eventually(() => results.length >= 1, 5_000, 'first result');
    const image = results[0].data?.output_image as { type: string; value: string };
    assert.equal(image.type, 'base64');
    assert.equal((await sharp(Buffer.from(image.value, 'base64')).metadata()).format, 'jpeg');
    session.reconfigure({ dataOutputs: ['count'] });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = results.length;
    await session.pushFrame(await sceneImage('two-squares', 1));
    await eventually(() => results.length > before, 5_000, 'result after reconfigure');
    assert.deepEqual(results[results.length - 1].data, { count: 2 });
    await session.stop();
  });

  it('ack pacing: with realtime off the server waits for acks (no frame dropped, bounded backlog)', async () => {
    // Slow frames so the first ack reaches the server early; pacing starts with it.
    await server.faults({ slowFrameMs: 40 });
    const session = newSession({ source: { kind: 'file', path: await sceneVideo('two-squares') }, dataOutputs: ['count'], ackMode: 'manual' });
    const results: StreamResult[] = [];
    session.on('result', (result) => results.push(result));
    const closed = session.next('closed', 30_000);
    await session.start();
    await eventually(() => results.length >= 1, 10_000, 'first result');
    session.ack(results[0].frameId);
    await new Promise((resolve) => setTimeout(resolve, 600));
    const held = results.length;
    assert.ok(held <= 3, `the server held back after the first ack (got ${held} results)`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(results.length, held, 'nothing more without acks');
    session.ack(held);
    await eventually(() => results.length === held + 1, 5_000, 'one more frame after the next ack');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(results.length, held + 1, 'window of one frame past the last ack');
    for (let frame = held + 1; frame <= 30; frame++) {
      await eventually(() => results.length >= frame, 5_000, `frame ${frame}`);
      session.ack(frame);
    }
    const [{ reason }] = await closed;
    assert.equal(reason, 'complete');
    assert.deepEqual(
      results.map((r) => r.frameId),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
  });

  it('file sessions send keepalive pings: a long pause does not trip the server idle watchdog', async () => {
    await server.faults({ idleTimeoutMs: 1_500 });
    const session = newSession({ source: { kind: 'file', path: await sceneVideo('two-squares') }, dataOutputs: ['count'], ackMode: 'manual', keepaliveIntervalMs: 300 });
    const results: StreamResult[] = [];
    session.on('result', (result) => results.push(result));
    const closed = session.next('closed', 30_000);
    await session.start();
    await eventually(() => results.length >= 1, 10_000, 'first result');
    session.ack(results[results.length - 1].frameId);
    // Hold every ack for twice the idle timeout: only the pings show the client is alive.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    assert.equal(session.state, 'streaming');
    for (let frame = results.length; frame <= 30; frame++) {
      await eventually(() => results.length >= frame, 5_000, `frame ${frame}`);
      session.ack(frame);
    }
    assert.equal((await closed)[0].reason, 'complete');
    assert.equal(results.length, 30);
  });

  it('an idle session is ended by the server watchdog, and the client sees it close', async () => {
    await server.faults({ idleTimeoutMs: 1_000 });
    const session = newSession({ dataOutputs: ['count'] });
    const closed = session.next('closed', 10_000);
    await session.start();
    const [{ reason, error }] = await closed;
    assert.equal(reason, 'remote');
    assert.equal(error?.code, 'network');
    assert.equal((await server.sessions()).ended[0].endedReason, 'idle timeout');
  });

  it('processing timeout: the server ends the session with termination_reason timeout_reached', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    const session = newSession({ source: { kind: 'mjpeg', url: camera.mjpeg_url }, processingTimeout: 2, dataOutputs: ['count'] });
    const { completion, reason } = await runToEnd(session);
    assert.equal(reason, 'complete');
    assert.equal(completion?.reason, 'timeout_reached');
  });

  it('stopping while still connecting ends the worker on the server too (nothing left to bill)', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    // With the camera's login: the server opens the camera, and the stop is what ends the start.
    const url = camera.rtsp_url!.replace('rtsp://', `rtsp://cam:${CAMERA_PASSWORD}@`);
    for (const delay of [0, 300, 800]) {
      const session = newSession({ source: { kind: 'rtsp', url }, dataOutputs: ['count'] });
      const started = session.start().then(
        () => undefined,
        (error: unknown) => error as RoboflowError,
      );
      await new Promise((resolve) => setTimeout(resolve, delay));
      await session.stop();
      const error = await started;
      if (error) assert.equal(error.code, 'aborted', error.message);
      await eventually(async () => (await server.sessions()).active.length === 0, 3_000, `no worker left (stopped after ${delay} ms)`);
    }
  });

  it('terminates the pipeline when the server gave an id (self-hosted style)', async () => {
    await server.faults({ pipelineIds: true });
    const session = newSession({ dataOutputs: ['count'] });
    const [connected] = await Promise.all([session.next('connected'), session.start()]);
    assert.match(String(connected[0].pipelineId), /^[0-9a-f-]{36}$/);
    await session.stop();
    const sessions = await server.sessions();
    assert.equal(sessions.ended[0].id, connected[0].pipelineId);
    assert.match(sessions.ended[0].endedReason ?? '', /terminated by the client|client closed/);
  });

  it('fetches TURN servers from the API for Roboflow hosts only, and falls back to STUN when that fails', async () => {
    const http = new HttpClient({ apiKey: API_KEY });
    const hosted = { ...server.connection(), serverUrl: 'https://serverless.roboflow.com' };
    try {
      assert.deepEqual(await resolveIceServers(http, hosted, silentLogger), [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'local', credential: 'local-turn-credential' }]);
      assert.deepEqual(await resolveIceServers(http, server.connection(), silentLogger), [], 'a self-hosted or local server needs no TURN');
      await server.faults({ failNext: { webrtc_turn_config: { status: 500, count: 1 } } });
      assert.deepEqual(await resolveIceServers(http, hosted, silentLogger), [{ urls: ['stun:stun.l.google.com:19302'] }]);
    } finally {
      await http.close();
    }
  });

  describe('errors a user can cause', () => {
    const expectError = async (extra: Partial<StreamOptions>, code: string, message: RegExp): Promise<void> => {
      const session = newSession(extra);
      await assert.rejects(session.start(), (error: RoboflowError) => {
        assert.equal(error.code, code, error.message);
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, new RegExp(API_KEY));
        return true;
      });
      assert.equal(session.state, 'closed');
    };

    it('wrong API key -> 401 with what to do', () => expectError({ connection: server.connection({ apiKey: 'not-the-right-key' }) }, 'invalid-api-key', /API key rejected \(401\): check the API key/));
    it('unknown workflow -> 404 naming workspace and workflow', () =>
      expectError({ workflow: { workspace: 'w', workflowId: 'people-counter' } }, 'not-found', /check the workspace name and workflow id/));
    it('unknown output name -> 400 listing the available outputs', () =>
      expectError({ dataOutputs: ['people'] }, 'invalid-outputs', /Invalid data_output fields: \['people'\]\. Available workflow outputs: \['predictions', 'count', 'output_image'\]/));
    it('broken inline specification -> 400 invalid workflow', () =>
      expectError(
        { workflow: { specification: { version: '1.0', inputs: [{ type: 'WorkflowImage', name: 'image' }], steps: [{ type: 'roboflow_core/nope@v1', name: 'x' }], outputs: [] } } },
        'invalid-workflow',
        /Unknown block type/,
      ));
    it('an uploaded file that is not a video -> one clear error within seconds (not a silent wait)', async () => {
      const { writeFile } = await import('node:fs/promises');
      const { randomBytes } = await import('node:crypto');
      const path = join(MEDIA_DIR, 'random-bytes.mp4');
      await writeFile(path, randomBytes(300_000));
      const session = newSession({ source: { kind: 'file', path } });
      const results: StreamResult[] = [];
      session.on('result', (result) => results.push(result));
      const started = Date.now();
      const closed = session.next('closed', 15_000);
      await session.start();
      const [{ reason, error }] = await closed;
      assert.deepEqual(results, []);
      assert.equal(reason, 'error');
      assert.equal(error?.code, 'invalid-input');
      assert.match(error?.message ?? '', /No frame of this video could be read: is it a video file\?/);
      assert.ok(Date.now() - started < 10_000, `${Date.now() - started} ms`);
    });

    it('missing video file -> refused before any network use', async () => {
      const before = (await server.sessions()).started;
      await expectError({ source: { kind: 'file', path: join(MEDIA_DIR, 'missing.mp4') } }, 'invalid-input', /Video file not found/);
      assert.equal((await server.sessions()).started, before);
    });
    it('invalid RTSP URL -> refused with the password hidden', () =>
      expectError({ source: { kind: 'rtsp', url: 'http://u:Secret123@cam/x' } }, 'invalid-input', /Invalid RTSP URL "http:\/\/u:\*\*\*@cam\/x"/));
    it('server gone -> network error naming the host', () => expectError({ connection: server.connection({ serverUrl: 'http://127.0.0.1:9' }) }, 'network', /Cannot reach 127\.0\.0\.1:9/));

    it('the workspace stream limit -> 429 "workspace stream limit reached"; the running stream is unaffected', async () => {
      await server.faults({ streamLimit: 1 });
      const first = newSession({ dataOutputs: ['count'] });
      const results: StreamResult[] = [];
      first.on('result', (result) => results.push(result));
      await first.start();
      await expectError({}, 'stream-limit', /Workspace stream limit reached \(1\)/);
      await first.pushFrame(await sceneImage('two-squares', 0));
      await eventually(() => results.length >= 1, 5_000, 'the first stream still works');
      await first.stop();
    });

    it('transient 503s when starting are retried', async () => {
      await server.faults({ failNext: { initialise_webrtc_worker: { status: 503, count: 2 } } });
      const session = newSession({ dataOutputs: ['count'] });
      await session.start();
      assert.equal(session.state, 'streaming');
      await session.stop();
    });
  });

  describe('ResilientStream', () => {
    it('reconnects a live stream the server dropped, and never runs two sessions at once', async () => {
      await server.faults({ dropAfterFrames: 8 });
      const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
      const stream = track(new ResilientStream({ ...options({ source: { kind: 'mjpeg', url: camera.mjpeg_url }, dataOutputs: ['count'] }), reconnect: { initialMs: 100, maxMs: 500 } }));
      const reconnects: number[] = [];
      const results: StreamResult[] = [];
      stream.on('reconnecting', ({ attempt }) => reconnects.push(attempt));
      stream.on('result', (result) => results.push(result));
      let maxActive = 0;
      const watch = setInterval(() => {
        void server.sessions().then((s) => (maxActive = Math.max(maxActive, s.active.length)));
      }, 50);
      stream.start();
      await eventually(() => reconnects.length >= 2 && results.length >= 20, 30_000, 'two reconnects and results after them');
      clearInterval(watch);
      await stream.stop();
      assert.equal(stream.state, 'stopped');
      assert.ok(maxActive <= 1, `at most one session at a time (saw ${maxActive})`);
      assert.ok(stream.reconnects >= 2);
    });

    it('a live camera outlives the processing timeout: sessions renew at once for 20 s, never two at once, no complete', async function () {
      this.timeout(60_000);
      const camera = (await server.cameras()).find((c) => c.name === 'door')!;
      const url = camera.rtsp_url!.replace('rtsp://', `rtsp://cam:${CAMERA_PASSWORD}@`);
      const before = await server.sessions();
      const stream = track(new ResilientStream(options({ source: { kind: 'rtsp', url }, processingTimeout: 2, dataOutputs: ['count'] })));
      const arrivals: number[] = [];
      const states: string[] = [];
      let completes = 0;
      let renewals = 0;
      const reconnects: unknown[] = [];
      stream.on('result', () => arrivals.push(Date.now()));
      stream.on('complete', () => completes++);
      stream.on('renewing', () => renewals++);
      stream.on('reconnecting', (info) => reconnects.push(info));
      stream.on('state', (state) => states.push(state));
      stream.start();
      await eventually(() => arrivals.length > 0, 20_000, 'the first result');
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      await stream.stop();
      // Results kept coming across the whole window: no gap longer than a renewal takes.
      const inWindow = arrivals.filter((at) => at >= start);
      const gaps = inWindow.slice(1).map((at, i) => at - inWindow[i]);
      assert.ok(inWindow.length > 40, `results during 20 s: ${inWindow.length}`);
      assert.ok(Math.max(...gaps, Date.now() - inWindow[inWindow.length - 1] - 1_000) < 5_000, `longest gap ${Math.max(...gaps)} ms`);
      assert.equal(completes, 0, 'a live stream never completes');
      assert.deepEqual(reconnects, [], 'a planned renewal is not a reconnect');
      assert.ok(renewals >= 4, `renewed ${renewals} times`);
      assert.ok(states.includes('renewing'));
      const sessions = await server.sessions();
      const ours = sessions.ended.filter((s) => !before.ended.some((b) => b.id === s.id));
      assert.ok(ours.length >= 5, `sessions on the server: ${ours.length}`);
      assert.equal(peakConcurrency({ ...sessions, ended: ours, active: sessions.active }), 1, 'never two sessions at once');
    });

    it('a pulled camera that ends its stream: a new session with the normal backoff, results keep coming for 20 s, no complete', async function () {
      this.timeout(60_000);
      await server.faults({ cameraEndAfterMs: 2_500 });
      const camera = (await server.cameras()).find((c) => c.name === 'door')!;
      const url = camera.rtsp_url!.replace('rtsp://', `rtsp://cam:${CAMERA_PASSWORD}@`);
      const before = await server.sessions();
      const stream = track(new ResilientStream({ ...options({ source: { kind: 'rtsp', url }, dataOutputs: ['count'] }), reconnect: { initialMs: 200, maxMs: 2_000 } }));
      const arrivals: number[] = [];
      const reasons: string[] = [];
      let completes = 0;
      stream.on('result', () => arrivals.push(Date.now()));
      stream.on('complete', () => completes++);
      stream.on('reconnecting', ({ error }) => reasons.push(error.code));
      stream.start();
      await eventually(() => arrivals.length > 0, 20_000, 'the first result');
      const start = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 20_000));
      await stream.stop();
      const inWindow = arrivals.filter((at) => at >= start);
      assert.ok(inWindow.length > 40, `results during 20 s: ${inWindow.length}`);
      assert.equal(completes, 0, 'a live stream never completes');
      assert.ok(reasons.length >= 3 && reasons.every((code) => code === 'source-ended'), reasons.join(', '));
      const sessions = await server.sessions();
      const ours = [...sessions.active, ...sessions.ended].filter((s) => ![...before.active, ...before.ended].some((b) => b.id === s.id));
      assert.ok(ours.length >= 4, `sessions: ${ours.length}`);
      assert.equal(peakConcurrency({ ...sessions, active: sessions.active, ended: ours }), 1, 'never two sessions at once');
    });

    it('a reconfigure sent while still connecting is applied once the stream runs (not silently dropped)', async () => {
      const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
      const stream = track(new ResilientStream(options({ source: { kind: 'mjpeg', url: camera.mjpeg_url }, dataOutputs: ['predictions'] })));
      const results: StreamResult[] = [];
      stream.on('result', (result) => results.push(result));
      stream.start();
      assert.equal(stream.state, 'connecting');
      stream.reconfigure({ dataOutputs: ['count'] });
      await eventually(() => results.some((result) => result.data && 'count' in result.data), 15_000, 'results with the reconfigured output');
      const last = results[results.length - 1];
      assert.deepEqual(Object.keys(last.data ?? {}), ['count']);
      assert.throws(() => stream.reconfigure({ streamOutputs: ['output_image'] }), /started without video outputs/);
    });

    it('gives up at once on an error a retry cannot fix', async () => {
      const stream = track(new ResilientStream({ ...options({ connection: server.connection({ apiKey: WRONG_KEY }) }), reconnect: { initialMs: 50 } }));
      const reconnects: unknown[] = [];
      stream.on('reconnecting', (info) => reconnects.push(info));
      const failed = stream.next('error');
      stream.start();
      const [error] = await failed;
      assert.equal(error.code, 'invalid-api-key');
      await eventually(() => stream.state === 'failed', 2_000, 'state failed');
      assert.deepEqual(reconnects, []);
    });

    it('retries a stream-limit answer slowly, then streams once a slot frees', async () => {
      await server.faults({ streamLimit: 1 });
      const holder = newSession({ dataOutputs: ['count'] });
      await holder.start();
      const stream = track(new ResilientStream({ ...options({ dataOutputs: ['count'] }), reconnect: { initialMs: 50, streamLimitDelayMs: 800 } }));
      const delays: number[] = [];
      stream.on('reconnecting', ({ delayMs, error }) => {
        assert.equal(error.code, 'stream-limit');
        delays.push(delayMs);
      });
      stream.start();
      await eventually(() => delays.length >= 1, 10_000, 'a stream-limit retry');
      assert.ok(delays[0] >= 800);
      await holder.stop();
      await eventually(() => stream.state === 'streaming', 10_000, 'streaming after the slot freed');
      await stream.stop();
    });
  });
});
