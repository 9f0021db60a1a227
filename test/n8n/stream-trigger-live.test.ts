import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeOperationError, type INodeExecutionData } from 'n8n-workflow';
import { RoboflowStreamTrigger } from '../../nodes/n8n/RoboflowStreamTrigger/RoboflowStreamTrigger.node.js';
import { BudgetMemory } from '../../nodes/n8n/RoboflowStreamTrigger/budget';
import { FailureMemory } from '../../nodes/n8n/RoboflowStreamTrigger/failure-memory';
import { runStreamTrigger } from '../../nodes/n8n/RoboflowStreamTrigger/trigger';
import type { RoboflowApiCredential } from '../../nodes/n8n/shared/connection';
import { generateSceneVideo } from '../../server/media/generate';
import { expectedBoxes } from '../../server/media/scenes';
import { API_KEY, ROOT, eventually, peakConcurrency, startLocalServer, type RunningServer, type Sessions } from '../helpers/local-server';
import { DOORWAY_ENTRY, MEDIA_DIR, quietDoorway, sceneVideo } from '../helpers/media';
import { triggerContext, WorkflowStaticData } from '../helpers/n8n-context';
import { secret } from '../helpers/secrets';

/**
 * The n8n Stream Trigger against the local server, for real: cameras read on the n8n
 * host (the server started with --no-pull refuses to open any camera itself, so every
 * result proves the trigger read it), the motion gate, the daily budget with a clock the
 * test moves, and what Roboflow's hosted service does to a live camera (its camera
 * ending the session) and to a file that is not a video.
 */

const CAMERA_PASSWORD = secret('n8n-cam-Pa55 w@rd');
const saved = { workflowMode: 'saved', workspace: 'demo', workflowId: 'detect-colors' };

