import { strict as assert } from 'node:assert';
import { NodeHelpers, NodeOperationError, type IDataObject, type INodeParameters } from 'n8n-workflow';
import { DEFAULT_CAPTURE, RoboflowError } from '../../lib';
import { RoboflowStreamTrigger } from '../../nodes/n8n/RoboflowStreamTrigger/RoboflowStreamTrigger.node.js';
import { BudgetMemory, newerState } from '../../nodes/n8n/RoboflowStreamTrigger/budget';
import { FailureMemory } from '../../nodes/n8n/RoboflowStreamTrigger/failure-memory';
import { capturedGate } from '../../nodes/n8n/RoboflowStreamTrigger/open-stream';
import { V1_DEFAULTS, V2_DEFAULTS, V3_DEFAULTS } from '../../nodes/n8n/RoboflowStreamTrigger/settings';
import { runStreamTrigger, type StreamTriggerDependencies } from '../../nodes/n8n/RoboflowStreamTrigger/trigger';
import { triggerContext, WorkflowStaticData, type TriggerContextOptions } from '../helpers/n8n-context';
import { fakeOpen, result, until, type FakeStream, type Opened } from './fake-stream';

/**
 * The Stream Trigger's local capture, motion gate and daily budget with n8n's trigger
 * functions mocked and the engine's stream faked: what n8n shows (activation failures,
 * emitError, items, log lines) and what it keeps (static data), in milliseconds.
 */

const credential = { apiKey: 'fast-test-key', plan: 'webrtc-gpu-small', serverUrl: 'http://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9' };
const saved = { workflowMode: 'saved', workspace: 'demo', workflowId: 'detect-colors', dataOutputs: 'predictions', emit: 'frames', throttleSeconds: 0, options: {} };
const camera = { ...saved, source: 'rtsp', url: 'rtsp://192.168.1.20:554/door' };

/** A clock the test moves; local midnight is a new budget day. */
function clock(start: Date): { now: () => Date; advance(ms: number): void; set(date: Date): void } {
  let at = start.getTime();
  return { now: () => new Date(at), advance: (ms) => (at += ms), set: (date) => (at = date.getTime()) };
}

function setup(options: Omit<TriggerContextOptions, 'credential'> & { credential?: typeof credential }, deps: Partial<StreamTriggerDependencies> & { open: Opened }) {
  const trigger = triggerContext({ credential, version: 3, ...options });
  const { open, ...rest } = deps;
  const run = async () => {
    const response = await runStreamTrigger(trigger.context, { failures: new FailureMemory(), firstOutcomeMs: 2_000, now: Date.now, budgetMemory: new BudgetMemory(), ...rest, openStream: open.open });
    // n8n writes static data once an activation has finished.
    if (options.mode === 'trigger') trigger.staticData.persist();
    return response;
  };
  return { ...trigger, run };
}

/** A session that streams and answers at once (a file's activation waits for its first result). */
const streamsAndAnswers = (stream: FakeStream): void => {
  stream.set('streaming');
  stream.fire('result', result(0, 0));
};

const cameraInfo = { input: { width: 1920, height: 1080 }, output: { width: 1280, height: 720 }, fps: 10, hwaccel: 'none' as const, ffmpeg: '6.1' };

