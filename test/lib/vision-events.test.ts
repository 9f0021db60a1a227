import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventOutbox, VisionEventsClient, buildEvent, resolveConnection, toCustomMetadata, toObjectDetections } from '../../lib';

describe('vision event builder', () => {
  it('maps the simple form {use_case, timestamp, metadata} onto the REST form', () => {
    const event = buildEvent({ use_case: 'front-door', timestamp: '2026-05-01T10:00:00Z', metadata: { count: 3, camera: 'porch', ok: true } });
    assert.match(event.eventId, /^[0-9a-f-]{36}$/);
    assert.deepEqual({ ...event, eventId: 'x' }, {
      eventId: 'x',
      eventType: 'custom',
      useCaseId: 'front-door',
      timestamp: '2026-05-01T10:00:00.000Z',
      customMetadata: { count: 3, camera: 'porch', ok: true },
    });
  });

  it('gives every event a new UUID v4 and keeps a given one (retries overwrite, never duplicate)', () => {
    const a = buildEvent({ useCaseId: 'u' });
    const b = buildEvent({ useCaseId: 'u' });
    assert.notEqual(a.eventId, b.eventId);
    assert.match(a.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(buildEvent({ useCaseId: 'u', eventId: a.eventId }).eventId, a.eventId);
  });

  it('stores nested metadata values as JSON text and drops nulls', () => {
    assert.deepEqual(toCustomMetadata({ box: { x: 1 }, list: [1, 2], gone: null }), { box: '{"x":1}', list: '[1,2]' });
  });

  for (const [name, input, message] of [
    ['too many keys', Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, i])), /101 keys; at most 100/],
    ['a bad key', { 'a.b': 1 }, /may only contain letters/],
    ['a long key', { ['k'.repeat(101)]: 1 }, /longer than 100 characters/],
    ['a long value', { note: 'x'.repeat(1001) }, /1001 characters long; at most 1000/],
    ['a non-finite number', { n: Number.NaN }, /not a finite number/],
  ] as const) {
    it(`refuses metadata with ${name}`, () => {
      assert.throws(() => toCustomMetadata(input as Record<string, unknown>), message);
    });
  }

  it('refuses unknown event types, missing use cases, bad timestamps and bad ids', () => {
    assert.throws(() => buildEvent({ useCaseId: 'u', eventType: 'party' }), /unknown event type "party"/);
    assert.throws(() => buildEvent({}), /use case is required/);
    assert.throws(() => buildEvent({ useCaseId: 'u', timestamp: 'yesterday' }), /not a date/);
    assert.throws(() => buildEvent({ useCaseId: 'u', eventId: '123' }), /not a UUID v4/);
    assert.throws(() => buildEvent({ useCaseId: 'x'.repeat(257) }), /longer than 256/);
  });

  it('maps workflow detections to objectDetections', () => {
    const detections = { image: { width: 10, height: 10 }, predictions: [{ x: 1, y: 2, width: 3, height: 4, confidence: 0.9, class: 'person', class_id: 0, detection_id: 'd' }] };
    assert.deepEqual(toObjectDetections(detections), [{ class: 'person', x: 1, y: 2, width: 3, height: 4, confidence: 0.9 }]);
    assert.deepEqual(toObjectDetections(detections.predictions), toObjectDetections(detections));
    assert.throws(() => toObjectDetections({ nope: 1 }), /predictions must be/);
    assert.throws(() => toObjectDetections([{ class: 'a', x: 1 }]), /no numeric y/);
  });
});

describe('vision event queue bound', () => {
  it('keeps at most maxEntries: past it the oldest events (and their images) are dropped and reported', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'roboflow-outbox-'));
    // Nothing listens on port 9: every delivery fails, so the queue only grows.
    const client = new VisionEventsClient({ connection: resolveConnection({ apiKey: 'test-key-0123456789', apiUrl: 'http://127.0.0.1:9', serverUrl: 'http://127.0.0.1:9' }) });
    const outbox = await EventOutbox.open({ client, directory, maxEntries: 3, retry: { initialMs: 60_000, maxMs: 60_000 }, logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined } });
    const dropped: string[][] = [];
    outbox.on('dropped', ({ eventIds }) => dropped.push(eventIds));
    outbox.on('error', () => undefined);
    const events = Array.from({ length: 5 }, () => buildEvent({ useCaseId: 'u' }));
    for (const event of events) await outbox.enqueue(event, Buffer.from([0xff, 0xd8, 0xff]));
    assert.deepEqual(dropped, [[events[0].eventId], [events[1].eventId]]);
    assert.equal(outbox.pending, 3);
    assert.deepEqual(readdirSync(join(directory, 'images')).sort(), events.slice(2).map((event) => `${event.eventId}.img`).sort());
    await outbox.close();
    assert.deepEqual((JSON.parse(readFileSync(join(directory, 'outbox.json'), 'utf8')) as Array<{ event: { eventId: string } }>).map((entry) => entry.event.eventId), events.slice(2).map((event) => event.eventId));
  });
});