/** ffmpeg processes this test process started that are still running (zombies excluded). */
function ffmpegChildren(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const match = /^\d+ \((.*)\) (\S) (\d+)/.exec(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      if (match && match[1].includes('ffmpeg') && match[2] !== 'Z' && Number(match[3]) === process.pid) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

function since(before: Sessions, now: Sessions): Sessions['ended'] {
  const old = new Set([...before.active, ...before.ended].map((session) => session.id));
  return [...now.active, ...now.ended].filter((session) => !old.has(session.id));
}

const items = (emitted: INodeExecutionData[][][]): INodeExecutionData[] => emitted.map((data) => data[0][0]);

/** The gate suites' quiet doorway, with its still door frame. */
const QUIET_DOORWAY = quietDoorway('quiet-doorway', { doorFrame: true });

describe('n8n Stream Trigger reading cameras on the n8n host (local server with --no-pull)', function () {
  this.timeout(90_000);
  let server: RunningServer;
  let credential: RoboflowApiCredential;
  let doorUrl: string;
  const node = new RoboflowStreamTrigger();
  const fileAccess = process.env.N8N_RESTRICT_FILE_ACCESS_TO;

  before(async () => {
    process.env.N8N_RESTRICT_FILE_ACCESS_TO = MEDIA_DIR;
    server = await startLocalServer(['--rtsp-port', '0', '--rtsp-auth', `cam:${CAMERA_PASSWORD}`, '--no-pull']);
    credential = { apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url };
    doorUrl = (await server.cameras()).find((camera) => camera.name === 'two-squares')!.rtsp_url!;
  });
  after(async () => {
    if (fileAccess === undefined) delete process.env.N8N_RESTRICT_FILE_ACCESS_TO;
    else process.env.N8N_RESTRICT_FILE_ACCESS_TO = fileAccess;
    await server.stop();
  });
  afterEach(async () => {
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left on the server');
    await eventually(() => ffmpegChildren().length === 0, 5_000, 'no ffmpeg left running');
  });

  const camera = (extra: Record<string, unknown> = {}) => ({
    ...saved,
    source: 'rtsp',
    url: doorUrl,
    cameraAuth: 'credential',
    dataOutputs: 'count',
    emit: 'frames',
    throttleSeconds: 0,
    options: { manualItems: 3 },
    ...extra,
  });
  const login = { username: 'cam', password: CAMERA_PASSWORD };

  it('new nodes read the RTSP camera here (the server pulls nothing): "Test step" returns analysed frames; an older node (Roboflow\'s server) is refused by this server', async () => {
    const { context, emitted, logs } = triggerContext({ mode: 'manual', version: 3, credential, cameraLogin: login, parameters: camera() });
    const response = await node.trigger.call(context);
    await response.manualTriggerFunction!();
    assert.deepEqual(
      emitted[0][0].map((item) => item.json.count),
      [2, 2, 2],
    );
    assert.ok(
      logs.some((line) => /^Roboflow camera rtsp:\/\/127\.0\.0\.1:\d+\/two-squares: open, \d+x\d+ → \d+x\d+ at up to 10 fps \(decoding: none\); starting the Roboflow session$/.test(line)),
      logs.join('\n'),
    );
    await response.closeFunction!();
    assert.deepEqual(ffmpegChildren(), [], 'ffmpeg ended with the test run');

    const older = triggerContext({ mode: 'manual', version: 2, credential, cameraLogin: login, parameters: camera() });
    await assert.rejects((await node.trigger.call(older.context)).manualTriggerFunction!(), /--no-pull/);
  });

  it('published: one execution per frame from the camera read here; deactivation ends the session and ffmpeg', async () => {
    const before = await server.sessions();
    const { context, emitted, errors } = triggerContext({ mode: 'trigger', version: 3, workflowId: 'wf-local', credential, cameraLogin: login, parameters: camera() });
    const response = await node.trigger.call(context);
    await eventually(() => emitted.length >= 10, 20_000, 'ten executions');
    assert.equal(ffmpegChildren().length, 1, 'one ffmpeg reads the camera');
    const ours = since(before, await server.sessions());
    assert.deepEqual(
      ours.map((session) => session.source),
      ['track'],
      'the server receives a video track',
    );
    await response.closeFunction!();
    assert.ok(items(emitted).every((item) => item.json.count === 2));
    assert.equal(errors.length, 0);
  });

  it('a wrong camera password fails the activation and "Test step" with the message, at once, without a retry storm', async function () {
    this.timeout(30_000);
    const wrong = { username: 'cam', password: 'not-the-password' };
    const requests = await server.requestCount('initialise_webrtc_worker');
    const started = Date.now();
    const active = triggerContext({ mode: 'trigger', version: 3, workflowId: 'wf-wrong-password', credential, cameraLogin: wrong, parameters: camera() });
    await assert.rejects(
      node.trigger.call(active.context),
      (error: Error) => error instanceof NodeOperationError && error.message.startsWith('Camera login rejected: check the camera user and password'),
    );
    assert.ok(Date.now() - started < 10_000, `failed after ${Date.now() - started} ms`);
    await assert.rejects(node.trigger.call(active.context), /not retried: the last start with these settings failed/);
    const manual = triggerContext({ mode: 'manual', version: 3, credential, cameraLogin: wrong, parameters: camera() });
    await assert.rejects((await node.trigger.call(manual.context)).manualTriggerFunction!(), /^NodeOperationError: Camera login rejected/);
    assert.equal(await server.requestCount('initialise_webrtc_worker'), requests, 'no Roboflow session for a camera that cannot be opened');
  });

  it('MJPEG read here, and a video file played here as a looping camera', async () => {
    const mjpeg = (await server.cameras()).find((c) => c.name === 'two-squares')!.mjpeg_url;
    const first = triggerContext({
      mode: 'manual',
      version: 3,
      credential,
      parameters: { ...saved, source: 'mjpeg', url: mjpeg, dataOutputs: 'count', emit: 'frames', throttleSeconds: 0, options: { manualItems: 2 } },
    });
    await (
      await node.trigger.call(first.context)
    ).manualTriggerFunction!();
    assert.deepEqual(
      first.emitted[0][0].map((item) => item.json.count),
      [2, 2],
    );
    const replay = triggerContext({
      mode: 'manual',
      version: 3,
      credential,
      parameters: {
        ...saved,
        source: 'replay',
        filePath: await sceneVideo('two-squares'),
        dataOutputs: 'count',
        emit: 'frames',
        throttleSeconds: 0,
        cameraOptions: { maxFps: 30 },
        options: { manualItems: 15 },
      },
    });
    await (
      await node.trigger.call(replay.context)
    ).manualTriggerFunction!();
    assert.equal(replay.emitted[0][0].length, 15, 'more frames than the 10 of the file: it looped');
  });

  it('motion gate: no session while the doorway is empty, one session for the visit (with the frames before it), closed after the quiet time', async () => {
    const video = join(MEDIA_DIR, 'quiet-doorway-n8n.mp4');
    await generateSceneVideo(QUIET_DOORWAY, video);
    const before = await server.sessions();
    const parameters = {
      ...saved,
      source: 'replay',
      filePath: video,
      loop: false,
      gate: 'motion',
      quietSeconds: 2,
      preRollSeconds: 2,
      gateClasses: 'red',
      dataOutputs: 'predictions',
      emit: 'frames',
      throttleSeconds: 0,
      options: {},
    };
    const { context, emitted, logs, errors } = triggerContext({ mode: 'trigger', version: 3, workflowId: 'wf-gate', credential, parameters });
    const started = Date.now();
    const response = await node.trigger.call(context);
    try {
      await eventually(() => logs.some((line) => line.includes('motion: starting a Roboflow session')), 15_000, 'the gate opening');
      await eventually(() => logs.some((line) => line.includes('quiet for 2 s: the Roboflow session is closed (not billed); watching for motion')), 20_000, 'the gate closing');
      await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'the session ended');
    } finally {
      await response.closeFunction!();
    }
    const ours = since(before, await server.sessions());
    assert.equal(ours.length, 1, 'one session for the one visit');
    const openedAfter = (Date.parse(ours[0].startedAt) - started) / 1000;
    assert.ok(openedAfter >= 2.5, `opened ${openedAfter.toFixed(1)} s in, when the person appeared (3 s)`);
    const entry = expectedBoxes(QUIET_DOORWAY, DOORWAY_ENTRY).find((box) => box.color === 'red')!;
    const red = items(emitted).flatMap((item) =>
      ((item.json.predictions as { predictions: Array<{ class: string; x: number; y: number; width: number; height: number }> }).predictions ?? [])
        .filter((p) => p.class === 'red')
        .map((p) => [p.x, p.y, p.width, p.height].join(',')),
    );
    assert.ok(red.includes([entry.x, entry.y, entry.width, entry.height].join(',')), 'the pre-roll: the frame the person entered was analysed');
    assert.equal(errors.length, 0);
  });

  it('daily budget (a clock the test moves): stops the session at the limit with one emitError, starts again after midnight, and a restart keeps the minutes spent', async () => {
    const base = new Date(2026, 10, 30, 23, 0, 0).getTime();
    const t0 = Date.now();
    let offset = 0;
    const budgetClock = { now: () => new Date(base + offset + (Date.now() - t0)), tickMs: 100 };
    const budgetMemory = new BudgetMemory();
    const staticData = new WorkflowStaticData();
    const parameters = {
      ...saved,
      source: 'replay',
      filePath: await sceneVideo('two-squares'),
      dataOutputs: 'count',
      emit: 'frames',
      throttleSeconds: 0,
      dailyLimit: 'minutes',
      dailyMinutes: 1,
      options: {},
    };
    const activate = (memory: BudgetMemory) => {
      const trigger = triggerContext({ mode: 'trigger', version: 3, workflowId: 'wf-budget', credential, parameters, staticData });
      return { trigger, run: runStreamTrigger(trigger.context, { failures: new FailureMemory(), budgetMemory: memory, budgetClock }) };
    };
    const first = activate(budgetMemory);
    const response = await first.run;
    const { emitted, errors, logs } = first.trigger;
    await eventually(() => emitted.length > 0, 20_000, 'the first execution');
    const started = (await server.sessions()).started;
    offset += 70_000; // a minute and ten seconds of streaming later
    await eventually(() => errors.length === 1, 10_000, 'emitError at the limit');
    assert.match(errors[0].message, /^Daily stream budget reached \(1 min \(≈ 0\.01 credits\); 1\.\d min used today\)/);
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'the session stopped');
    assert.deepEqual(ffmpegChildren(), [], 'the camera is not read while the budget is spent');
    const executions = emitted.length;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(emitted.length, executions, 'no execution while the budget is spent');
    // Midnight (local time) passes.
    offset = new Date(2026, 11, 1, 0, 0, 1).getTime() - base - (Date.now() - t0);
    await eventually(async () => (await server.sessions()).started > started, 20_000, 'a new session after midnight');
    await eventually(() => emitted.length > executions, 20_000, 'executions again');
    assert.ok(logs.some((line) => line.includes('the stream budget is available again')));
    await eventually(() => ((emitted[emitted.length - 1][0][0].json.stats as { minutesToday: number }).minutesToday ?? 0) > 0, 10_000, 'minutes counted today');
    const spent = (emitted[emitted.length - 1][0][0].json.stats as { minutesToday: number }).minutesToday;
    assert.ok(spent < 1, `the new day counts from 0 (${spent} min)`);
    assert.equal(errors.length, 1, 'one emitError');
    await response.closeFunction!();

    // n8n restarts: a new process (no memory), the static data its database has.
    staticData.reload();
    const second = activate(new BudgetMemory());
    const restarted = await second.run;
    await eventually(() => second.trigger.emitted.length > 0, 20_000, 'executions after the restart');
    const after = (second.trigger.emitted[0][0][0].json.stats as { minutesToday: number }).minutesToday;
    assert.ok(after >= spent, `the minutes spent before the restart are kept (${after} >= ${spent})`);
    await restarted.closeFunction!();
  });
});

