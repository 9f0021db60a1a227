import { strict as assert } from 'node:assert';
import type { EventEmitter } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, NodeMessage } from 'node-red';
import { hooks } from '@node-red/util';
import sharp from 'sharp';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('wrong-key-workflow-node');

/** Door scene frames: the visitor (red = "person") stands at the door in frame 50, and is gone in frame 95. */
const PERSON_FRAME = 50;
const EMPTY_FRAME = 95;

interface Box {
  class: string;
  confidence: number;
}

function recordWarnings(node: Node): string[] {
  const warnings: string[] = [];
  (node as unknown as EventEmitter).on('call:warn', (call: { args: [unknown] }) => warnings.push(String(call.args[0])));
  return warnings;
}

/** Every done() call of the Workflow node, seen through Node-RED's onComplete hook (it fires even while the node closes). */
const doneCalls: Array<{ topic: unknown; error: unknown }> = [];
hooks.add('onComplete.roboflowWorkflowTest', (event: { msg: NodeMessage; error?: unknown; node: { id: string } }) => {
  if (event.node.id === 'wf') doneCalls.push({ topic: event.msg?.topic, error: event.error });
});

/** A port nothing listens on (a server that is gone). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** True when some string inside `value` looks like base64 image data (the payload must never carry it). */
function hasBase64Text(value: unknown): boolean {
  return /"[A-Za-z0-9+/=]{500,}"/.exec(JSON.stringify(value, (_key, inner: unknown) => (Buffer.isBuffer(inner) ? '<buffer>' : inner))) !== null;
}

