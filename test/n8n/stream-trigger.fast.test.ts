import { strict as assert } from 'node:assert';
import { NodeHelpers, NodeOperationError, type INodeExecutionData } from 'n8n-workflow';
import { RoboflowError, redact } from '../../lib';
import { RoboflowStreamTrigger } from '../../nodes/n8n/RoboflowStreamTrigger/RoboflowStreamTrigger.node.js';
import { FailureMemory } from '../../nodes/n8n/RoboflowStreamTrigger/failure-memory';
import { FrameFilter } from '../../nodes/n8n/RoboflowStreamTrigger/items';
import { V1_DEFAULTS, V2_DEFAULTS, V3_DEFAULTS } from '../../nodes/n8n/RoboflowStreamTrigger/settings';
import { runStreamTrigger, type StreamTriggerDependencies } from '../../nodes/n8n/RoboflowStreamTrigger/trigger';
import { UseCaseCache } from '../../nodes/n8n/RoboflowVisionEvent/use-case-cache';
import { encodeUserinfo, withCameraLogin } from '../../lib';
import { triggerContext, type TriggerContextOptions } from '../helpers/n8n-context';
import { fakeOpen, result, type Opened } from './fake-stream';

/**
 * The Stream Trigger with n8n's trigger functions mocked and the engine's stream faked
 * (as n8n's own MqttTrigger tests mock ITriggerFunctions): exact emits, errors and
 * clean-up, in milliseconds, without a server.
 */

const credential = { apiKey: 'fast-test-key', serverUrl: 'http://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9' };
const camera = { source: 'rtsp', url: 'rtsp://127.0.0.1:8554/door', workflowMode: 'saved', workspace: 'demo', workflowId: 'detect-colors', dataOutputs: 'predictions' };
const file = { ...camera, source: 'file', filePath: '/videos/clip.mp4' };

function setup(options: Omit<TriggerContextOptions, 'credential'>, deps: Partial<StreamTriggerDependencies> & { open: Opened }) {
  const trigger = triggerContext({ credential, ...options });
  const { open, ...rest } = deps;
  const run = () => runStreamTrigger(trigger.context, { failures: new FailureMemory(), firstOutcomeMs: 5_000, now: Date.now, ...rest, openStream: open.open });
  return { ...trigger, run };
}

const json = (items: INodeExecutionData[]) => items.map((item) => item.json);

