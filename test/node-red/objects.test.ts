import { strict as assert } from 'node:assert';
import type { NodeMessage } from 'node-red';
import sharp from 'sharp';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, loggedWarnings, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';

/**
 * Roboflow Objects after a Roboflow Stream node, on the local server's door scene (a red
 * "person" walks to a green door, waits, leaves; 10 s at 10 fps; paths in
 * server/media/scenes.ts): one alert with a snapshot, the object events, the counts.
 */
describe('Node-RED: roboflow-objects', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let live: RunningServer;
  const credentials = { cfg: { apiKey: API_KEY } };
  const DOOR = JSON.stringify({
    zones: [
      {
        name: 'door',
        polygon: [
          [430, 200],
          [640, 200],
          [640, 360],
          [430, 360],
        ],
      },
    ],
    lines: [{ name: 'threshold', from: [300, 150], to: [300, 360] }],
  });

  before(async () => {
    useUserDir();
    server = await startLocalServer(['--cameras', '']);
    live = await startLocalServer(['--rtsp-port', '0', '--cameras', 'door']);
  });
  after(async () => {
    await server.stop();
    await live.stop();
  });
  afterEach(() => helper.unload());

  async function flow(stream: Record<string, unknown>, objects: Record<string, unknown>, videoWired: boolean): Promise<FlowNode[]> {
    return onTab([
      configNode(server.url),
      {
        id: 'stream',
        type: 'roboflow-stream',
        roboflow: 'cfg',
        workspace: 'demo',
        workspaceType: 'str',
        workflow: 'detect-colors',
        workflowType: 'str',
        parameters: JSON.stringify({ class_names: { red: 'person', green: 'door' } }),
        source: 'file',
        url: await sceneVideo('door'),
        urlType: 'str',
        start: 'deploy',
        version: 1,
        dataOutputs: 'predictions',
        streamOutputs: '',
        wires: [['objects'], videoWired ? ['objects'] : []],
        ...stream,
      },
      {
        id: 'objects',
        type: 'roboflow-objects',
        clock: 'video',
        classes: 'person',
        areas: DOOR,
        alertZones: 'door',
        version: 1,
        wires: [['alerts'], ['events'], ['counts']],
        ...objects,
      },
      { id: 'alerts', type: 'helper' },
      { id: 'events', type: 'helper' },
      { id: 'counts', type: 'helper' },
    ]);
  }

  async function pixel(jpeg: Buffer, x: number, y: number): Promise<number[]> {
    const { data, info } = await sharp(jpeg).raw().toBuffer({ resolveWithObject: true });
    const offset = (Math.round(y) * info.width + Math.round(x)) * info.channels;
    return Array.from(data.subarray(offset, offset + 3));
  }

  it("one alert when the person enters the door zone, with a snapshot; the object events and counts at the times the scene's paths give", async () => {
    await helper.load(ALL_NODES, await flow({ streamOutputs: 'output_image' }, {}, true), credentials);
    const alerts = collect(helper.getNode('alerts'));
    const events = collect(helper.getNode('events'));
    const counts = collect(helper.getNode('counts'));
    const statuses = recordStatuses(helper.getNode('objects'));
    await eventually(() => events.some((msg) => msg.topic === 'leave'), 45_000, 'the person leaving at the end of the file');

    // Times in seconds into the video (video clock): worked out from the scene's paths.
    assert.deepEqual(
      events.map(
        (msg) =>
          `${msg.topic} ${(msg.payload as { time: number }).time}${(msg.payload as { zone?: string }).zone ? ` ${(msg.payload as { zone: string }).zone}` : ''}${(msg.payload as { direction?: string }).direction ? ` ${(msg.payload as { direction: string }).direction}` : ''}`,
      ),
      ['enter 0', 'line-cross 2.3 left-to-right', 'zone-enter 3.5 door', 'zone-leave 7.3 door', 'line-cross 7.9 right-to-left', 'leave 8.9'],
    );
    assert.equal(alerts.length, 1, 'one alert for one visit');
    const alert = alerts[0] as NodeMessage & {
      image?: Buffer;
      predictions?: { predictions: Array<{ x: number; y: number; width: number; height: number; class: string }> };
      object?: { zones: string[] };
    };
    assert.deepEqual(alert.payload, {
      alertType: 'person',
      description: 'person in door',
      objectId: 'o1',
      class: 'person',
      confidence: (alert.payload as { confidence: number }).confidence,
      zones: 'door',
      dwell: 3.5,
    });
    assert.deepEqual(alert.object?.zones, ['door']);
    const box = alert.predictions!.predictions[0];
    assert.equal(box.class, 'person');

    // A snapshot is attached (its content is checked with a live camera below: a file
    // processed faster than real time returns its video out of step with the results).
    const image = alert.image!;
    assert.ok(Buffer.isBuffer(image) && image[0] === 0xff && image[1] === 0xd8, 'msg.image is a JPEG');
    const meta = await sharp(image).metadata();
    assert.deepEqual([meta.width, meta.height], [640, 360]);

    const doorCounts = counts.map((msg) => (msg.payload as { zones: { door: { count: number } } }).zones.door.count);
    assert.ok(doorCounts.includes(1) && doorCounts.at(-1) === 0, `the door count goes to 1 and back to 0: ${doorCounts}`);
    assert.match(statuses.at(-1)?.text ?? '', /^0 objects, 1 alerts · door: 0$/);
  });

  it('live camera: the snapshot is the returned video frame with the boxes drawn, the alerted person in red', async () => {
    const camera = (await live.cameras()).find((c) => c.name === 'door')!;
    await helper.load(
      ALL_NODES,
      onTab([
        configNode(live.url),
        {
          id: 'stream',
          type: 'roboflow-stream',
          roboflow: 'cfg',
          workspace: 'demo',
          workspaceType: 'str',
          workflow: 'detect-colors',
          workflowType: 'str',
          parameters: JSON.stringify({ class_names: { red: 'person', green: 'door' } }),
          source: 'rtsp',
          url: camera.rtsp_url,
          urlType: 'str',
          start: 'deploy',
          version: 1,
          dataOutputs: 'predictions',
          streamOutputs: 'output_image',
          wires: [['objects'], ['objects']],
        },
        // An alert 4.5 s into a visit, in the door zone: the person stands still there from 4.0 s
        // to 6.9 s, so the frame of the alert shows them where the box says even if the video
        // runs a little behind the results. They are gone for 1 s between visits: leaving after
        // 0.5 s unseen, each visit of the looping camera is a new object with its own alert.
        { id: 'objects', type: 'roboflow-objects', clock: 'arrival', classes: 'person', areas: DOOR, alertZones: 'door', alertDwell: 4.5, leaveAfter: 0.5, version: 1, wires: [['alerts'], [], []] },
        { id: 'alerts', type: 'helper' },
      ]),
      credentials,
    );
    const alerts = collect(helper.getNode('alerts'));
    // States, not timing: the snapshot needs a returned video frame at the node, and on a busy
    // machine the first alert may come before the first frame. Count from the first frame on.
    await eventually(async () => (await helper.request().get('/roboflow-objects/objects/frame')).status === 200, 45_000, 'a returned video frame at the Objects node');
    const before = alerts.length;
    await eventually(() => alerts.length > before, 45_000, 'an alert from the live camera once frames arrive');
    const alert = alerts[before] as NodeMessage & { image?: Buffer; predictions: { predictions: Array<{ x: number; y: number; width: number; height: number }> } };
    const image = alert.image!;
    assert.ok(Buffer.isBuffer(image) && image[0] === 0xff && image[1] === 0xd8, 'msg.image is a JPEG');
    const meta = await sharp(image).metadata();
    assert.deepEqual([meta.width, meta.height], [640, 360]);
    const box = alert.predictions.predictions[0];
    const [r, g, b] = await pixel(image, box.x, box.y);
    assert.ok(r > 150 && g < 100 && b < 100, `the person is in the snapshot where the alert says: ${[r, g, b]}`);
    const edge = await pixel(image, box.x - box.width / 2 + 2, box.y - box.height / 4);
    assert.ok(edge[0] > 200 && edge[1] < 120, `the alerted object's box is drawn: ${edge}`);
  });

  it("uses the workflow's rendered image as the snapshot when the results carry one", async () => {
    await helper.load(ALL_NODES, await flow({ dataOutputs: 'predictions, output_image' }, {}, false), credentials);
    const alerts = collect(helper.getNode('alerts'));
    await eventually(() => alerts.length === 1, 45_000, 'the alert');
    const image = (alerts[0] as { image?: Buffer }).image!;
    assert.ok(Buffer.isBuffer(image) && image[0] === 0xff && image[1] === 0xd8);
    const box = (alerts[0] as unknown as { predictions: { predictions: Array<{ x: number; y: number }> } }).predictions.predictions[0];
    const [r, g, b] = await pixel(image, box.x, box.y);
    assert.ok(r > 150 && g < 100 && b < 100, `the person is in the rendered frame: ${[r, g, b]}`);
  });

  it('a flickering detection (missing for two frames) gives one alert, not two', async () => {
    await helper.load(ALL_NODES, await flow({ url: await sceneVideo('flicker'), parameters: '' }, { classes: '', areas: '', alertZones: '' }, false), credentials);
    const alerts = collect(helper.getNode('alerts'));
    const events = collect(helper.getNode('events'));
    await eventually(() => events.some((msg) => msg.topic === 'leave'), 45_000, 'the end of the file');
    assert.deepEqual(
      events.map((msg) => msg.topic),
      ['enter', 'leave'],
    );
    assert.equal(alerts.length, 1);
  });

  it('zones that are not valid say so on the status and in the log; messages are dropped, nothing crashes', async () => {
    await helper.load(
      ALL_NODES,
      onTab([
        { id: 'objects', type: 'roboflow-objects', areas: '{"zones": [{"name": "door", "polygon": [[0, 0], [10, 0]]}]}', version: 1, wires: [['out'], ['out'], ['out']] },
        { id: 'out', type: 'helper' },
      ]),
      {},
    );
    const node = helper.getNode('objects');
    const out = collect(helper.getNode('out'));
    // Reported while the node was created (the helper's spies saw it).
    const spied = node as unknown as { status: { args: Array<[{ fill?: string; text?: string }]> }; error: { args: unknown[][] } };
    const status = spied.status.args.at(-1)?.[0];
    assert.equal(status?.fill, 'red');
    assert.match(status?.text ?? '', /^Zone "door" needs a "polygon" of at least 3/);
    assert.match(String(spied.error.args[0]?.[0]), /Zone "door" needs a "polygon" of at least 3 \[x, y\] points/);
    node.receive({ payload: { predictions: { predictions: [{ x: 5, y: 5, width: 2, height: 2, confidence: 1, class: 'cat' }] } } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(out, [], 'nothing is sent until the zones are fixed');
    assert.equal(spied.error.args.length, 1, 'said once, not once per message');
  });

  it('a message without detections gets one clear error and the next message is handled', async () => {
    await helper.load(
      ALL_NODES,
      onTab([
        { id: 'objects', type: 'roboflow-objects', clock: 'arrival', version: 1, wires: [[], ['events'], []] },
        { id: 'events', type: 'helper' },
        { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
        { id: 'caught', type: 'helper' },
      ]),
      {},
    );
    const node = helper.getNode('objects');
    const caught = collect(helper.getNode('caught'));
    const events = collect(helper.getNode('events'));
    node.receive({ payload: { count: 2 } });
    await eventually(() => caught.length === 1, 5_000, 'the error for Catch');
    assert.match((caught[0] as { error: { message: string } }).error.message, /No detections in msg\.payload\.predictions/);
    node.receive({ payload: { predictions: { image: { width: 100, height: 100 }, predictions: [{ x: 50, y: 50, width: 10, height: 10, confidence: 0.9, class: 'cat' }] } } });
    await eventually(() => events.length === 1, 5_000, 'the enter event');
    assert.equal(events[0].topic, 'enter');
  });

  it('reset forgets every object and its alert: the same tracker id alerts again', async () => {
    await helper.load(
      ALL_NODES,
      onTab([
        { id: 'objects', type: 'roboflow-objects', clock: 'arrival', snapshot: false, version: 1, wires: [['alerts'], [], []] },
        { id: 'alerts', type: 'helper' },
      ]),
      {},
    );
    const node = helper.getNode('objects');
    const alerts = collect(helper.getNode('alerts'));
    const seen = { payload: { predictions: { predictions: [{ x: 50, y: 50, width: 10, height: 10, confidence: 0.9, class: 'cat', tracker_id: 4 }] } } };
    node.receive(seen);
    node.receive(seen);
    await eventually(() => alerts.length === 1, 5_000, 'the first alert');
    node.receive({ topic: 'reset' });
    node.receive(seen);
    await eventually(() => alerts.length === 2, 5_000, 'an alert after the reset');
    assert.deepEqual(
      alerts.map((msg) => (msg.payload as { objectId: string }).objectId),
      ['t4', 't4'],
    );
  });

  it('thousands of detections a frame: the most confident 1,000 are followed, said once in a warning', async () => {
    await helper.load(
      ALL_NODES,
      onTab([
        { id: 'objects', type: 'roboflow-objects', clock: 'arrival', snapshot: false, version: 1, wires: [[], [], ['counts']] },
        { id: 'counts', type: 'helper' },
      ]),
      {},
    );
    const node = helper.getNode('objects');
    const counts = collect(helper.getNode('counts'));
    const frame = (step: number): NodeMessage => ({
      payload: {
        predictions: {
          image: { width: 1920, height: 1080 },
          predictions: Array.from({ length: 4_000 }, (_, i) => ({ x: (i % 84) * 22 + step, y: Math.floor(i / 84) * 22, width: 20, height: 20, confidence: 0.3 + (i % 70) / 100, class: 'person' })),
        },
      },
    });
    node.receive(frame(0));
    node.receive(frame(2));
    node.receive({ topic: 'counts' });
    await eventually(() => counts.some((msg) => msg.topic === 'counts' && (msg.payload as { objects: number }).objects === 1_000) && counts.length >= 2, 10_000, 'the counts after both frames');
    const warnings = loggedWarnings('objects');
    assert.deepEqual(warnings, ['A frame had 4000 detections: only the 1000 most confident are followed (the rest are skipped, here and in later frames)']);
  });
});
