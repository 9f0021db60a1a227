import { strict as assert } from 'node:assert';
import { RoboflowError, VisionEventsClient, buildEvent, toObjectDetections } from '../../lib';
import { API_KEY, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage } from '../helpers/media';
import { secret } from '../helpers/secrets';

const WRONG_KEY = secret('wrong-key-456');

describe('Vision Events against the local server', function () {
  this.timeout(30_000);
  let server: RunningServer;
  let client: VisionEventsClient;

  before(async () => {
    server = await startLocalServer(['--cameras', '', '--use-cases', 'Front Door']);
    client = new VisionEventsClient({ connection: server.connection() });
  });
  after(async () => {
    await client.close();
    await server.stop();
  });
  beforeEach(() => server.resetFaults());

  const post = (path: string, body: unknown, key = API_KEY): Promise<Response> =>
    fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body: JSON.stringify(body) });

  it('resolves a use case by name or id, and creates one when allowed', async () => {
    assert.equal(await client.resolveUseCase('front door'), 'front-door');
    assert.equal(await client.resolveUseCase('front-door'), 'front-door');
    await assert.rejects(client.resolveUseCase('Loading Bay'), (error: RoboflowError) => error.code === 'not-found' && error.message.includes('does not exist'));
    assert.equal(await client.resolveUseCase('Loading Bay', { create: true }), 'loading-bay');
  });

  it('creates an event with an uploaded image and detections, and finds it by query', async () => {
    const image = await sceneImage('door', 45);
    const { sourceId, url } = await client.uploadImage(image, { name: 'snapshot.jpg', metadata: { camera: 'porch' } });
    const stored = await fetch(url!);
    assert.equal(stored.headers.get('content-type'), 'image/jpeg');
    assert.ok(Buffer.from(await stored.arrayBuffer()).equals(image));
    const event = buildEvent({
      useCaseId: 'front-door',
      eventType: 'safety_alert',
      eventData: { alertType: 'person', severity: 'high' },
      deviceId: 'porch-cam',
      images: [{ sourceId, objectDetections: toObjectDetections([{ class: 'person', x: 490, y: 235, width: 60, height: 150, confidence: 0.99 }]) }],
      customMetadata: { zone: 'door', count: 1 },
    });
    assert.deepEqual(await client.create(event), { eventId: event.eventId });
    const found = await client.query({ useCaseId: 'front-door', eventType: 'safety_alert' });
    assert.deepEqual(
      found.events.find((e) => e.eventId === event.eventId),
      event,
    );
  });

  it('batches: 250 events in 3 requests of at most 100; a retried id overwrites instead of duplicating', async () => {
    const before = (await server.json<{ requests: number }>('/local/vision-events')).requests;
    const events = Array.from({ length: 250 }, (_, i) => buildEvent({ use_case: 'front-door', metadata: { n: i }, deviceId: 'batch' }));
    const { created, eventIds } = await client.createBatch(events);
    assert.equal(created, 250);
    assert.deepEqual(
      eventIds,
      events.map((e) => e.eventId),
    );
    await client.createBatch(events.slice(0, 10));
    const after = await server.json<{ requests: number; events: Array<{ deviceId?: string }> }>('/local/vision-events');
    assert.equal(after.requests - before, 4);
    assert.equal(after.events.filter((e) => e.deviceId === 'batch').length, 250);
  });

  it('pages through query results', async () => {
    const page1 = await client.query({ useCaseId: 'front-door', deviceId: 'batch', limit: 100 });
    assert.equal(page1.events.length, 100);
    assert.equal(page1.hasMore, true);
    const page2 = await client.query({ useCaseId: 'front-door', deviceId: 'batch', limit: 200, cursor: page1.nextCursor! });
    assert.equal(page2.events.length, 150);
    assert.equal(page2.hasMore, false);
  });

  it('the key travels as a Bearer token only; a wrong key is 401', async () => {
    const wrong = new VisionEventsClient({ connection: server.connection({ apiKey: WRONG_KEY }) });
    await assert.rejects(wrong.create(buildEvent({ useCaseId: 'front-door' })), (error: RoboflowError) => error.code === 'invalid-api-key');
    await wrong.close();
    const inQuery = await fetch(`${server.url}/vision-events?api_key=${API_KEY}`, { method: 'POST', body: '{}' });
    assert.equal(inQuery.status, 401);
  });

  it('retries a transient failure; the same event id means no duplicate', async () => {
    await server.faults({ failNext: { vision_events: { status: 503, count: 1 } } });
    const event = buildEvent({ useCaseId: 'front-door', deviceId: 'retry-test' });
    await client.create(event);
    const all = await server.json<{ events: Array<{ deviceId?: string }> }>('/local/vision-events');
    assert.equal(all.events.filter((e) => e.deviceId === 'retry-test').length, 1);
  });

  describe('server-side validation (the rules of docs/protocol.md §5)', () => {
    const valid = (): Record<string, unknown> => ({ eventId: crypto.randomUUID(), eventType: 'custom', useCaseId: 'front-door', timestamp: new Date().toISOString() });
    const cases: Array<[string, (event: Record<string, unknown>) => void, RegExp]> = [
      ['missing eventId', (e) => delete e.eventId, /eventId must be a UUID v4/],
      ['unknown event type', (e) => (e.eventType = 'party'), /eventType must be one of/],
      ['unknown use case', (e) => (e.useCaseId = 'nowhere'), /does not exist/],
      ['timestamp not ISO', (e) => (e.timestamp = 'yesterday'), /ISO 8601/],
      ['timestamp too old', (e) => (e.timestamp = '2020-01-01T00:00:00Z'), /more than 30 days in the past/],
      ['timestamp in the future', (e) => (e.timestamp = new Date(Date.now() + 7_200_000).toISOString()), /in the future/],
      ['101 metadata keys', (e) => (e.customMetadata = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i]))), /at most 100/],
      ['nested metadata', (e) => (e.customMetadata = { a: { b: 1 } }), /flat values only/],
      ['long metadata string', (e) => (e.customMetadata = { a: 'x'.repeat(1001) }), /longer than 1000/],
      ['bad quality_check result', (e) => Object.assign(e, { eventType: 'quality_check', eventData: { result: 'maybe' } }), /result must be one of pass, fail/],
      ['operator_feedback without related event', (e) => Object.assign(e, { eventType: 'operator_feedback', eventData: { feedback: 'correct' } }), /relatedEventId/],
      ['image that was never uploaded', (e) => (e.images = [{ sourceId: 'nope' }]), /must name an uploaded image/],
      ['unknown field', (e) => (e.extra = 1), /unknown field "extra"/],
    ];
    for (const [name, mutate, message] of cases) {
      it(`rejects ${name} with 400 validation`, async () => {
        const event = valid();
        mutate(event);
        const response = await post('/vision-events', event);
        assert.equal(response.status, 400);
        const body = (await response.json()) as { error: string; message: string };
        assert.equal(body.error, 'validation');
        assert.match(body.message, message);
      });
    }

    it('rejects a batch of 101 and says which event of a batch is wrong', async () => {
      const tooMany = await post('/vision-events/batch', { events: Array.from({ length: 101 }, valid) });
      assert.equal(tooMany.status, 400);
      assert.match(((await tooMany.json()) as { message: string }).message, /at most 100 events/);
      const events = [valid(), { ...valid(), eventType: 'nope' }];
      const mixed = await post('/vision-events/batch', { events });
      assert.match(((await mixed.json()) as { message: string }).message, /first: \[1\] eventType/);
    });

    it('through the client, a validation error is a clear bad-request error', async () => {
      const event = buildEvent({ useCaseId: 'front-door' });
      event.timestamp = '2020-01-01T00:00:00.000Z';
      await assert.rejects(client.create(event), (error: RoboflowError) => error.code === 'bad-request' && error.message.includes('more than 30 days in the past'));
    });

    it('refuses uploads that are not images', async () => {
      await assert.rejects(client.uploadImage(Buffer.from('plain text, not an image')), (error: RoboflowError) => error.code === 'bad-request' && error.message.includes('JPEG or PNG'));
    });
  });
});