describe('n8n Stream Trigger (mocked trigger functions, no server)', () => {
  describe('"Test step" (manual mode)', () => {
    it('emits the first frames once, as one list, then closes the stream', async () => {
      const opened = fakeOpen((stream) => {
        stream.set('streaming');
        for (let id = 1; id <= 5; id++) stream.fire('result', result(id, id === 2 ? 0 : 1));
      });
      const { emitted, errors, run } = setup({ mode: 'manual', parameters: { ...camera, emit: 'detections', options: { manualItems: 2 } } }, { open: opened });
      const response = await run();
      await response.manualTriggerFunction!();
      assert.equal(emitted.length, 1, 'one emit');
      assert.deepEqual(
        emitted[0][0].map((item) => (item.json.frame as { frame_id: number }).frame_id),
        [1, 3],
        'the first two frames with detections',
      );
      assert.equal(errors.length, 0);
      assert.equal(opened.closes(), 1);
      assert.equal(opened.streams[0].stops, 1);
      await response.closeFunction!();
      assert.equal(opened.closes(), 1, 'closing again does nothing');
    });

    it('fails with the first error the engine reports (a retry it would make), at once, and closes everything', async () => {
      const refused = new RoboflowError('network', 'Cannot reach 127.0.0.1:25999 (ECONNREFUSED): check the server URL and that the server is running', { retryable: true });
      const opened = fakeOpen((stream) => stream.fire('reconnecting', { attempt: 1, delayMs: 1000, error: refused }));
      const { emitted, run } = setup({ mode: 'manual', parameters: { ...camera, emit: 'frames', options: {} } }, { open: opened, manualTimeoutMs: 60_000 });
      const response = await run();
      await assert.rejects(response.manualTriggerFunction!(), (error: Error) => error instanceof NodeOperationError && error.message.includes('Cannot reach 127.0.0.1:25999 (ECONNREFUSED)'));
      assert.equal(emitted.length, 0);
      assert.equal(opened.closes(), 1);
    });

    it('fails on an error event too (a refused start), with its message', async () => {
      const opened = fakeOpen((stream) => stream.refuse(new RoboflowError('not-found', 'Not found (404): check the workspace name and workflow id')));
      const { run } = setup({ mode: 'manual', parameters: { ...camera, emit: 'frames', options: {} } }, { open: opened });
      const response = await run();
      await assert.rejects(response.manualTriggerFunction!(), /Not found \(404\): check the workspace name and workflow id/);
      assert.equal(opened.closes(), 1);
    });

    it('frames that the settings skip are named when the wait runs out (not "no analysed frame")', async () => {
      const opened = fakeOpen((stream) => {
        stream.set('streaming');
        for (let id = 1; id <= 3; id++) stream.fire('result', result(id, 0));
      });
      const { run } = setup({ mode: 'manual', version: 2, parameters: { ...camera, options: {} } }, { open: opened, manualTimeoutMs: 50 });
      await assert.rejects(
        (await run()).manualTriggerFunction!(),
        /3 frames analysed in 0\.05 s but none with detections: point the camera at something the workflow detects, or set Emit to Every Analysed Frame/,
      );
      assert.equal(opened.closes(), 1);
    });

    it('a file that ends before the first frames returns the completion item', async () => {
      const opened = fakeOpen((stream) => {
        stream.set('streaming');
        stream.fire('complete', { frameId: 1, reason: null });
        stream.set('complete');
      });
      const { emitted, run } = setup({ mode: 'manual', parameters: { ...file, emit: 'frames', options: { manualItems: 3 } } }, { open: opened });
      await (
        await run()
      ).manualTriggerFunction!();
      assert.deepEqual(json(emitted[0][0]), [{ complete: true, frames: 0, terminationReason: null }]);
    });
  });

  describe('published workflow (active mode)', () => {
    it('activation returns once the session streams; one execution per wanted frame; closeFunction ends everything once', async () => {
      const opened = fakeOpen();
      const { emitted, errors, run } = setup({ mode: 'trigger', parameters: { ...camera, emit: 'detections', options: {} } }, { open: opened });
      const response = await run();
      const stream = opened.streams[0];
      stream.fire('result', result(1, 1));
      stream.fire('result', result(2, 0));
      stream.fire('result', result(3, 2));
      assert.deepEqual(
        emitted.map((data) => [data.length, data[0].length, (data[0][0].json.frame as { frame_id: number }).frame_id]),
        [
          [1, 1, 1],
          [1, 1, 3],
        ],
      );
      await response.closeFunction!();
      await response.closeFunction!();
      assert.equal(opened.closes(), 1);
      assert.equal(stream.stops, 1);
      stream.fire('result', result(4, 1));
      assert.equal(emitted.length, 2, 'nothing after close');
      assert.equal(errors.length, 0);
    });

    it('a start refused for good fails the activation with our message (NodeOperationError), and leaves nothing open', async () => {
      const opened = fakeOpen((stream) => stream.refuse(new RoboflowError('not-found', 'Not found (404): check the workspace name and workflow id')));
      const { emitted, errors, run } = setup({ mode: 'trigger', parameters: { ...camera, emit: 'frames', options: {} } }, { open: opened });
      await assert.rejects(run(), (error: Error) => error instanceof NodeOperationError && /^Not found \(404\): check the workspace name and workflow id$/.test(error.message));
      assert.equal(opened.closes(), 1);
      assert.equal(emitted.length + errors.length, 0);
    });

    it("n8n's re-activations are answered from memory: one real start per backoff step; changed settings try at once", async () => {
      let now = 1_000_000;
      const failures = new FailureMemory(undefined, undefined, () => 0.5);
      const opened = fakeOpen((stream) => stream.refuse(new RoboflowError('not-found', 'Not found (404): check the workspace name and workflow id')));
      const activate = (workflowId = 'typo') => setup({ mode: 'trigger', parameters: { ...camera, workflowId, emit: 'frames', options: {} } }, { open: opened, failures, now: () => now }).run();
      await assert.rejects(activate(), /Not found \(404\)/);
      // n8n 2.41 retries a failed activation after 1, 2, 4 and 8 s, and its reconciler every 10 s.
      for (const step of [1_000, 2_000, 1_000]) {
        now += step;
        await assert.rejects(activate(), /Not found \(404\).*not retried: the last start with these settings failed; next attempt in \d+ s/);
      }
      assert.equal(opened.streams.length, 1, 'no new start within the backoff');
      now += 10_000;
      await assert.rejects(activate(), (error: Error) => error.message === 'Not found (404): check the workspace name and workflow id');
      assert.equal(opened.streams.length, 2, 'one start once the backoff allows it');
      await assert.rejects(activate('fixed-id'), /Not found/);
      assert.equal(opened.streams.length, 3, 'other settings are not held back');
      assert.equal(opened.closes(), 3);
    });

    it('a transient first failure lets the activation succeed; the engine keeps retrying', async () => {
      const opened = fakeOpen((stream) =>
        stream.fire('reconnecting', { attempt: 1, delayMs: 1000, error: new RoboflowError('unavailable', 'Service unavailable (503): retrying', { retryable: true }) }),
      );
      const { errors, run } = setup({ mode: 'trigger', parameters: { ...camera, emit: 'frames', options: {} } }, { open: opened });
      const response = await run();
      assert.equal(errors.length, 0);
      await response.closeFunction!();
      assert.equal(opened.closes(), 1);
    });

    it('a start still pending after the bound lets the activation succeed; deactivation then ends it', async () => {
      const opened = fakeOpen(() => undefined);
      const { errors, run } = setup({ mode: 'trigger', parameters: { ...camera, emit: 'frames', options: {} } }, { open: opened, firstOutcomeMs: 10 });
      const response = await run();
      assert.equal(opened.streams[0].state, 'connecting');
      await response.closeFunction!();
      assert.equal(opened.streams[0].state, 'stopped');
      assert.equal(errors.length, 0, 'a stop is not an error');
    });

    it('a later failure is reported once with emitError, the stream is closed, and the next activation waits for the backoff', async () => {
      const failures = new FailureMemory();
      const opened = fakeOpen();
      const { errors, run } = setup({ mode: 'trigger', parameters: { ...camera, emit: 'frames', options: {} } }, { open: opened, failures });
      const response = await run();
      const stream = opened.streams[0];
      stream.refuse(new RoboflowError('invalid-api-key', 'API key rejected (401): check the API key in the Roboflow credentials'));
      stream.refuse(new RoboflowError('invalid-api-key', 'API key rejected (401): check the API key in the Roboflow credentials'));
      assert.equal(errors.length, 1, 'emitError once');
      assert.ok(errors[0] instanceof NodeOperationError);
      assert.match(errors[0].message, /^API key rejected \(401\)/);
      await response.closeFunction!();
      assert.equal(opened.closes(), 1);
      const again = setup({ mode: 'trigger', parameters: { ...camera, emit: 'frames', options: {} } }, { open: opened, failures });
      await assert.rejects(again.run(), /API key rejected \(401\).*not retried/);
      assert.equal(opened.streams.length, 1);
    });

    it('a file: activation returns with its first result; the completion item after its last frame', async () => {
      const opened = fakeOpen((stream) => {
        stream.set('streaming');
        stream.fire('result', result(1, 1));
      });
      const { emitted, run } = setup({ mode: 'trigger', parameters: { ...file, emit: 'frames', options: {} } }, { open: opened });
      const response = await run();
      const stream = opened.streams[0];
      stream.fire('complete', { frameId: 2, reason: null });
      stream.set('complete');
      const items = emitted.map((data) => data[0][0].json);
      assert.equal(items.length, 2);
      assert.equal((items[0].frame as { frame_id: number }).frame_id, 1);
      assert.deepEqual(items[1], { complete: true, frames: 1, terminationReason: null });
      assert.equal(opened.streams[0].starts, 1, 'a file is not started again');
      await response.closeFunction!();
    });

    it('a file that is not a video fails the activation: it waits for the first result, not only for the upload to start', async () => {
      const opened = fakeOpen((stream) => {
        stream.set('streaming');
        stream.refuse(new RoboflowError('invalid-input', 'No frame of this video could be read: is it a video file? (the server ended the upload without a single result)'));
      });
      const { emitted, errors, run } = setup({ mode: 'trigger', parameters: { ...file, emit: 'frames', options: {} } }, { open: opened });
      await assert.rejects(run(), (error: Error) => error instanceof NodeOperationError && error.message.startsWith('No frame of this video could be read: is it a video file?'));
      assert.equal(emitted.length + errors.length, 0);
      assert.equal(opened.closes(), 1);
    });

    it("a live camera's sessions are renewed by the engine: the trigger sends no completion item and starts nothing itself", async () => {
      const opened = fakeOpen();
      const { emitted, run } = setup({ mode: 'trigger', parameters: { ...camera, emit: 'frames', options: {} } }, { open: opened });
      const response = await run();
      const stream = opened.streams[0];
      stream.fire('renewing', { renewals: 1 });
      stream.set('renewing');
      stream.set('streaming');
      assert.equal(emitted.length, 0);
      assert.equal(stream.starts, 1, 'the engine renews; the adapter does not start a second stream');
      await response.closeFunction!();
    });
  });

  describe('settings', () => {
    it('new nodes (version 2) emit only frames with detections, at most one a second; saved version 1 nodes keep every frame', async () => {
      const description = new RoboflowStreamTrigger().description;
      const resolved = (typeVersion: number) => NodeHelpers.getNodeParameters(description.properties, {}, true, false, { typeVersion }, description)!;
      assert.equal(resolved(1).emit, V1_DEFAULTS.emit);
      assert.equal(resolved(1).throttleSeconds, undefined, 'version 1 has no interval field (its option is unset: every frame)');
      assert.equal(resolved(2).emit, V2_DEFAULTS.emit);
      assert.equal(resolved(2).throttleSeconds, V2_DEFAULTS.throttleSeconds);
      assert.equal(resolved(3).emit, V3_DEFAULTS.emit);
      assert.equal(resolved(3).throttleSeconds, V3_DEFAULTS.throttleSeconds);
      assert.equal(description.defaultVersion, 3);

      const opened = fakeOpen();
      const read = async (version: number, parameters: Record<string, unknown>) => {
        const { run } = setup({ mode: 'trigger', version, parameters: { ...camera, options: {}, ...parameters } }, { open: opened });
        await (
          await run()
        ).closeFunction!();
        return opened.settings[opened.settings.length - 1];
      };
      const v1 = await read(1, {});
      assert.equal(v1.onlyDetections, false);
      assert.equal(v1.throttleMs, 0);
      const v2 = await read(2, {});
      assert.equal(v2.onlyDetections, true);
      assert.equal(v2.throttleMs, 1000);
      assert.equal((await read(1, { options: { throttleSeconds: 3 } })).throttleMs, 3000);
    });

    it('processing timeout, workflow version and dry run reach the stream', async () => {
      const opened = fakeOpen();
      const read = async (options: Record<string, unknown>) => {
        const { run } = setup({ mode: 'trigger', version: 2, parameters: { ...camera, emit: 'frames', options } }, { open: opened });
        await (
          await run()
        ).closeFunction!();
        return opened.settings[opened.settings.length - 1];
      };
      const defaults = await read({});
      assert.equal(defaults.processingTimeout, 3600);
      assert.equal(defaults.disableSinks, false);
      assert.deepEqual(defaults.workflow, { workspace: 'demo', workflowId: 'detect-colors' });
      const set = await read({ processingTimeout: 120, workflowVersionId: 'v7', disableSinks: true });
      assert.equal(set.processingTimeout, 120);
      assert.equal(set.disableSinks, true);
      assert.deepEqual(set.workflow, { workspace: 'demo', workflowId: 'detect-colors', versionId: 'v7' });
      assert.equal((await read({ processingTimeout: 0 })).processingTimeout, null, '0 asks for the service maximum');
    });

    it('the canvas subtitle names the workflow, or says none is set', () => {
      const subtitle = String(new RoboflowStreamTrigger().description.subtitle).replace(/^=\{\{(.*)\}\}$/s, '$1');
      // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call -- evaluates the subtitle expression as n8n would
      const evaluate = (parameter: Record<string, string>) => new Function('$parameter', `return ${subtitle}`)(parameter) as string;
      assert.equal(evaluate({ workflowMode: 'saved', workflowId: '', source: 'rtsp' }), 'no workflow ID yet on rtsp');
      assert.equal(evaluate({ workflowMode: 'saved', workflowId: 'detect-colors', source: 'file' }), 'detect-colors on file');
      assert.equal(evaluate({ workflowMode: 'specification', workflowId: '', source: 'mjpeg' }), 'workflow specification on mjpeg');
    });

    it('every field a user types has help text', () => {
      const fields = new RoboflowStreamTrigger().description.properties.filter((property) => ['url', 'workspace', 'workflowId', 'filePath'].includes(property.name));
      for (const field of fields) assert.ok((field.description ?? '').length > 20, `${field.name} has a description`);
      assert.match(fields.find((field) => field.name === 'filePath')!.description!, /~\/\.n8n-files.*N8N_RESTRICT_FILE_ACCESS_TO/);
    });
  });

  describe('FrameFilter', () => {
    it('lets through at most one frame per interval, and only frames with detections when asked', () => {
      let now = 0;
      const filter = new FrameFilter(true, 1000, () => now);
      const seen = [0, 200, 900, 1000, 1500, 2100].map((at, index) => {
        now = at;
        return filter.accepts(result(index, index === 3 ? 0 : 1));
      });
      assert.deepEqual(seen, [true, false, false, false, true, false]);
    });
  });

  describe('FailureMemory', () => {
    it('backs off per step, forgets after a stream, and stays bounded', () => {
      const memory = new FailureMemory(undefined, { entries: 3, forgetAfterMs: 60_000 }, () => 1);
      const error = new RoboflowError('not-found', 'Not found (404)');
      const steps = [1, 2, 3].map((failure) => memory.record('a', 'f', error, failure * 1000).retryInMs);
      assert.ok(steps[0] >= 5_000 && steps[1] > steps[0] && steps[2] > steps[1], `growing backoff: ${steps.join(', ')}`);
      assert.ok(memory.blocked('a', 'f', 3001));
      assert.equal(memory.blocked('a', 'other settings', 3001), undefined);
      memory.forget('a');
      assert.equal(memory.blocked('a', 'f', 3001), undefined);
      for (const key of ['b', 'c', 'd', 'e']) memory.record(key, 'f', error, 0);
      assert.equal(memory.size, 3);
      assert.equal(memory.blocked('b', 'f', 1), undefined, 'the oldest went first');
      memory.record('f', 'f', error, 120_000);
      assert.equal(memory.size, 1, 'old entries expire');
    });
  });
});

