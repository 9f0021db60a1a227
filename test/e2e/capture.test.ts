import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { CapturedStream, type CameraSource, type CapturedStreamOptions, type RoboflowError, type StreamResult } from '../../lib';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { eventually, peakConcurrency, ROOT, startLocalServer, type RunningServer, type Sessions } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { secret } from '../helpers/secrets';
import { TcpProxy } from '../helpers/tcp-proxy';

const CAMERA_PASSWORD = secret('cam-Pa55 w@rd');

type Box = [string, number, number, number, number];
const boxes = (result: StreamResult): string =>
  ((result.data?.predictions as { predictions?: Array<{ class: string; x: number; y: number; width: number; height: number }> } | undefined)?.predictions ?? [])
    .map((p): Box => [p.class, p.x, p.y, p.width, p.height])
    .map((box) => box.join(','))
    .sort()
    .join(' ');

/** True when a result's detections are exactly those of one frame of the scene (a live camera's frame index is unknown). */
function isSceneFrame(sceneName: string, result: StreamResult): boolean {
  const scene = getScene(sceneName);
  const seen = boxes(result);
  for (let index = 0; index < scene.frames; index++) {
    const expected = expectedBoxes(scene, index)
      .map((b) => [b.color, b.x, b.y, b.width, b.height].join(','))
      .sort()
      .join(' ');
    if (expected === seen) return true;
  }
  return false;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function since(before: Sessions, now: Sessions): Sessions {
  const old = new Set([...before.active, ...before.ended].map((session) => session.id));
  return { ...now, active: now.active.filter((s) => !old.has(s.id)), ended: now.ended.filter((s) => !old.has(s.id)) };
}

describe('local capture: this machine reads the camera and streams its frames (engine)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let rtspUrl: (name: string) => Promise<string>;
  let opened: CapturedStream[] = [];
  const capture = (camera: CameraSource, extra: Partial<CapturedStreamOptions> = {}): CapturedStream => {
    const stream = new CapturedStream({ connection: server.connection(), workflow: { workspace: 'demo', workflowId: 'detect-colors' }, camera, dataOutputs: ['predictions'], ...extra });
    opened.push(stream);
    return stream;
  };

  before(async () => {
    // --no-pull: this server refuses to open any camera itself, as a hosted worker that
    // cannot reach a camera on the user's network would; only frames sent to it work.
    server = await startLocalServer(['--rtsp-port', '0', '--rtsp-auth', `cam:${CAMERA_PASSWORD}`, '--no-pull']);
    rtspUrl = async (name) => {
      const bare = (await server.cameras()).find((camera) => camera.name === name)!.rtsp_url!;
      return bare.replace('rtsp://', `rtsp://cam:${encodeURIComponent(CAMERA_PASSWORD)}@`);
    };
  });
  after(async () => {
    await server.stop();
  });
  afterEach(async () => {
    const pids = opened.map((stream) => stream.ffmpegPid);
    await Promise.all(opened.map((stream) => stream.stop()));
    opened = [];
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left on the server');
    await eventually(() => pids.every((pid) => !alive(pid)), 5_000, 'no ffmpeg left running');
  });

  it('RTSP camera read here: exact detections of the door scene, sent on the video track (the server pulls nothing)', async () => {
    const stream = capture({ kind: 'url', url: await rtspUrl('door') });
    const results: StreamResult[] = [];
    stream.on('result', (result) => results.push(result));
    stream.start();
    await eventually(() => results.length >= 40, 30_000, '40 results');
    // The first results may come from the encoder's first, coarse key frame.
    const settled = results.slice(5);
    const misses = settled.filter((result) => !isSceneFrame('door', result));
    assert.deepEqual(misses.map(boxes), [], 'every result after the first few is exactly a frame of the scene');
    assert.ok(
      settled.some((result) => boxes(result).includes('red')),
      'the person is seen',
    );
    assert.deepEqual(stream.cameraInfo?.output, { width: 640, height: 360 });
    assert.deepEqual(stream.cameraInfo?.input && { width: stream.cameraInfo.input.width, height: stream.cameraInfo.input.height }, { width: 640, height: 360 });
    const sessions = await server.sessions();
    assert.deepEqual(
      sessions.active.map((session) => session.source),
      ['track'],
      'the server receives a video track, it opens no camera',
    );
  });

  it('MJPEG camera read here, scaled down to the max size (even dimensions, aspect kept)', async () => {
    const camera = (await server.cameras()).find((c) => c.name === 'two-squares')!;
    const scene = getScene('two-squares');
    const stream = capture({ kind: 'mjpeg', url: camera.mjpeg_url }, { capture: { maxSize: 161, maxFps: 5 } });
    const results: StreamResult[] = [];
    stream.on('result', (result) => results.push(result));
    stream.start();
    await eventually(() => results.length >= 5, 30_000, 'results');
    const { width, height } = stream.cameraInfo!.output;
    assert.equal(width % 2, 0);
    assert.equal(height % 2, 0);
    assert.ok(Math.max(width, height) <= 161 && Math.abs(width / height - scene.width / scene.height) < 0.02, `${width}x${height} from ${scene.width}x${scene.height}`);
    assert.equal(results[results.length - 1].metadata?.width, width);
  });

  it('a looping video file played as a camera keeps going past its end; without looping it ends', async () => {
    const path = await sceneVideo('two-squares');
    const scene = getScene('two-squares');
    const looping = capture({ kind: 'file', path, loop: true }, { capture: { maxFps: 30 } });
    const results: StreamResult[] = [];
    looping.on('result', (result) => results.push(result));
    looping.start();
    await eventually(() => results.length > scene.frames + 10, 30_000, 'more results than the file has frames');
    assert.equal(looping.cameraState, 'open');
    await looping.stop();
    const once = capture({ kind: 'file', path, loop: false }, { capture: { maxFps: 30 } });
    const ended = once.next('camera-ended', 30_000);
    once.start();
    await ended;
    assert.equal(once.cameraState, 'ended');
  });

  it('the camera goes away for 5 s and comes back: the session is kept, results resume', async function () {
    this.timeout(90_000);
    const real = new URL(await rtspUrl('door'));
    const proxy = new TcpProxy({ host: real.hostname, port: Number(real.port) });
    await proxy.up();
    const before = await server.sessions();
    const stream = capture({ kind: 'url', url: proxy.url(real.toString()) }, { cameraRetry: { initialMs: 300, maxMs: 1_000 } });
    const results: number[] = [];
    const lost: RoboflowError[] = [];
    stream.on('result', () => results.push(Date.now()));
    stream.on('camera-lost', ({ error }) => lost.push(error));
    stream.start();
    try {
      await eventually(() => results.length >= 10, 30_000, 'results');
      await proxy.down();
      await eventually(() => lost.length >= 1, 20_000, 'the camera seen as lost');
      assert.equal(stream.cameraState, 'lost');
      assert.equal(lost[0].retryable, true);
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const backAt = Date.now();
      await proxy.up();
      await eventually(() => results.some((at) => at > backAt) && results.filter((at) => at > backAt).length >= 10, 30_000, 'results after the camera came back');
    } finally {
      await proxy.down();
    }
    const ours = since(before, await server.sessions());
    assert.equal(ours.active.length + ours.ended.length, 1, 'one Roboflow session throughout');
  });

  it('the server ends each session at its processing timeout: the next starts at once, never two at a time, no completion, one camera throughout', async function () {
    this.timeout(60_000);
    await server.faults({ sessionTimeoutSec: 2 });
    try {
      const before = await server.sessions();
      const stream = capture({ kind: 'url', url: await rtspUrl('two-squares') });
      const events = { complete: 0, renewing: 0, errors: [] as RoboflowError[] };
      const results: number[] = [];
      stream.on('complete', () => events.complete++);
      stream.on('renewing', () => events.renewing++);
      stream.on('error', (error) => events.errors.push(error));
      stream.on('result', () => results.push(Date.now()));
      stream.start();
      await eventually(() => results.length >= 5, 20_000, 'results');
      const pid = stream.ffmpegPid;
      await eventually(async () => since(before, await server.sessions()).ended.length >= 3, 30_000, 'three sessions ended at their timeout');
      const renewedAt = Date.now();
      await eventually(() => results.filter((at) => at > renewedAt).length >= 5, 15_000, 'results after the renewals');
      const ours = since(before, await server.sessions());
      assert.equal(peakConcurrency(ours), 1, 'never two sessions at once');
      assert.deepEqual(
        ours.ended.slice(0, 3).map((session) => session.completion),
        ['timeout_reached', 'timeout_reached', 'timeout_reached'],
      );
      assert.ok(events.renewing >= 3, `renewed ${events.renewing} times`);
      assert.deepEqual([events.complete, events.errors.map((error) => error.message)], [0, []], 'a live camera never completes');
      assert.equal(stream.ffmpegPid, pid, 'the camera stays open across renewals (one ffmpeg)');
    } finally {
      await server.resetFaults();
    }
  });

  it('the camera away longer than the session is kept: the session is let go, and a new one starts when it is back', async function () {
    this.timeout(90_000);
    const real = new URL(await rtspUrl('door'));
    const proxy = new TcpProxy({ host: real.hostname, port: Number(real.port) });
    await proxy.up();
    const before = await server.sessions();
    const stream = capture({ kind: 'url', url: proxy.url(real.toString()) }, { cameraRetry: { initialMs: 300, maxMs: 1_000 }, keepSessionMs: 1_500 });
    const results: number[] = [];
    stream.on('result', () => results.push(Date.now()));
    stream.start();
    try {
      await eventually(() => results.length >= 5, 30_000, 'results');
      await proxy.down();
      await eventually(async () => (await server.sessions()).active.length === 0, 20_000, 'the session let go while the camera is away');
      const backAt = Date.now();
      await proxy.up();
      await eventually(() => results.filter((at) => at > backAt).length >= 5, 30_000, 'results from a new session');
    } finally {
      await proxy.down();
    }
    const ours = since(before, await server.sessions());
    assert.equal(ours.active.length + ours.ended.length, 2, 'a second session once the camera was back');
    assert.equal(peakConcurrency(ours), 1);
  });

  it('a wrong camera password: one clear error, no retries', async () => {
    const bare = (await server.cameras()).find((camera) => camera.name === 'door')!.rtsp_url!;
    const stream = capture({ kind: 'url', url: bare.replace('rtsp://', 'rtsp://cam:wrong@') });
    const lost: unknown[] = [];
    stream.on('camera-lost', (info) => lost.push(info));
    const initialisedBefore = await server.requestCount('initialise_webrtc_worker');
    const failed = stream.next('error', 30_000);
    stream.start();
    const [error] = await failed;
    assert.equal(error.code, 'invalid-input');
    assert.match(error.message, /Camera login rejected: check the camera user and password/);
    assert.doesNotMatch(error.message, /wrong/);
    assert.deepEqual(lost, []);
    assert.equal(stream.cameraState, 'failed');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    assert.deepEqual(lost, [], 'no retry later either');
    assert.equal(await server.requestCount('initialise_webrtc_worker'), initialisedBefore, 'no Roboflow session is opened for a camera that cannot be read');
  });

  it('an unknown workflow: one error, ffmpeg ends, the camera coming back opens no session; start() again tries once more', async function () {
    this.timeout(90_000);
    const real = new URL(await rtspUrl('two-squares'));
    const proxy = new TcpProxy({ host: real.hostname, port: Number(real.port) });
    await proxy.up();
    const stream = capture({ kind: 'url', url: proxy.url(real.toString()) }, { workflow: { workspace: 'demo', workflowId: 'no-such-workflow' }, cameraRetry: { initialMs: 200, maxMs: 500 } });
    const errors: RoboflowError[] = [];
    const pids: number[] = [];
    stream.on('error', (error) => errors.push(error));
    // The session starts once the camera is open, so its ffmpeg is known before the error.
    stream.on('camera-open', () => pids.push(stream.ffmpegPid ?? 0));
    const startsBefore = await server.requestCount('initialise_webrtc_worker');
    try {
      stream.start();
      await eventually(() => errors.length >= 1, 30_000, 'the error');
      assert.equal(errors[0].code, 'not-found');
      assert.match(errors[0].message, /check the workspace name and workflow id/);
      assert.equal(pids.length, 1);
      await eventually(() => !alive(pids[0]), 5_000, 'ffmpeg ended after the session failed');
      assert.equal(stream.active, false);
      assert.equal(stream.state, 'failed');
      // The camera goes away and comes back: nothing reopens it, no session is tried again.
      await proxy.down();
      await proxy.up();
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      assert.equal(errors.length, 1, errors.map((error) => error.message).join(' | '));
      assert.equal(pids.length, 1, 'the camera was not reopened');
      assert.equal((await server.requestCount('initialise_webrtc_worker')) - startsBefore, 1, 'one start request');
      // An explicit start() is a new try: the camera opens, the session fails once more, ffmpeg ends again.
      stream.start();
      await eventually(() => errors.length >= 2, 30_000, 'the error of the second start');
      assert.equal(pids.length, 2);
      await eventually(() => !alive(pids[1]), 5_000, 'the second ffmpeg ended');
      assert.equal(errors.length, 2);
      assert.equal((await server.requestCount('initialise_webrtc_worker')) - startsBefore, 2, 'one start request per start()');
    } finally {
      await proxy.down();
    }
  });

  it('hardware decoding the machine cannot do falls back to software, with one warning', async () => {
    const stream = capture({ kind: 'url', url: await rtspUrl('two-squares') }, { capture: { hwaccel: 'cuda' } });
    const warnings: string[] = [];
    const results: StreamResult[] = [];
    stream.on('warning', (text) => warnings.push(text));
    stream.on('result', (result) => results.push(result));
    stream.start();
    await eventually(() => results.length >= 3, 30_000, 'results decoded in software');
    assert.equal(warnings.length, 1, warnings.join(' | '));
    assert.match(warnings[0], /Hardware decoding \(cuda\) was refused .*decoding in software/);
    assert.equal(stream.cameraInfo?.hwaccel, 'none');
  });

  it('no ffmpeg anywhere: one clear error saying how to install it, nothing crashes', () => {
    const script = `
      const { CapturedStream } = require('./lib');
      const stream = new CapturedStream({ connection: { apiKey: 'k-123456', serverUrl: 'http://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9' }, workflow: { workspace: 'w', workflowId: 'x' }, camera: { kind: 'url', url: 'rtsp://127.0.0.1:9/none' } });
      stream.on('error', (error) => setImmediate(() => { console.log(JSON.stringify({ code: error.code, message: error.message, state: stream.cameraState })); process.exit(0); }));
      stream.start();
      setTimeout(() => { console.log('no error'); process.exit(1); }, 10000);
    `;
    const child = spawnSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, FFMPEG_PATH: '/nonexistent/ffmpeg', PATH: '' },
      timeout: 30_000,
    });
    assert.equal(child.status, 0, child.stderr);
    const outcome = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as { code: string; message: string; state: string };
    assert.equal(outcome.code, 'invalid-input');
    assert.match(outcome.message, /ffmpeg not found.*apt install ffmpeg/);
    assert.equal(outcome.state, 'failed');
  });
});