describe('n8n Stream Trigger: cameras read on this host, motion gate, daily budget (mocked, no server)', () => {
  describe('who reads the camera (node versions)', () => {
    it("new nodes (version 3) read a camera on this n8n host; workflows saved with versions 1 and 2 keep Roboflow's server", async () => {
      const description = new RoboflowStreamTrigger().description;
      assert.deepEqual(description.version, [1, 2, 3]);
      assert.equal(description.defaultVersion, 3);
      const resolved = (typeVersion: number, parameters: INodeParameters = {}) => NodeHelpers.getNodeParameters(description.properties, parameters, true, false, { typeVersion }, description)!;
      assert.equal(resolved(1).capture, V1_DEFAULTS.capture);
      assert.equal(resolved(2).capture, V2_DEFAULTS.capture);
      assert.equal(resolved(3).capture, V3_DEFAULTS.capture);
      assert.equal(V3_DEFAULTS.capture, 'local');
      assert.equal(V2_DEFAULTS.capture, 'server');
      // The camera options show only where this host reads the camera.
      assert.ok('cameraOptions' in resolved(3), 'version 3 camera: options shown');
      assert.equal('cameraOptions' in resolved(2), false, 'version 2 camera (server): no camera options');
      assert.ok('cameraOptions' in resolved(2, { source: 'device' }), 'a device is always read here');
      assert.equal('capture' in resolved(3, { source: 'file' }), false, 'a file is uploaded: no choice to make');

      const opened = fakeOpen();
      const read = async (version: number, parameters: Record<string, unknown> = {}) => {
        const { run } = setup({ mode: 'trigger', version, parameters: { ...camera, ...parameters } }, { open: opened });
        await (
          await run()
        ).closeFunction!();
        return opened.settings[opened.settings.length - 1];
      };
      assert.equal((await read(2)).reader, 'server');
      assert.equal((await read(2)).local, undefined);
      const v3 = await read(3);
      assert.equal(v3.reader, 'local');
      assert.deepEqual(v3.local, { capture: { maxFps: 10, maxSize: 1280, hwaccel: 'none', socketTimeoutMs: 10_000 }, transport: 'tcp', loop: false });
      assert.equal((await read(3, { capture: 'server' })).reader, 'server');
      assert.equal((await read(2, { capture: 'local' })).reader, 'local', 'an older node can switch');
    });

    it('the same sources as Node-RED: a URL (RTSP/RTMP/HLS) with its transport, MJPEG, a device, a file played as a camera with Loop', async () => {
      const opened = fakeOpen(streamsAndAnswers);
      const read = async (parameters: Record<string, unknown>) => {
        const { run } = setup({ mode: 'trigger', parameters: { ...saved, ...parameters } }, { open: opened });
        await (
          await run()
        ).closeFunction!();
        return opened.settings[opened.settings.length - 1];
      };
      const rtmp = await read({ source: 'rtsp', url: 'rtmp://127.0.0.1/live/door', cameraOptions: { maxFps: 5, maxSize: 640, hwaccel: 'vaapi', rtspTransport: 'udp' } });
      assert.deepEqual(
        [rtmp.target, rtmp.local?.capture.maxFps, rtmp.local?.capture.maxSize, rtmp.local?.capture.hwaccel, rtmp.local?.transport],
        ['rtmp://127.0.0.1/live/door', 5, 640, 'vaapi', 'udp'],
      );
      assert.equal((await read({ source: 'mjpeg', url: 'http://cam/video.mjpeg' })).reader, 'local');
      const device = await read({ source: 'device' });
      assert.deepEqual([device.reader, device.target], ['local', '/dev/video0'], 'the usual device by default');
      const replay = await read({ source: 'replay', filePath: '/videos/door.mp4' });
      assert.deepEqual([replay.reader, replay.target, replay.local?.loop], ['local', '/videos/door.mp4', true], 'loops by default');
      assert.equal((await read({ source: 'replay', filePath: '/videos/door.mp4', loop: false })).local?.loop, false);
      assert.equal((await read({ source: 'file', filePath: '/videos/door.mp4' })).reader, 'server', 'a Video File is uploaded as before');
    });

    it("the camera options' defaults are the engine's", () => {
      const field = new RoboflowStreamTrigger().description.properties.find((property) => property.name === 'cameraOptions')!;
      const defaults = Object.fromEntries((field.options as Array<{ name: string; default: unknown }>).map((option) => [option.name, option.default]));
      assert.deepEqual(defaults, { hwaccel: DEFAULT_CAPTURE.hwaccel, maxFps: DEFAULT_CAPTURE.maxFps, maxSize: DEFAULT_CAPTURE.maxSize, rtspTransport: 'tcp' });
    });

    it('camera options out of range fail the activation with what to fix, before anything starts', async () => {
      const opened = fakeOpen();
      for (const [options, message] of [
        [{ maxFps: 0 }, /Max frame rate must be a number from 0\.1 to 60 \(got 0\)/],
        [{ hwaccel: 'metal' }, /Hardware decoding must be one of auto, none, vaapi, qsv, cuda, v4l2m2m \(got metal\)/],
        [{ rtspTransport: 'sctp' }, /RTSP Transport must be TCP or UDP/],
      ] as const) {
        const { run } = setup({ mode: 'trigger', parameters: { ...camera, cameraOptions: options } }, { open: opened });
        await assert.rejects(run(), (error: Error) => error instanceof NodeOperationError && message.test(error.message));
      }
      assert.equal(opened.streams.length, 0);
    });
  });

  describe('a camera read on this host', () => {
    const cameraFailures: Array<[string, RoboflowError]> = [
      ['a wrong login', new RoboflowError('invalid-input', 'Camera login rejected: check the camera user and password (401 Unauthorized)')],
      ['no ffmpeg', new RoboflowError('invalid-input', 'ffmpeg not found: install it (apt install ffmpeg), or set FFMPEG_PATH (nothing at /nowhere)')],
      ['a missing device', new RoboflowError('invalid-input', 'Camera not found at /dev/video9: check the URL, path or device (No such file or directory)')],
    ];

    for (const [what, error] of cameraFailures) {
      it(`${what}: the activation fails with the message, nothing stays open, and n8n's retries are answered from memory`, async () => {
        const failures = new FailureMemory();
        const opened = fakeOpen((stream) => stream.cameraFails(error));
        const activate = () => setup({ mode: 'trigger', parameters: { ...camera } }, { open: opened, failures }).run();
        await assert.rejects(activate(), (caught: Error) => caught instanceof NodeOperationError && caught.message === error.message);
        assert.equal(opened.closes(), 1);
        await assert.rejects(activate(), /not retried: the last start with these settings failed/);
        assert.equal(opened.streams.length, 1, 'one real start');
      });

      it(`${what}: "Test step" fails at once with the message`, async () => {
        const opened = fakeOpen((stream) => stream.cameraFails(error));
        const { run, emitted } = setup({ mode: 'manual', parameters: { ...camera } }, { open: opened, manualTimeoutMs: 60_000 });
        const started = Date.now();
        await assert.rejects((await run()).manualTriggerFunction!(), (caught: Error) => caught instanceof NodeOperationError && caught.message === error.message);
        assert.ok(Date.now() - started < 1_000, 'at once, not after the wait');
        assert.equal(emitted.length, 0);
        assert.equal(opened.closes(), 1);
      });
    }

    it('a camera away: the activation succeeds (it keeps trying); the outage is logged once, and once more when it is back', async () => {
      const lost = (attempt: number) => ({ attempt, delayMs: 1000 * attempt, error: new RoboflowError('camera', 'Camera not reachable: Connection refused', { retryable: true }) });
      const opened = fakeOpen((stream) => stream.fire('camera-lost', lost(1)));
      const { run, logs, errors } = setup({ mode: 'trigger', parameters: { ...camera } }, { open: opened });
      const response = await run();
      const stream = opened.streams[0];
      for (let attempt = 2; attempt <= 6; attempt++) stream.fire('camera-lost', lost(attempt));
      stream.fire('camera-open', cameraInfo);
      stream.set('streaming');
      stream.fire('camera-lost', lost(1));
      const said = logs.filter((line) => line.includes('Roboflow camera'));
      assert.deepEqual(said, [
        'Roboflow camera rtsp://192.168.1.20:554/door: Camera not reachable: Connection refused; reopening it with backoff (logged again when it is back)',
        ...Array.from(
          { length: 5 },
          (_, i) => `Roboflow camera rtsp://192.168.1.20:554/door: still failing (attempt ${i + 2}, next in ${(i + 2) * 1000} ms): Camera not reachable: Connection refused`,
        ),
        'Roboflow camera rtsp://192.168.1.20:554/door: open again, 1920x1080 → 1280x720 at up to 10 fps (decoding: none) after 6 failed attempts',
        'Roboflow camera rtsp://192.168.1.20:554/door: Camera not reachable: Connection refused; reopening it with backoff (logged again when it is back)',
      ]);
      assert.equal(errors.length, 0);
      await response.closeFunction!();
    });

    it('the session dropping is logged once per outage too (not once per attempt)', async () => {
      const opened = fakeOpen();
      const { run, logs } = setup({ mode: 'trigger', parameters: { ...camera } }, { open: opened });
      const response = await run();
      const stream = opened.streams[0];
      for (let attempt = 1; attempt <= 4; attempt++)
        stream.fire('reconnecting', { attempt, delayMs: 500, error: new RoboflowError('network', 'The connection to the streaming server dropped', { retryable: true }) });
      stream.set('streaming');
      const warned = logs.filter((line) => line.includes('dropped; reconnecting with backoff'));
      assert.equal(warned.length, 1);
      assert.ok(logs.includes('Roboflow stream: streaming again after 4 failed attempts'));
      await response.closeFunction!();
    });

    it('a file played without Loop reaching its end is logged; a "Test step" that got nothing says why', async () => {
      const replay = { ...saved, source: 'replay', filePath: '/videos/door.mp4', loop: false };
      const opened = fakeOpen((stream) => {
        stream.fire('camera-open', cameraInfo);
        stream.set('streaming');
        stream.fire('result', result(1, 0));
        stream.fire('camera-ended');
      });
      const manual = setup({ mode: 'manual', parameters: { ...replay, emit: 'detections' } }, { open: opened });
      await assert.rejects((await manual.run()).manualTriggerFunction!(), /The video file played to its end after 1 analysed frames, before any item: check the node settings, or turn Loop on/);
      const active = setup({ mode: 'trigger', parameters: replay }, { open: opened });
      const response = await active.run();
      assert.ok(active.logs.some((line) => line.includes('the video file played to its end (Loop is off)')));
      assert.equal(active.emitted.filter((data) => data[0][0].json.complete === true).length, 0, 'a camera has no completion item');
      await response.closeFunction!();
    });
  });

  describe('motion gate', () => {
    const gated = { ...camera, gate: 'motion', quietSeconds: 5, preRollSeconds: 3, motionArea: 2, gateClasses: 'person, car' };

    it("its settings reach the stream; a camera Roboflow's server reads has no gate (this host measures the motion)", async () => {
      const opened = fakeOpen((stream) => {
        stream.fire('camera-open', cameraInfo);
        stream.set('streaming');
      });
      const read = async (parameters: Record<string, unknown>) => {
        const { run } = setup({ mode: 'trigger', parameters }, { open: opened });
        await (
          await run()
        ).closeFunction!();
        return opened.settings[opened.settings.length - 1];
      };
      assert.deepEqual((await read(gated)).gate, { quietMs: 5_000, preRollMs: 3_000, holdClasses: ['person', 'car'], areaThreshold: 0.02, mask: [] });
      assert.equal((await read({ ...gated, capture: 'server' })).gate, undefined);
      const { run } = setup({ mode: 'trigger', parameters: { ...gated, preRollSeconds: 60 } }, { open: opened });
      await assert.rejects(run(), /Pre-Roll must be a number from 0 to 10 \(got 60\)/);
    });

    it('"Ignore Motion In": its polygons reach the engine\'s motion detector; a bad one fails the activation with what to fix', async () => {
      const opened = fakeOpen((stream) => {
        stream.fire('camera-open', cameraInfo);
        stream.set('streaming');
      });
      const left = [
        [
          [0, 0],
          [0.3, 0],
          [0.3, 1],
          [0, 1],
        ],
      ];
      for (const motionIgnore of [JSON.stringify(left), left]) {
        const { run } = setup({ mode: 'trigger', parameters: { ...gated, motionIgnore } }, { open: opened });
        await (
          await run()
        ).closeFunction!();
        const gate = opened.settings[opened.settings.length - 1].gate!;
        assert.deepEqual(gate.mask, left);
        assert.deepEqual(capturedGate(gate), { mode: 'motion', quietMs: 5_000, preRollMs: 3_000, holdClasses: ['person', 'car'], motion: { areaThreshold: 0.02, mask: left } });
      }
      const { run } = setup({ mode: 'trigger', parameters: { ...gated, motionIgnore: '[[[0,0],[1,0]]]' } }, { open: opened });
      await assert.rejects(run(), /Ignore Motion In is not valid: polygon 1 is not a list of at least 3 points; it must be a list of polygons/);
    });

    it('an open camera watching for motion is a good start (no session yet); sessions opening and closing are logged', async () => {
      const opened = fakeOpen((stream) => {
        stream.fire('camera-open', cameraInfo);
        stream.fire('gate', { state: 'watching' });
      });
      const { run, logs, errors } = setup({ mode: 'trigger', parameters: gated }, { open: opened });
      const response = await run();
      const stream = opened.streams[0];
      stream.fire('gate', { state: 'open' });
      stream.set('streaming');
      stream.fire('gate', { state: 'open', closesInMs: 3000 });
      stream.fire('gate', { state: 'watching' });
      stream.set('stopped');
      assert.deepEqual(
        logs.filter((line) => line.startsWith('Roboflow camera')),
        [
          'Roboflow camera rtsp://192.168.1.20:554/door: open, 1920x1080 → 1280x720 at up to 10 fps (decoding: none); watching for motion',
          'Roboflow camera rtsp://192.168.1.20:554/door: motion: starting a Roboflow session',
          'Roboflow camera rtsp://192.168.1.20:554/door: quiet for 5 s: the Roboflow session is closed (not billed); watching for motion',
        ],
      );
      assert.equal(errors.length, 0);
      await response.closeFunction!();
    });

    it('"Test step" waits for motion: a session that closes for quiet does not end the run; cancelling it does', async () => {
      const opened = fakeOpen((stream) => {
        stream.fire('camera-open', cameraInfo);
        stream.set('streaming');
        stream.fire('result', result(1, 1));
        stream.set('stopped'); // the gate closed
        stream.set('streaming');
        stream.fire('result', result(2, 1));
      });
      const { run, emitted } = setup({ mode: 'manual', parameters: { ...gated, options: { manualItems: 2 } } }, { open: opened });
      await (
        await run()
      ).manualTriggerFunction!();
      assert.equal(emitted[0][0].length, 2);

      const waiting = fakeOpen((stream) => stream.fire('camera-open', cameraInfo));
      const cancelled = setup({ mode: 'manual', parameters: gated }, { open: waiting, manualTimeoutMs: 60_000 });
      const response = await cancelled.run();
      const test = response.manualTriggerFunction!();
      await until(() => waiting.streams.length === 1, 'the camera');
      await response.closeFunction!();
      await assert.rejects(test, /The test run was stopped/);
    });
  });

  describe('daily budget', () => {
    const budgeted = { ...camera, dailyLimit: 'minutes', dailyMinutes: 10 };

    it("a limit in credits is converted with the plan's published rate, or the rate the user set; files have none", async () => {
      const opened = fakeOpen(streamsAndAnswers);
      const read = async (parameters: Record<string, unknown>, plan = 'webrtc-gpu-small') => {
        const { run } = setup({ mode: 'trigger', credential: { ...credential, plan }, parameters: { ...camera, ...parameters } }, { open: opened });
        await (
          await run()
        ).closeFunction!();
        return opened.settings[opened.settings.length - 1].budget;
      };
      assert.equal((await read({ dailyLimit: 'minutes', dailyMinutes: 90 }))?.limitMinutes, 90);
      assert.equal((await read({ dailyLimit: 'credits', dailyCredits: 3 }))?.limitMinutes, 240, 'small: 80 min a credit');
      assert.equal((await read({ dailyLimit: 'credits', dailyCredits: 3 }, 'webrtc-gpu-medium'))?.limitMinutes, 180);
      assert.equal((await read({ dailyLimit: 'credits', dailyCredits: 3 }, 'webrtc-gpu-large'))?.limitMinutes, 90);
      assert.equal((await read({ dailyLimit: 'credits', dailyCredits: 2, minutesPerCredit: 100 }))?.limitMinutes, 200);
      assert.equal(await read({}), undefined);
      assert.equal(await read({ source: 'file', filePath: '/videos/clip.mp4', dailyLimit: 'minutes', dailyMinutes: 5 }), undefined, 'a file ends by itself');
      const { run } = setup({ mode: 'trigger', parameters: { ...camera, dailyLimit: 'minutes', dailyMinutes: 0 } }, { open: opened });
      await assert.rejects(run(), /The daily limit must be more than 0 minutes/);
    });

    it('counts the minutes sessions run; warns once at 80 %; at the limit stops the session with one log line and one emitError; starts again after local midnight', async () => {
      const time = clock(new Date(2026, 10, 30, 23, 40, 0));
      const memory = new BudgetMemory();
      const opened = fakeOpen();
      const { run, logs, errors, emitted, staticData } = setup(
        { mode: 'trigger', nodeName: 'Door camera', parameters: budgeted },
        { open: opened, budgetMemory: memory, budgetClock: { now: time.now, tickMs: 2 } },
      );
      const response = await run();
      const stream = opened.streams[0];
      time.advance(4 * 60_000);
      stream.fire('result', result(1, 1));
      assert.deepEqual(emitted[0][0][0].json.stats, { minutesToday: 4, estimatedCredits: 0.05, dailyLimitMinutes: 10 }, 'each item says what today cost');
      time.advance(4 * 60_000);
      await until(() => logs.some((line) => line.includes("80 % of today's stream budget used (8 of 10 min (≈ 0.13 credits))")), 'the 80 % warning');
      time.advance(3 * 60_000);
      await until(() => errors.length === 1, 'emitError at the limit');
      assert.ok(errors[0] instanceof NodeOperationError);
      assert.match(
        errors[0].message,
        /^Daily stream budget reached \(10 min \(≈ 0\.13 credits\); 11 min used today\): the Roboflow session is stopped until midnight \(local time\); raise Daily Limit on the trigger to go on today$/,
      );
      assert.equal(stream.state, 'stopped');
      assert.equal(logs.filter((line) => line.includes('Daily stream budget reached')).length, 1);
      assert.equal(logs.filter((line) => line.includes('80 %')).length, 1, 'the warning once');
      // Stopped: the time passes, nothing more is counted, nothing more is said.
      time.advance(5 * 60_000);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(errors.length, 1);
      assert.equal(stream.starts, 1);
      // 00:05 the next day.
      time.set(new Date(2026, 11, 1, 0, 5, 0));
      await until(() => stream.starts === 2, 'the session started again after midnight');
      assert.ok(logs.some((line) => line.includes('the stream budget is available again')));
      stream.set('streaming');
      time.advance(60_000);
      await until(() => ((staticData.live['node:Door camera'] as { budget?: { usedMs: Record<string, number> } }).budget?.usedMs['node-1'] ?? 0) >= 60_000, 'the minute counted');
      stream.fire('result', result(2, 1));
      assert.equal((emitted[emitted.length - 1][0][0].json.stats as { minutesToday: number }).minutesToday, 1, 'a new day counts from 0');
      await response.closeFunction!();
      assert.deepEqual((staticData.saved['node:Door camera'] as IDataObject).budget, { day: '2026-12-01', usedMs: { 'node-1': 60_000 } }, 'kept in the static data n8n saved at the last execution');
    });

    it('n8n re-adding the trigger after that emitError (same day): the activation succeeds and waits, without a second error; the count comes from the process memory', async () => {
      const time = clock(new Date(2026, 10, 30, 15, 0, 0));
      const memory = new BudgetMemory();
      const staticData = new WorkflowStaticData();
      const opened = fakeOpen();
      const first = setup({ mode: 'trigger', staticData, parameters: budgeted }, { open: opened, budgetMemory: memory, budgetClock: { now: time.now, tickMs: 2 } });
      const response = await first.run();
      time.advance(11 * 60_000);
      await until(() => first.errors.length === 1, 'emitError');
      // n8n: removes the trigger (closeFunction), then adds it again from the database's static data.
      await response.closeFunction!();
      staticData.reload();
      const again = setup({ mode: 'trigger', staticData, parameters: budgeted }, { open: opened, budgetMemory: memory, budgetClock: { now: time.now, tickMs: 2 } });
      const second = await again.run();
      assert.equal(opened.streams[1].starts, 0, 'no session');
      assert.equal(again.errors.length, 0, 'reported once a day');
      assert.ok(again.logs.some((line) => line.includes('daily budget reached (10 min (≈ 0.13 credits); 11 min used today): no Roboflow session until midnight')));
      time.set(new Date(2026, 11, 1, 0, 0, 1));
      await until(() => opened.streams[1].starts === 1, 'a session after midnight');
      await second.closeFunction!();
    });

    it('survives an n8n restart with the minutes saved at the last execution (a fresh process: only the database)', async () => {
      const time = clock(new Date(2026, 10, 30, 9, 0, 0));
      const staticData = new WorkflowStaticData();
      const opened = fakeOpen();
      const before = setup({ mode: 'trigger', staticData, parameters: budgeted }, { open: opened, budgetMemory: new BudgetMemory(), budgetClock: { now: time.now, tickMs: 2 } });
      const response = await before.run();
      time.advance(6 * 60_000);
      await until(() => ((before.staticData.node('Roboflow').budget as { usedMs?: Record<string, number> } | undefined)?.usedMs?.['node-1'] ?? 0) >= 6 * 60_000, 'counted');
      opened.streams[0].fire('result', result(1, 1)); // an execution: n8n writes the static data
      assert.ok(staticData.writes >= 1);
      await response.closeFunction!();
      // n8n restarts: no process memory, the static data from its database.
      staticData.reload();
      const after = setup({ mode: 'trigger', staticData, parameters: budgeted }, { open: opened, budgetMemory: new BudgetMemory(), budgetClock: { now: time.now, tickMs: 2 } });
      const restarted = await after.run();
      opened.streams[1].fire('result', result(2, 1));
      assert.equal((after.emitted[0][0][0].json.stats as { minutesToday: number }).minutesToday, 6);
      await restarted.closeFunction!();
    });

    it('a re-activation in the same process keeps minutes the database does not have yet (no execution since)', async () => {
      const time = clock(new Date(2026, 10, 30, 9, 0, 0));
      const staticData = new WorkflowStaticData();
      const memory = new BudgetMemory();
      const opened = fakeOpen();
      const first = setup({ mode: 'trigger', staticData, parameters: budgeted }, { open: opened, budgetMemory: memory, budgetClock: { now: time.now, tickMs: 2 } });
      const response = await first.run();
      time.advance(7 * 60_000);
      await response.closeFunction!();
      staticData.reload(); // the database still has the count of the activation: 0
      const second = setup({ mode: 'trigger', staticData, parameters: budgeted }, { open: opened, budgetMemory: memory, budgetClock: { now: time.now, tickMs: 2 } });
      const again = await second.run();
      assert.equal(
        ((staticData.saved['node:Roboflow'] as IDataObject).budget as { usedMs: Record<string, number> }).usedMs['node-1'],
        7 * 60_000,
        'and written to the database once the activation finished',
      );
      opened.streams[1].fire('result', result(1, 1));
      assert.equal((second.emitted[0][0][0].json.stats as { minutesToday: number }).minutesToday, 7);
      await again.closeFunction!();
    });

    it('the budget is per trigger: another node (or workflow) counts its own minutes', async () => {
      const time = clock(new Date(2026, 10, 30, 9, 0, 0));
      const staticData = new WorkflowStaticData();
      const memory = new BudgetMemory();
      const opened = fakeOpen();
      const door = setup({ mode: 'trigger', staticData, nodeName: 'Door', nodeId: 'door', parameters: budgeted }, { open: opened, budgetMemory: memory, budgetClock: { now: time.now, tickMs: 2 } });
      const doorRun = await door.run();
      time.advance(11 * 60_000);
      await until(() => door.errors.length === 1, 'the door trigger at its limit');
      const yard = setup({ mode: 'trigger', staticData, nodeName: 'Yard', nodeId: 'yard', parameters: budgeted }, { open: opened, budgetMemory: memory, budgetClock: { now: time.now, tickMs: 2 } });
      const yardRun = await yard.run();
      assert.equal(opened.streams[1].starts, 1, 'the yard trigger streams');
      await doorRun.closeFunction!();
      await yardRun.closeFunction!();
    });

    it('"Test step": the items carry the same stats; a spent budget fails the run with the reason; its own minutes are not counted', async () => {
      const time = clock(new Date(2026, 10, 30, 9, 0, 0));
      const staticData = new WorkflowStaticData({ 'node:Roboflow': { budget: { day: '2026-11-30', usedMs: { 'node-1': 3 * 60_000 } } } });
      const opened = fakeOpen((stream) => {
        stream.set('streaming');
        time.advance(60_000);
        stream.fire('result', result(1, 1));
      });
      const memory = new BudgetMemory();
      const manual = setup({ mode: 'manual', staticData, parameters: budgeted }, { open: opened, budgetMemory: memory, budgetClock: { now: time.now, tickMs: 2 } });
      await (
        await manual.run()
      ).manualTriggerFunction!();
      assert.deepEqual(manual.emitted[0][0][0].json.stats, { minutesToday: 3, estimatedCredits: 0.038, dailyLimitMinutes: 10 });
      assert.equal(memory.state('workflow-1\u0000Roboflow'), undefined, 'nothing counted for a test run');

      const spent = new WorkflowStaticData({ 'node:Roboflow': { budget: { day: '2026-11-30', usedMs: { 'node-1': 10 * 60_000 } } } });
      const refused = setup({ mode: 'manual', staticData: spent, parameters: budgeted }, { open: opened, budgetMemory: new BudgetMemory(), budgetClock: { now: time.now, tickMs: 2 } });
      await assert.rejects(
        (await refused.run()).manualTriggerFunction!(),
        /^NodeOperationError: Daily stream budget reached \(10 min \(≈ 0\.13 credits\); 10 min used today\): no Roboflow session until midnight \(local time\); raise Daily Limit on the trigger to test now$/,
      );
      assert.equal(opened.streams.length, 1, 'no stream for the refused test');
    });

    it('n8n sees each save: a new object each time (a change inside an object it already holds would never be written)', async () => {
      const time = clock(new Date(2026, 10, 30, 9, 0, 0));
      const opened = fakeOpen();
      const { run, staticData } = setup({ mode: 'trigger', parameters: budgeted }, { open: opened, budgetMemory: new BudgetMemory(), budgetClock: { now: time.now, tickMs: 2 } });
      const response = await run();
      for (let minute = 1; minute <= 3; minute++) {
        time.advance(60_000);
        await until(() => ((staticData.live['node:Roboflow'] as { budget?: { usedMs: Record<string, number> } }).budget?.usedMs['node-1'] ?? 0) >= minute * 60_000, `minute ${minute}`);
        opened.streams[0].fire('result', result(minute, 1));
        assert.equal((staticData.saved['node:Roboflow'] as { budget: { usedMs: Record<string, number> } }).budget.usedMs['node-1'], minute * 60_000, `written at execution ${minute}`);
      }
      await response.closeFunction!();
    });

    it('two copies of a count are merged without losing minutes: the later day wins, on the same day the larger count', () => {
      assert.deepEqual(newerState({ day: '2026-11-30', usedMs: { a: 5, b: 1 } }, { day: '2026-11-30', usedMs: { a: 3, b: 4 } }), { day: '2026-11-30', usedMs: { a: 5, b: 4 } });
      assert.deepEqual(newerState({ day: '2026-11-29', usedMs: { a: 50 } }, { day: '2026-11-30', usedMs: { a: 1 } }), { day: '2026-11-30', usedMs: { a: 1 } });
      assert.equal(newerState(undefined, undefined), undefined);
      const memory = new BudgetMemory(2);
      for (const key of ['a', 'b', 'c']) memory.save(key, { day: '2026-11-30', usedMs: { x: 1 } });
      assert.equal(memory.size, 2);
      assert.equal(memory.state('a'), undefined, 'bounded: the oldest went first');
    });
  });
});
