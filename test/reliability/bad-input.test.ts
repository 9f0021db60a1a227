import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeMessage } from 'node-red';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { MEDIA_DIR, sceneImage, sceneVideo } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, onTab, recordErrors, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';
import { secret } from '../helpers/secrets';

const CAMERA_PASSWORD = secret('Secret123');

type Target = 'stream' | 'file-stream' | 'camera-stream' | 'job' | 'event';

interface BadInput {
  name: string;
  target: Target;
  /** Node properties that differ from the defaults below. */
  props?: Record<string, unknown>;
  /** Local server faults in force while the bad input is handled. */
  faults?: Record<string, unknown>;
  message: () => Promise<NodeMessage> | NodeMessage;
  /** The error the node reports; or, for an input that is kept and sent again (nothing is lost), the reason it logs. */
  error: RegExp;
  retried?: true;
}

const fifo = (): string => {
  const path = join(MEDIA_DIR, 'bad-input', 'a-fifo.mp4');
  mkdirSync(join(MEDIA_DIR, 'bad-input'), { recursive: true });
  execFileSync('sh', ['-c', `[ -p '${path}' ] || mkfifo '${path}'`]);
  return path;
};
const frame = async (): Promise<NodeMessage> => ({ payload: await sceneImage('two-squares', 0) });
const corrupt = (kind: string): Record<string, unknown> => ({ corruptResults: { kind, count: 1 } });

/**
 * Promise 7 of the reliability issue: bad input, from the flow or from the wire, ends
 * as one clear error on the node (its status, and node.error for Catch nodes), and
 * the same node goes on to handle the next message. One exception: a Vision Event
 * whose answer is garbled is kept and sent again (a warning says why), since the
 * service may have stored it and a resend with the same id cannot duplicate it.
 */