describe('camera login in the URL', () => {
  const password = `p@ss:w/o"rd' %41 x`;

  it('percent-encodes user and password so the URL parses back to them, and the redaction helper hides the password', () => {
    const url = withCameraLogin('rtsp://192.168.1.20:554/stream1?channel=1', { username: 'cam user', password });
    const parsed = new URL(url);
    assert.equal(parsed.host, '192.168.1.20:554');
    assert.equal(parsed.pathname + parsed.search, '/stream1?channel=1');
    assert.equal(decodeURIComponent(parsed.username), 'cam user');
    assert.equal(decodeURIComponent(parsed.password), password);
    assert.match(url, /^rtsp:\/\/cam%20user:[A-Za-z0-9%._~-]+@192\.168\.1\.20:554\//, 'only unreserved characters and escapes in the userinfo');
    assert.doesNotMatch(redact(`could not open ${url}`), new RegExp(encodeUserinfo(password).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.equal(withCameraLogin('http://cam/video.mjpeg', { username: 'viewer' }), 'http://viewer@cam/video.mjpeg');
    assert.equal(withCameraLogin('rtsp://cam/stream', undefined), 'rtsp://cam/stream');
  });

  it('refuses a URL that already holds a login, and a login without a user name', () => {
    assert.throws(() => withCameraLogin('rtsp://admin:secret@cam/stream', { username: 'cam', password: 'x' }), /already holds a user name/);
    assert.throws(() => withCameraLogin('rtsp://cam/stream', { username: '', password: 'x' }), /no user name/);
  });
});

describe('Vision Event use-case cache', () => {
  it('keeps an id per credential and use case until it expires, and stays bounded', () => {
    let now = 0;
    const cache = new UseCaseCache(1_000, 2, () => now);
    const connection = { apiKey: 'key-one-123', apiUrl: 'http://a', serverUrl: 'http://a' };
    const key = cache.key(connection, 'front-door');
    assert.notEqual(key, cache.key({ ...connection, apiKey: 'key-two-123' }, 'front-door'), 'per credential');
    assert.doesNotMatch(key, /key-one-123/, 'the key is hashed');
    cache.set(key, 'uc-1');
    now = 999;
    assert.equal(cache.get(key), 'uc-1');
    now = 1_000;
    assert.equal(cache.get(key), undefined, 'expired');
    for (const name of ['a', 'b', 'c']) cache.set(cache.key(connection, name), name);
    assert.equal(cache.size, 2);
    assert.equal(cache.get(cache.key(connection, 'a')), undefined, 'the oldest went first');
  });
});
