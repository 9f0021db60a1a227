import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, onTab, recordStatuses, useUserDir, type FlowNode } from '../helpers/node-red-helper';

interface StoredEvent {
  eventId: string;
  eventType: string;
  useCaseId: string;
  eventData?: Record<string, unknown>;
  customMetadata?: Record<string, unknown>;
  deviceId?: string;
  images?: Array<{ sourceId: string; objectDetections?: unknown[] }>;
}

describe('Node-RED: roboflow-vision-event', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let userDir: string;
  const credentials = { cfg: { apiKey: API_KEY } };

  before(async () => {
    userDir = useUserDir();
    server = await startLocalServer(['--cameras', '', '--use-cases', 'demo,Front Door']);
  });
  after(() => server.stop());
  beforeEach(() => server.resetFaults());
  afterEach(() => helper.unload());

  const events = async (): Promise<StoredEvent[]> => (await server.json<{ events: StoredEvent[] }>('/local/vision-events')).events;
  const flow = (props: Record<string, unknown> = {}, url = server.url): FlowNode[] =>
    onTab([
      configNode(url),
      {
        id: 'event',
        type: 'roboflow-vision-event',
        name: '',
        roboflow: 'cfg',
        useCase: 'demo',
        useCaseType: 'str',
        createUseCase: false,
        eventType: 'safety_alert',
        deviceId: 'porch',
        streamId: '',
        cooldown: 0,
        version: 1,
        wires: [['out']],
        ...props,
      },
      { id: 'out', type: 'helper' },
      { id: 'catcher', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper' },
    ]);

  it('logs an event per message: payload split into event data and metadata, image and detections attached, msg.eventId out', async () => {
    await helper.load(ALL_NODES, flow(), credentials);
    const node = helper.getNode('event');
    const statuses = recordStatuses(node);
    const out = collect(helper.getNode('out'));
    const image = await sceneImage('door', 45);
    const predictions = { image: { width: 640, height: 360 }, predictions: [{ x: 490, y: 235, width: 60, height: 150, confidence: 0.99, class: 'person', class_id: 0, detection_id: 'd1' }] };
    node.receive({
      payload: { severity: 'high', alertType: 'person', camera: 'porch', zone: { name: 'door' } },
      image: { type: 'base64', value: image.toString('base64') },
      predictions,
      topic: 'detect-colors',
    });
    await eventually(() => out.length === 1, 5_000, 'the output message');
    const eventId = out[0].eventId as string;
    assert.match(eventId, /^[0-9a-f-]{36}$/);
    assert.equal((out[0].payload as { camera: string }).camera, 'porch', 'the input message goes on');
    const stored = await eventually(async () => (await events()).find((e) => e.eventId === eventId), 10_000, 'the event on the server');
    assert.equal(stored.eventType, 'safety_alert');
    assert.equal(stored.useCaseId, 'demo');
    assert.deepEqual(stored.eventData, { severity: 'high', alertType: 'person' });
    assert.deepEqual(stored.customMetadata, { camera: 'porch', zone: '{"name":"door"}' });
    assert.equal(stored.deviceId, 'porch');
    assert.equal(stored.images?.length, 1);
    assert.deepEqual(stored.images?.[0].objectDetections, [{ class: 'person', x: 490, y: 235, width: 60, height: 150, confidence: 0.99 }]);
    const uploaded = await fetch(`${server.url}/local/vision-events/images/${stored.images?.[0].sourceId}`);
    assert.ok(Buffer.from(await uploaded.arrayBuffer()).equals(image), 'the image arrived intact');
    await eventually(() => statuses.some((s) => s.text === 'sent 1'), 5_000, 'status sent 1');
  });

  it('the cooldown keeps a 30 fps flood to one event a second', async () => {
    await helper.load(ALL_NODES, flow({ cooldown: 1, deviceId: 'flood' }), credentials);
    const node = helper.getNode('event');
    const out = collect(helper.getNode('out'));
    const started = Date.now();
    while (Date.now() - started < 2_100) {
      node.receive({ payload: { n: 1 } });
      await new Promise((resolve) => setTimeout(resolve, 33));
    }
    assert.ok(out.length >= 2 && out.length <= 3, `${out.length} events in 2.1 s`);
    await eventually(async () => (await events()).filter((e) => e.deviceId === 'flood').length === out.length, 10_000, 'all delivered');
  });

  it('an outage loses nothing: events wait, then arrive exactly once (batched)', async () => {
    await server.faults({ failNext: { vision_events: { status: 503, count: 1000 }, vision_events_batch: { status: 503, count: 1000 } } });
    await helper.load(ALL_NODES, flow({ deviceId: 'outage' }), credentials);
    const node = helper.getNode('event');
    const statuses = recordStatuses(node);
    const out = collect(helper.getNode('out'));
    for (let i = 0; i < 40; i++) node.receive({ payload: { i } });
    await eventually(() => out.length === 40, 5_000, '40 messages passed on');
    await eventually(() => statuses.some((s) => s.fill === 'yellow' && /retrying \(\d+ queued\)/.test(s.text ?? '')), 10_000, 'retrying status');
    const requestsBefore = (await server.json<{ requests: number }>('/local/vision-events')).requests;
    await server.resetFaults();
    await eventually(async () => (await events()).filter((e) => e.deviceId === 'outage').length === 40, 20_000, 'all 40 delivered');
    const stored = (await events()).filter((e) => e.deviceId === 'outage');
    assert.deepEqual(new Set(stored.map((e) => e.eventId)), new Set(out.map((m) => m.eventId)), 'the same ids: no duplicate, none lost');
    const requests = (await server.json<{ requests: number }>('/local/vision-events')).requests - requestsBefore;
    assert.ok(requests <= 2, `sent in ${requests} requests`);
  });

  it('events still queued at a restart are delivered after it', async () => {
    await server.faults({ errorRate: 1 });
    await helper.load(ALL_NODES, flow({ deviceId: 'restart' }), credentials);
    const node = helper.getNode('event');
    const out = collect(helper.getNode('out'));
    for (let i = 0; i < 5; i++) node.receive({ payload: { i }, image: await sceneImage('two-squares', i) });
    await eventually(() => out.length === 5, 5_000, 'accepted');
    await helper.unload();
    const queueFile = join(userDir, 'roboflow', 'vision-events', 'event', 'outbox.json');
    assert.ok(existsSync(queueFile), 'the queue is on disk');
    assert.equal((JSON.parse(readFileSync(queueFile, 'utf8')) as unknown[]).length, 5);
    await server.resetFaults();
    await helper.load(ALL_NODES, flow({ deviceId: 'restart' }), credentials);
    await eventually(async () => (await events()).filter((e) => e.deviceId === 'restart').length === 5, 20_000, 'delivered after the restart');
    const stored = (await events()).filter((e) => e.deviceId === 'restart');
    assert.ok(
      stored.every((e) => e.images?.length === 1),
      'images survived the restart too',
    );
  });

  it('resolves a use case given by name', async () => {
    await helper.load(ALL_NODES, flow({ useCase: 'Front Door', deviceId: 'by-name' }), credentials);
    helper.getNode('event').receive({ payload: { a: 1 } });
    const stored = await eventually(async () => (await events()).find((e) => e.deviceId === 'by-name'), 10_000, 'event');
    assert.equal(stored.useCaseId, 'front-door');
  });

  // Bad messages: see test/reliability/bad-input.test.ts.
  it('an unknown use case: a clear error naming it', async () => {
    await helper.load(ALL_NODES, flow({ useCase: 'nowhere' }), credentials);
    const caught = collect(helper.getNode('caught'));
    helper.getNode('event').receive({ payload: {} });
    await eventually(() => caught.length === 1, 10_000, 'the error');
    assert.match((caught[0].error as { message: string }).message, /use case "nowhere" does not exist/);
  });

  it('an event the service rejects later is reported against its message', async () => {
    await helper.load(ALL_NODES, flow({ deviceId: 'late' }), credentials);
    const node = helper.getNode('event');
    const caught = collect(helper.getNode('caught'));
    // Any date passes the node's own checks; the service refuses events over 30 days old, later, from the queue.
    node.receive({ payload: { n: 1 }, timestamp: Date.now() - 31 * 24 * 3600 * 1000, marker: 'old-one' });
    await eventually(() => caught.length === 1, 10_000, 'the rejection');
    assert.match((caught[0].error as { message: string }).message, /rejected: .*more than 30 days in the past/);
    assert.equal(caught[0].marker, 'old-one');
  });
});