const BAD_INPUTS: BadInput[] = [
  // Roboflow Stream, frames from the flow
  { name: 'a string instead of an image', target: 'stream', message: () => ({ payload: 'hello' }), error: /Expected an image \(JPEG\/PNG Buffer\) in msg.payload, got string/ },
  { name: 'a number instead of an image', target: 'stream', message: () => ({ payload: 42 }), error: /Expected an image .* got number/ },
  { name: 'an object instead of an image', target: 'stream', message: () => ({ payload: { image: 'x' } }), error: /Expected an image .* got object/ },
  { name: 'an empty Buffer', target: 'stream', message: () => ({ payload: Buffer.alloc(0) }), error: /empty|not a readable image/ },
  { name: 'a corrupt JPEG', target: 'stream', message: () => ({ payload: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(200, 7)]) }), error: /not a readable image/ },
  { name: 'a reconfigure without outputs', target: 'stream', message: () => ({ topic: 'reconfigure', payload: 'all' }), error: /reconfigure needs msg.payload with dataOutputs/ },
  // Roboflow Stream, broken results from the server on the data channel
  {
    name: 'a result chunk shorter than its header',
    target: 'stream',
    faults: corrupt('truncated'),
    message: frame,
    error: /Malformed result chunk: message of 7 bytes is shorter than the 12-byte header/,
  },
  { name: 'a forged chunk index', target: 'stream', faults: corrupt('forged-index'), message: frame, error: /Malformed result chunk: frame \d+: chunk 5 of 2 is out of range/ },
  { name: 'a huge chunk count', target: 'stream', faults: corrupt('huge-count'), message: frame, error: /Malformed result chunk: frame \d+: 4294967295 chunks is over the limit/ },
  { name: 'a result that is not JSON', target: 'stream', faults: corrupt('bad-json'), message: frame, error: /Result is not JSON/ },
  { name: 'a result that does not decompress', target: 'stream', faults: corrupt('bad-gzip'), message: frame, error: /Result could not be decompressed/ },
  { name: 'a text result that is not JSON', target: 'stream', faults: corrupt('text'), message: frame, error: /Result is not JSON/ },
  // Roboflow Stream, a file or camera named by the message
  { name: 'a missing video file', target: 'file-stream', message: () => ({ payload: join(MEDIA_DIR, 'no-such-file.mp4') }), error: /Video file not found/ },
  { name: 'a directory instead of a file', target: 'file-stream', message: () => ({ payload: MEDIA_DIR }), error: /Expected a video file but found a directory/ },
  { name: 'a FIFO instead of a file', target: 'file-stream', message: () => ({ payload: fifo() }), error: /Not a regular file/ },
  {
    name: 'parameters that are not JSON',
    target: 'file-stream',
    message: async () => ({ payload: await sceneVideo('two-squares'), parameters: '{"colors": ' }),
    error: /msg.parameters is not valid JSON/,
  },
  { name: 'parameters that are a list', target: 'file-stream', message: async () => ({ payload: await sceneVideo('two-squares'), parameters: [1, 2] }), error: /msg.parameters must be an object/ },
  {
    name: 'an invalid RTSP URL (password hidden)',
    target: 'camera-stream',
    message: () => ({ url: `http://user:${CAMERA_PASSWORD}@camera/stream` }),
    error: /Invalid RTSP URL "http:\/\/user:\*\*\*@camera\/stream"/,
  },
  // Roboflow Video Job
  { name: 'a missing video file', target: 'job', message: () => ({ payload: join(MEDIA_DIR, 'missing.mp4') }), error: /Video file not found/ },
  { name: 'a directory instead of a file', target: 'job', message: () => ({ payload: MEDIA_DIR }), error: /found a directory/ },
  { name: 'a number payload', target: 'job', message: () => ({ payload: 42 }), error: /Send a file path \(string\), a Buffer, or msg.url; got number/ },
  { name: 'an empty Buffer', target: 'job', message: () => ({ payload: Buffer.alloc(0) }), error: /video buffer is empty/ },
  { name: 'a non-http URL', target: 'job', message: () => ({ url: 'ftp://x/video.mp4' }), error: /msg.url must be an http/ },
  { name: 'an fps of 500', target: 'job', message: async () => ({ payload: await sceneVideo('two-squares'), fps: 500 }), error: /fps must be between 1 and 120 \(got 500\)/ },
  {
    name: 'an answer that is not JSON',
    target: 'job',
    faults: { garbleNext: { video_upload_signed_url: 1, videoinfer_submit: 1 } },
    message: async () => ({ payload: await sceneVideo('two-squares') }),
    error: /not JSON|Unexpected answer/,
  },
  // Vision Event
  { name: 'an unknown event type', target: 'event', message: () => ({ payload: {}, eventType: 'party' }), error: /Unknown event type "party"/ },
  { name: 'too many metadata keys', target: 'event', message: () => ({ payload: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])) }), error: /101 keys; at most 100/ },
  { name: 'a metadata key with bad characters', target: 'event', message: () => ({ payload: { 'a.b': 1 } }), error: /may only contain letters/ },
  { name: 'an oversize metadata value', target: 'event', message: () => ({ payload: { note: 'x'.repeat(1001) } }), error: /at most 1000/ },
  { name: 'an image that is not an image', target: 'event', message: () => ({ payload: {}, image: Buffer.from('hello') }), error: /not a JPEG, PNG or WebP image/ },
  { name: 'predictions without numbers', target: 'event', message: () => ({ payload: {}, image: Buffer.from([0xff, 0xd8, 0xff]), predictions: [{ class: 'a' }] }), error: /no numeric x/ },
  { name: 'a timestamp that is not a date', target: 'event', message: () => ({ payload: {}, timestamp: 'yesterday' }), error: /not a date/ },
  {
    name: 'a timestamp out of the accepted window',
    target: 'event',
    message: () => ({ payload: {}, timestamp: Date.now() - 31 * 24 * 3600 * 1000 }),
    error: /rejected: .*more than 30 days in the past/,
  },
  // A garbled answer may hide a stored event: the event stays queued and is sent again (same id, no duplicate).
  {
    name: 'an answer that is not JSON',
    target: 'event',
    faults: { garbleNext: { vision_events: 1, vision_events_batch: 1 } },
    message: () => ({ payload: { n: 1 } }),
    error: /Unexpected answer from .*: not JSON/,
    retried: true,
  },
];

/** The local server's simulated RTSP camera (known once it runs). */
let doorCamera = '';

/** A message each node handles well, sent after the bad one. */
const GOOD: Record<Target, () => Promise<NodeMessage>> = {
  stream: frame,
  'file-stream': async () => ({ payload: await sceneVideo('two-squares') }),
  'camera-stream': async () => ({ url: doorCamera }),
  job: async () => ({ payload: await sceneVideo('two-squares') }),
  event: async () => ({ payload: { ok: true } }),
};