describe('Node-RED: roboflow-workflow', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let images: Server;
  let imagesUrl: string;
  let personJpeg: Buffer;
  let emptyJpeg: Buffer;
  let dir: string;
  const credentials = { cfg: { apiKey: API_KEY } };

  before(async () => {
    useUserDir();
    dir = mkdtempSync(join(tmpdir(), 'roboflow-wf-'));
    server = await startLocalServer(['--cameras', '']);
    personJpeg = await sceneImage('door', PERSON_FRAME);
    emptyJpeg = await sceneImage('door', EMPTY_FRAME);
    // A camera-like HTTP server the local server fetches URL inputs from.
    images = createServer((req, res) => {
      if (req.url === '/person.jpg') res.writeHead(200, { 'content-type': 'image/jpeg' }).end(personJpeg);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    imagesUrl = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
  });
  after(async () => {
    hooks.remove('onComplete.roboflowWorkflowTest');
    await server.stop();
    await new Promise<void>((resolve) => images.close(() => resolve()));
  });
  beforeEach(async () => {
    doneCalls.length = 0;
    await server.resetFaults();
  });
  afterEach(() => helper.unload());

  const flow = (props: Record<string, unknown> = {}, config: FlowNode = configNode(server.url)): FlowNode[] =>
    onTab([
      config,
      {
        id: 'wf',
        type: 'roboflow-workflow',
        name: '',
        roboflow: 'cfg',
        workspace: 'demo',
        workspaceType: 'str',
        workflow: 'detect-colors',
        workflowType: 'str',
        workflowSpec: '',
        model: '',
        imageInput: 'image',
        parameters: '{"class_names": {"red": "person", "green": "door"}}',
        workflowVersion: '',
        disableSinks: false,
        concurrency: 4,
        queueSize: 50,
        filter: false,
        classes: '',
        minConfidence: 0.5,
        version: 1,
        wires: [['out'], ['rest']],
        ...props,
      },
      { id: 'out', type: 'helper' },
      { id: 'rest', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: ['wf'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
      // done() without an error reaches Complete nodes; done(error) reaches Catch nodes.
      { id: 'completer', type: 'complete', scope: ['wf'], uncaught: false, wires: [['completed']] },
      { id: 'completed', type: 'helper' },
    ]);

  async function load(props: Record<string, unknown> = {}, config?: FlowNode, creds: Record<string, unknown> = credentials) {
    await helper.load(ALL_NODES, flow(props, config), creds);
    const node = helper.getNode('wf');
    return {
      node,
      out: collect(helper.getNode('out')),
      rest: collect(helper.getNode('rest')),
      caught: collect(helper.getNode('caught')),
      completed: collect(helper.getNode('completed')),
      statuses: recordStatuses(node),
      warnings: recordWarnings(node),
    };
  }

  it('a JPEG Buffer in: the outputs in msg.payload, image outputs as JPEG Buffers in msg.images, detections in msg.predictions, the rest untouched', async () => {
    const { node, out, completed, statuses } = await load();
    const picture = Buffer.from('the original picture');
    node.receive({ payload: personJpeg, topic: 'front door', image: picture });
    await eventually(() => out.length === 1, 10_000, 'the result');
    const msg = out[0] as NodeMessage & { images: Record<string, Buffer>; predictions: Box[]; image: Buffer };
    const payload = msg.payload as { count: number; predictions: { predictions: Box[] }; output_image?: unknown };
    assert.equal(payload.count, 2);
    assert.deepEqual(payload.predictions.predictions.map((p) => p.class).sort(), ['door', 'person']);
    assert.equal(payload.output_image, undefined, 'the image output is not in the payload');
    assert.ok(!hasBase64Text(msg.payload), 'no base64 text in the payload');
    assert.ok(Buffer.isBuffer(msg.images.output_image));
    const drawn = await sharp(msg.images.output_image).metadata();
    assert.deepEqual([drawn.format, drawn.width, drawn.height], ['jpeg', 640, 360]);
    assert.deepEqual(msg.predictions.map((p) => p.class).sort(), ['door', 'person']);
    assert.equal(msg.topic, 'front door');
    assert.equal(msg.image, picture, 'msg.image untouched');
    await eventually(() => completed.length === 1, 5_000, 'done() called');
    await eventually(() => statuses.some((s) => s.text !== undefined && /^2 detections · \d+ ms$/.test(String(s.text))), 5_000, 'the done status');
  });

  it('every input form: PNG, WebP, base64 text, a data: URL, an http URL (fetched by the server), a file path, and an array in one request', async () => {
    const { node, out, caught } = await load({ parameters: '' });
    const png = await sceneImage('door', PERSON_FRAME, 'png');
    const webp = await sharp(png).webp().toBuffer();
    const path = join(dir, 'snapshot.jpg');
    writeFileSync(path, personJpeg);
    const forms: Array<[string, unknown]> = [
      ['png', png],
      ['webp', webp],
      ['base64', personJpeg.toString('base64')],
      ['data-url', `data:image/jpeg;base64,${personJpeg.toString('base64')}`],
      ['url', `${imagesUrl}/person.jpg`],
      ['path', path],
    ];
    const before = await server.requestCount('workflow_inference');
    for (const [topic, payload] of forms) node.receive({ topic, payload });
    await eventually(() => out.length === forms.length || caught.length > 0, 15_000, 'a result per form');
    assert.deepEqual(caught, []);
    for (const msg of out) {
      assert.equal((msg.payload as { count: number }).count, 2, `${msg.topic}: both objects found`);
      assert.deepEqual((msg as { predictions: Box[] }).predictions.map((p) => p.class).sort(), ['green', 'red'], String(msg.topic));
    }
    assert.deepEqual(out.map((msg) => msg.topic).sort(), forms.map(([topic]) => topic).sort());

    node.receive({ topic: 'array', payload: [personJpeg, `${imagesUrl}/person.jpg`, emptyJpeg] });
    await eventually(() => out.length === forms.length + 1, 10_000, 'the array result');
    const batch = out[forms.length] as NodeMessage & { images: Array<Record<string, Buffer>>; predictions: Box[][] };
    assert.deepEqual(
      (batch.payload as Array<{ count: number }>).map((p) => p.count),
      [2, 2, 1],
    );
    assert.equal(batch.images.length, 3);
    assert.ok(batch.images.every((set) => Buffer.isBuffer(set.output_image)));
    assert.deepEqual(
      batch.predictions.map((list) => list.length),
      [2, 2, 1],
    );
    assert.equal((await server.requestCount('workflow_inference')) - before, forms.length + 1, 'one request per message, the array included');
  });

  it('a trained model (project/version, as roboflow-red takes it) and an inline specification', async () => {
    const first = await load({ model: 'colors/1' });
    first.node.receive({ payload: personJpeg });
    first.node.receive({ payload: `${imagesUrl}/person.jpg` });
    await eventually(() => first.out.length === 2, 10_000, 'model results');
    for (const msg of first.out) {
      const payload = msg.payload as { predictions: Box[]; image: { width: number; height: number }; inference_id: string; time: number };
      assert.deepEqual(payload.image, { width: 640, height: 360 });
      assert.deepEqual(payload.predictions.map((p) => p.class).sort(), ['green', 'red']);
      assert.equal(typeof payload.inference_id, 'string');
      assert.deepEqual((msg as { predictions: Box[] }).predictions, payload.predictions);
    }
    await helper.unload();

    const specification = {
      version: '1.0',
      inputs: [{ type: 'WorkflowImage', name: 'picture' }],
      steps: [{ type: 'local/image_stats@v1', name: 'stats', image: '$inputs.picture' }],
      outputs: [{ type: 'JsonField', name: 'size', selector: '$steps.stats.width' }],
    };
    const second = await load({ workflowSpec: JSON.stringify(specification), imageInput: 'picture', workspace: '', workflow: '' });
    second.node.receive({ payload: personJpeg });
    await eventually(() => second.out.length === 1, 10_000, 'inline result');
    assert.deepEqual(second.out[0].payload, { size: 640 });
    assert.deepEqual((second.out[0] as { images: object }).images, {});
    assert.equal((second.out[0] as { predictions?: unknown }).predictions, undefined, 'no detections, no msg.predictions');
  });

  it("msg.parameters override the node's for one message", async () => {
    const { node, out } = await load();
    node.receive({ payload: personJpeg, parameters: { class_names: { red: 'visitor' } } });
    node.receive({ payload: personJpeg, parameters: '{"colors": ["green"]}' });
    await eventually(() => out.length === 2, 10_000, 'two results');
    const classes = out.map((msg) =>
      (msg as { predictions: Box[] }).predictions
        .map((p) => p.class)
        .sort()
        .join(','),
    );
    // A message's parameter replaces the node's whole value (class_names here), others stay.
    assert.deepEqual(classes.sort(), ['door', 'green,visitor']);
  });

  it('the detection filter: images with a person at the confidence go to output 1 (with msg.matches), the rest to output 2', async () => {
    const { node, out, rest, completed } = await load({ filter: true, classes: 'person', minConfidence: 0.5 });
    node.receive({ payload: personJpeg, topic: 'person' });
    node.receive({ payload: emptyJpeg, topic: 'empty' });
    await eventually(() => out.length + rest.length === 2, 10_000, 'both routed');
    assert.deepEqual(
      out.map((msg) => msg.topic),
      ['person'],
    );
    assert.deepEqual(
      rest.map((msg) => msg.topic),
      ['empty'],
    );
    const matches = (out[0] as { matches: Box[] }).matches;
    assert.deepEqual(
      matches.map((m) => m.class),
      ['person'],
    );
    assert.deepEqual((rest[0] as { matches: Box[] }).matches, []);
    assert.deepEqual(
      (rest[0] as { predictions: Box[] }).predictions.map((p) => p.class),
      ['door'],
      'the other detections are still there',
    );
    await eventually(() => completed.length === 2, 5_000, 'done for both');
    await helper.unload();

    // Above every detection's confidence (0.99 for a solid box): nothing passes.
    const strict = await load({ filter: true, classes: 'person', minConfidence: 0.995 });
    strict.node.receive({ payload: personJpeg });
    await eventually(() => strict.rest.length === 1, 10_000, 'sent to output 2');
    assert.equal(strict.out.length, 0);
    await helper.unload();

    // Any class, with a model: the door alone counts.
    const anyClass = await load({ model: 'colors/1', filter: true, classes: '', minConfidence: 0.5 });
    anyClass.node.receive({ payload: emptyJpeg });
    await eventually(() => anyClass.out.length === 1, 10_000, 'a match of any class');
    assert.deepEqual(
      (anyClass.out[0] as { matches: Box[] }).matches.map((m) => m.class),
      ['green'],
    );
  });

  it('bounded: 3 in flight, 12 queued, the oldest waiting dropped with one warning; done() for every message', async () => {
    await server.faults({ slowFrameMs: 400 });
    const { node, out, completed, caught, statuses, warnings } = await load({ concurrency: 3, queueSize: 12 });
    const before = await server.requestCount('workflow_inference');
    for (let i = 0; i < 20; i++) node.receive({ payload: personJpeg, topic: String(i) });
    await eventually(() => statuses.some((s) => s.text === '3 in flight · 12 queued'), 5_000, 'the busy status');
    await eventually(() => completed.length === 20, 30_000, 'done() for all twenty');
    assert.equal(doneCalls.length, 20, 'done() exactly once per message');
    await eventually(() => out.length === 15, 5_000, 'fifteen results');
    assert.deepEqual(caught, []);
    // Messages 0-2 went at once; 3-7 were the oldest waiting when 15-19 arrived.
    assert.deepEqual(
      out.map((msg) => Number(msg.topic)).sort((a, b) => a - b),
      [0, 1, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
    );
    assert.equal((await server.requestCount('workflow_inference')) - before, 15);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^Queue full \(12 waiting\): dropped the oldest waiting image \(1 since the last warning, 1 in all\)/);
    assert.ok(
      statuses.every((s) => !String(s.text).includes('in flight') || /^[0-3] in flight · (\d|1[0-2]) queued$/.test(String(s.text))),
      'never more than 3 in flight or 12 queued',
    );
  });

  it('queue 0 (no waiting room): a message with a free slot runs, one that finds every slot busy is dropped with one warning', async () => {
    await server.faults({ slowFrameMs: 400 });
    const { node, out, completed, caught, warnings } = await load({ concurrency: 2, queueSize: 0 });
    const before = await server.requestCount('workflow_inference');
    for (let i = 0; i < 3; i++) node.receive({ payload: personJpeg, topic: String(i) });
    await eventually(() => completed.length === 3, 20_000, 'done() for all three');
    assert.equal(doneCalls.length, 3, 'done() exactly once per message');
    await eventually(() => out.length === 2, 5_000, 'two results');
    assert.deepEqual(caught, []);
    // Messages 0 and 1 took the two slots; message 2 found both busy and no room to wait.
    assert.deepEqual(
      out.map((msg) => Number(msg.topic)).sort((a, b) => a - b),
      [0, 1],
    );
    assert.equal((await server.requestCount('workflow_inference')) - before, 2);
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /^All 2 requests busy and Queue is 0: dropped the image \(1 since the last warning, 1 in all\)/);
  });

  it('a redeploy cancels what is in flight and releases what waits: done() for each, nothing sent, no error', async () => {
    await server.faults({ slowFrameMs: 2_000 });
    const before = await server.requestCount('workflow_inference');
    const { node, out, caught } = await load({ concurrency: 1, queueSize: 5 });
    for (let i = 0; i < 4; i++) node.receive({ payload: personJpeg, topic: String(i) });
    await eventually(async () => (await server.requestCount('workflow_inference')) > before, 5_000, 'the first request');
    await helper.setFlows(onTab([configNode(server.url)]), 'full', credentials);
    await eventually(() => doneCalls.length === 4, 2_000, 'done() for all four');
    assert.deepEqual(
      doneCalls.map((call) => call.error),
      [undefined, undefined, undefined, undefined],
      'released, not failed',
    );
    assert.deepEqual(doneCalls.map((call) => call.topic).sort(), ['0', '1', '2', '3']);
    assert.deepEqual(caught, []);
    assert.deepEqual(out, []);
  });

  describe('errors: one clear message on the status and to Catch; the next message works', () => {
    async function expectError(props: Record<string, unknown>, payload: unknown, pattern: RegExp, options: { config?: FlowNode; creds?: Record<string, unknown> } = {}) {
      await helper.unload();
      doneCalls.length = 0;
      const { node, out, caught, completed, statuses } = await load(props, options.config, options.creds);
      node.receive({ payload, topic: 'bad' });
      await eventually(() => caught.length === 1, 15_000, 'the error');
      const error = (caught[0] as { error: { message: string } }).error;
      assert.match(error.message, pattern);
      assert.equal(caught[0].topic, 'bad', 'Catch gets the message');
      await eventually(() => statuses.some((s) => s.fill === 'red'), 2_000, 'a red status');
      assert.equal(completed.length, 0, 'done(error), not done()');
      assert.equal(doneCalls.length, 1);
      assert.ok(doneCalls[0].error instanceof Error);
      return { node, out, caught };
    }

    it('a wrong API key', async () => {
      await expectError({}, personJpeg, /^RoboflowError: API key rejected \(401\): check the API key/, { creds: { cfg: { apiKey: WRONG_KEY } } });
    });

    it('an unknown workflow', async () => {
      await expectError({ workflow: 'no-such-workflow' }, personJpeg, /^RoboflowError: Not found \(404\): check the workspace and workflow id, or the model id/);
    });

    it('an unknown model', async () => {
      await expectError({ model: 'no-such-model/7' }, personJpeg, /^RoboflowError: Not found \(404\)/);
    });

    it('not an image (refused before sending), then an image works', async () => {
      const before = await server.requestCount('workflow_inference');
      const { node, out } = await expectError({}, Buffer.from('this is not a picture at all'), /^RoboflowError: Not an image: msg.payload is not; send a JPEG, PNG or WebP image$/);
      assert.equal(await server.requestCount('workflow_inference'), before, 'nothing was sent');
      node.receive({ payload: personJpeg });
      await eventually(() => out.length === 1, 10_000, 'the next image is handled');
    });

    it('a 40 MB image (a file, or base64 text): refused at once, never sent', async () => {
      // (A 40 MB Buffer is refused the same way, in test/lib/inference.test.ts: here the
      // suite's secret scan would spend a minute turning it into JSON.)
      const huge = Buffer.alloc(40 * 1024 * 1024);
      huge.set([0xff, 0xd8, 0xff, 0xe0]);
      const path = join(dir, 'huge.jpg');
      writeFileSync(path, huge);
      const before = await server.requestCount('workflow_inference');
      await expectError({}, path, /^RoboflowError: Image too large: .*huge\.jpg is 40\.0 MB, the limit is 20\.0 MB \(Roboflow's hosted API accepts up to 20 MB\): resize or recompress it first$/);
      await expectError({}, huge.toString('base64'), /^RoboflowError: Image too large: msg.payload is 40\.0 MB, the limit is 20\.0 MB/);
      assert.equal(await server.requestCount('workflow_inference'), before, 'nothing was sent');
    });

    it('a URL the server cannot fetch', async () => {
      await expectError({}, `http://127.0.0.1:${await closedPort()}/snapshot.jpg`, /^RoboflowError: Request rejected \(400\): Failed to assemble `image`.*Could not load image from url/s);
    });

    it('a missing file and a wrong payload type', async () => {
      await expectError({}, join(dir, 'missing.jpg'), /^RoboflowError: No such image file: .*missing\.jpg/);
      await expectError({}, 42, /^RoboflowError: Unsupported image in msg.payload \(number\)/);
    });

    it('the server gone (after retries)', async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      await expectError({}, personJpeg, /^RoboflowError: Cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)/, { config: configNode(url) });
    });

    it('no config node', async () => {
      await expectError({ roboflow: '' }, personJpeg, /^RoboflowError: No Roboflow config selected/);
    });

    it('bad settings show at once (non-JSON parameters, concurrency out of range)', async () => {
      await helper.load(ALL_NODES, flow({ parameters: '{not json', concurrency: 0 }), credentials);
      const node = helper.getNode('wf');
      const caught = collect(helper.getNode('caught'));
      node.receive({ payload: personJpeg });
      await eventually(() => caught.length === 1, 5_000, 'the error');
      assert.match((caught[0] as { error: { message: string } }).error.message, /At once must be a whole number from 1 to 64 \(got 0\)/);
    });
  });

  it('retries a 503 (honouring Retry-After), then answers', async () => {
    await server.faults({ failNext: { workflow_inference: { status: 503, count: 1 } } });
    const before = await server.requestCount('workflow_inference');
    const { node, out, caught } = await load();
    node.receive({ payload: personJpeg });
    await eventually(() => out.length === 1 || caught.length > 0, 15_000, 'the answer after a retry');
    assert.deepEqual(caught, []);
    assert.equal((await server.requestCount('workflow_inference')) - before, 2);
  });

  it('a flow saved without version or the newer properties still runs (migration)', async () => {
    await helper.load(
      ALL_NODES,
      onTab([configNode(server.url), { id: 'wf', type: 'roboflow-workflow', roboflow: 'cfg', workspace: 'demo', workflow: 'image-stats', wires: [['out']] }, { id: 'out', type: 'helper' }]),
      credentials,
    );
    const out = collect(helper.getNode('out'));
    helper.getNode('wf').receive({ payload: personJpeg });
    await eventually(() => out.length === 1, 10_000, 'the result');
    assert.deepEqual(Object.keys(out[0].payload as object).sort(), ['brightness', 'height', 'width']);
  });
});