describe("n8n Stream Trigger and Roboflow's hosted behaviour (local server pulling cameras)", function () {
  this.timeout(90_000);
  let server: RunningServer;
  let credential: RoboflowApiCredential;
  const node = new RoboflowStreamTrigger();
  const fileAccess = process.env.N8N_RESTRICT_FILE_ACCESS_TO;

  before(async () => {
    process.env.N8N_RESTRICT_FILE_ACCESS_TO = MEDIA_DIR;
    server = await startLocalServer(['--rtsp-port', '0']);
    credential = { apiKey: API_KEY, region: 'us', plan: 'webrtc-gpu-small', serverUrl: server.url, apiUrl: server.url };
  });
  after(async () => {
    if (fileAccess === undefined) delete process.env.N8N_RESTRICT_FILE_ACCESS_TO;
    else process.env.N8N_RESTRICT_FILE_ACCESS_TO = fileAccess;
    await server.stop();
  });
  beforeEach(() => server.resetFaults());
  afterEach(async () => {
    await server.resetFaults();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left on the server');
  });

  it('a camera that ends its stream every 2 s: results keep coming across sessions for 20 s, never two sessions at once, no completion item', async () => {
    await server.faults({ cameraEndAfterMs: 2_000 });
    const url = (await server.cameras()).find((c) => c.name === 'two-squares')!.rtsp_url!;
    const before = await server.sessions();
    const { context, emitted, errors, logs } = triggerContext({
      mode: 'trigger',
      version: 2,
      workflowId: 'wf-camera-ends',
      credential,
      parameters: { ...saved, source: 'rtsp', url, dataOutputs: 'count', emit: 'frames', throttleSeconds: 0, options: {} },
    });
    const response = await node.trigger.call(context);
    await eventually(() => emitted.length > 0, 20_000, 'the first execution');
    // The window itself is what is measured: executions in its first and its second half.
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const half = emitted.length;
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const end = emitted.length;
    await response.closeFunction!();
    const ours = since(before, await server.sessions());
    assert.ok(ours.length >= 3, `sessions in 20 s: ${ours.length}`);
    assert.equal(peakConcurrency({ active: [], ended: ours, started: ours.length, endedTotal: ours.length }), 1, 'never two sessions at once');
    assert.ok(half > 1 && end > half, `executions: ${half} in the first 10 s, ${end - half} in the next 10 s`);
    assert.ok(
      items(emitted).every((item) => item.json.complete === undefined),
      'no completion item for a camera',
    );
    assert.equal(errors.length, 0);
    assert.equal(logs.filter((line) => /The camera ended the stream.*reconnecting with backoff/.test(line)).length >= 1, true, logs.join('\n'));
  });

  it('the camera example as shipped (version 3) reads the camera on the n8n host and sends its frames', async () => {
    const example = JSON.parse(readFileSync(join(ROOT, 'workflows', 'n8n', 'Roboflow - camera alerts to Vision Events.json'), 'utf8')) as {
      nodes: Array<{ type: string; typeVersion: number; parameters: Record<string, unknown> }>;
    };
    const trigger = example.nodes.find((entry) => entry.type.endsWith('.roboflowStreamTrigger'))!;
    assert.equal(trigger.typeVersion, 3);
    const door = (await server.cameras()).find((c) => c.name === 'door')!.rtsp_url!;
    const url = String(trigger.parameters.url).replace('rtsp://127.0.0.1:8554', `rtsp://${new URL(door).host}`);
    const before = await server.sessions();
    const { context, emitted } = triggerContext({ mode: 'manual', version: trigger.typeVersion, credential, parameters: { ...trigger.parameters, url } });
    const response = await node.trigger.call(context);
    await response.manualTriggerFunction!();
    assert.ok(Number(emitted[0][0][0].json.count) >= 1, 'a frame with the person');
    assert.deepEqual(
      since(before, await server.sessions()).map((session) => session.source),
      ['track'],
      'frames sent by the trigger, not a camera the server opened',
    );
  });

  it('a ".mp4" of random bytes: "Test step" and the activation fail within 10 s with what to check', async function () {
    this.timeout(30_000);
    const path = join(MEDIA_DIR, 'random-bytes-n8n.mp4');
    writeFileSync(path, randomBytes(256 * 1024));
    const parameters = { ...saved, source: 'file', filePath: path, dataOutputs: 'count', emit: 'frames', throttleSeconds: 0, options: {} };
    const manual = triggerContext({ mode: 'manual', version: 3, credential, parameters });
    let started = Date.now();
    await assert.rejects(
      (await node.trigger.call(manual.context)).manualTriggerFunction!(),
      (error: Error) => error instanceof NodeOperationError && error.message.startsWith('No frame of this video could be read: is it a video file?'),
    );
    assert.ok(Date.now() - started < 10_000, `manual: ${Date.now() - started} ms`);
    const active = triggerContext({ mode: 'trigger', version: 3, workflowId: 'wf-random-bytes', credential, parameters });
    started = Date.now();
    await assert.rejects(
      node.trigger.call(active.context),
      (error: Error) => error instanceof NodeOperationError && error.message.startsWith('No frame of this video could be read: is it a video file?'),
    );
    assert.ok(Date.now() - started < 10_000, `activation: ${Date.now() - started} ms`);
    assert.equal(active.emitted.length + active.errors.length, 0);
  });
});