describe('reliability: bad input gets one clear error and the node goes on', function () {
  this.timeout(60_000);
  let server: RunningServer;
  const credentials = { cfg: { apiKey: API_KEY } };

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--rtsp-port', '0', '--cameras', 'door', '--use-cases', 'demo']);
    doorCamera = (await server.cameras()).find((camera) => camera.name === 'door')!.rtsp_url!;
  });
  after(() => server.stop());
  beforeEach(() => server.resetFaults());
  afterEach(() => helper.unload());

  function nodeFor(target: Target, props: Record<string, unknown>): FlowNode {
    const common = { id: 'under-test', roboflow: 'cfg', version: 1, wires: [['out'], []], ...props };
    const stream = {
      type: 'roboflow-stream',
      workspace: 'demo',
      workspaceType: 'str',
      workflow: 'detect-colors',
      workflowType: 'str',
      dataOutputs: 'count',
      streamOutputs: '',
      parameters: '',
      url: '',
      urlType: 'str',
    };
    switch (target) {
      case 'stream':
        return { ...stream, source: 'frames', start: 'deploy', ...common };
      case 'file-stream':
        return { ...stream, source: 'file', start: 'message', ...common };
      case 'camera-stream':
        return { ...stream, source: 'rtsp', start: 'message', ...common };
      case 'job':
        return {
          type: 'roboflow-video-job',
          target: 'workflow',
          workspace: 'demo',
          workspaceType: 'str',
          workflow: 'detect-colors',
          workflowType: 'str',
          model: '',
          fps: 5,
          pollInterval: 0.2,
          ...common,
        };
      case 'event':
        return { type: 'roboflow-vision-event', useCase: 'demo', useCaseType: 'str', createUseCase: false, eventType: 'safety_alert', deviceId: 'porch', streamId: '', cooldown: 0, ...common };
    }
  }

  it(`covers at least 25 bad inputs across the nodes (${BAD_INPUTS.length})`, () => {
    assert.ok(BAD_INPUTS.length >= 25);
    assert.deepEqual(new Set(BAD_INPUTS.map((input) => input.target)), new Set(['stream', 'file-stream', 'camera-stream', 'job', 'event']));
  });

  for (const input of BAD_INPUTS) {
    it(`${input.target}: ${input.name}`, async () => {
      await helper.load(
        ALL_NODES,
        onTab([
          configNode(server.url),
          nodeFor(input.target, input.props ?? {}),
          { id: 'out', type: 'helper' },
          { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
          { id: 'caught', type: 'helper' },
        ]),
        credentials,
      );
      const node = helper.getNode('under-test');
      const statuses = recordStatuses(node);
      const caught = collect(helper.getNode('caught'));
      const out = collect(helper.getNode('out'));
      if (input.faults) await server.faults(input.faults);

      const errors = recordErrors(node);
      const warnings: string[] = [];
      (node as unknown as EventEmitter).on('call:warn', (call: { args: [unknown] }) => warnings.push(String(call.args[0])));
      node.receive(await input.message());
      if (input.retried) {
        await eventually(() => [...warnings, ...errors.map((error) => error.text)].some((text) => input.error.test(text)), 20_000, 'the reason in the log');
        await eventually(() => out.length === 1, 20_000, 'the input, handled once the fault is gone');
        assert.equal(caught.length, 0, 'kept and sent again: no message failed');
        out.length = 0;
      } else {
        await eventually(() => caught.length >= 1, 20_000, 'the error');
        assert.match((caught[0].error as { message: string }).message, input.error);
        assert.ok(
          statuses.some((status) => status.fill === 'red' && (status.text ?? '').length > 0),
          'the status shows the error',
        );
      }
      assert.doesNotMatch(JSON.stringify([caught.map((msg) => msg.error), statuses, warnings]), new RegExp(`${CAMERA_PASSWORD}|${API_KEY}`), 'no secret in the error, the status or the log');

      await server.resetFaults();
      node.receive(await GOOD[input.target]());
      await eventually(() => out.length >= 1, 30_000, 'the next message handled');
      assert.equal(caught.length, input.retried ? 0 : 1, `one error, not more: ${caught.map((msg) => (msg.error as { message: string }).message).join(' | ')}`);
    });
  }
});
