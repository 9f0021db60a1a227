import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DeadLetterFile,
  EventOutbox,
  RoboflowError,
  VisionEventsClient,
  buildEvent,
  checkEventImage,
  resolveConnection,
  splitPayload,
  toCustomMetadata,
  toImageBuffer,
  toObjectDetections,
  type VisionEvent,
} from '../../lib';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
/** Nothing listens on port 9: every delivery fails, so what is queued stays queued. */
const unreachable = (): VisionEventsClient =>
  new VisionEventsClient({ connection: resolveConnection({ apiKey: 'test-key-0123456789', apiUrl: 'http://127.0.0.1:9', serverUrl: 'http://127.0.0.1:9' }) });

describe('vision event builder', () => {
  it('maps the simple form {use_case, timestamp, metadata} onto the REST form', () => {
    const event = buildEvent({ use_case: 'front-door', timestamp: '2026-05-01T10:00:00Z', metadata: { count: 3, camera: 'porch', ok: true } });
    assert.match(event.eventId, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...event, eventId: 'x' },
      {
        eventId: 'x',
        eventType: 'custom',
        useCaseId: 'front-door',
        timestamp: '2026-05-01T10:00:00.000Z',
        customMetadata: { count: 3, camera: 'porch', ok: true },
      },
    );
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
      assert.throws(() => toCustomMetadata(input), message);
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
    const outbox = await EventOutbox.open({
      client,
      directory,
      maxEntries: 3,
      retry: { initialMs: 60_000, maxMs: 60_000 },
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    const dropped: string[][] = [];
    outbox.on('dropped', ({ eventIds }) => dropped.push(eventIds));
    outbox.on('error', () => undefined);
    const events = Array.from({ length: 5 }, () => buildEvent({ useCaseId: 'u' }));
    for (const event of events) await outbox.enqueue(event, Buffer.from([0xff, 0xd8, 0xff]));
    assert.deepEqual(dropped, [[events[0].eventId], [events[1].eventId]]);
    assert.equal(outbox.pending, 3);
    assert.deepEqual(
      readdirSync(join(directory, 'images')).sort(),
      events
        .slice(2)
        .map((event) => `${event.eventId}.img`)
        .sort(),
    );
    await outbox.close();
    assert.deepEqual(
      (JSON.parse(readFileSync(join(directory, 'outbox.json'), 'utf8')) as Array<{ event: { eventId: string } }>).map((entry) => entry.event.eventId),
      events.slice(2).map((event) => event.eventId),
    );
  });
});

describe('vision event images are checked before they are queued', () => {
  it('JPEG, PNG and WebP by their first bytes, at most 20 MiB', () => {
    const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]);
    assert.equal(checkEventImage(webp), 'webp');
    assert.equal(checkEventImage(Buffer.from([0xff, 0xd8, 0xff, 0xe0])), 'jpeg');
    assert.equal(checkEventImage(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'png');
    assert.throws(() => checkEventImage(Buffer.from('GIF89a')), /not a JPEG, PNG or WebP image/);
    const big = Buffer.alloc(20 * 1024 * 1024 + 1);
    big.set([0xff, 0xd8, 0xff]);
    assert.throws(
      () => toImageBuffer(big),
      (error: RoboflowError) => error.code === 'invalid-input' && error.message.includes('20.0 MiB; Vision Events take at most 20 MiB'),
    );
  });

  it('the outbox refuses such an image at once: nothing is queued', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'roboflow-outbox-'));
    const outbox = await EventOutbox.open({ client: unreachable(), directory, retry: { initialMs: 60_000, maxMs: 60_000 }, logger: quiet });
    outbox.on('error', () => undefined);
    await assert.rejects(outbox.enqueue(buildEvent({ useCaseId: 'u' }), Buffer.from('not an image')), /not a JPEG, PNG or WebP image/);
    assert.equal(outbox.pending, 0);
    assert.deepEqual(readdirSync(join(directory, 'images')), []);
    await outbox.close();
  });
});

describe('vision events dead-letter file', () => {
  it('keeps the newest events within its bounds, and counts them', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'roboflow-dead-')), 'dead-letter.jsonl');
    const file = new DeadLetterFile(path, { maxEntries: 3 });
    const events = Array.from({ length: 5 }, () => buildEvent({ useCaseId: 'u' }));
    const counts: number[] = [];
    for (const event of events) counts.push(await file.add(event, new RoboflowError('bad-request', 'Request rejected (400): no', { status: 400 }), 10));
    assert.deepEqual(counts, [1, 2, 3, 3, 3]);
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: { eventId: string }; reason: string; status: number; imageBytes: number });
    assert.deepEqual(
      lines.map((line) => line.event.eventId),
      events.slice(2).map((event) => event.eventId),
    );
    assert.deepEqual([lines[0].reason, lines[0].status, lines[0].imageBytes], ['Request rejected (400): no', 400, 10]);
    // Counted again from the file by the next run.
    assert.equal(await new DeadLetterFile(path, { maxEntries: 3 }).count(), 3);
    const bytes = new DeadLetterFile(path, { maxBytes: 1024 });
    for (let i = 0; i < 10; i++) await bytes.add(buildEvent({ useCaseId: 'u', metadata: { text: 'x'.repeat(300) } }), new RoboflowError('bad-request', 'no'));
    assert.ok(readFileSync(path).byteLength <= 1024, 'within its byte bound');
  });
});

describe('vision events queue file read back', () => {
  const badQueues: Array<[string, string, string]> = [
    ['an object with entries', '{"entries":[]}', 'the queue is not a list'],
    ['an empty object', '{}', 'the queue is not a list'],
    ['a list of empty objects', '[{}]', 'entry 1: event is not an object'],
    ['an unknown event type', '[{"event":{"eventId":"x","eventType":"nope","useCaseId":"u","timestamp":"t"},"queuedAt":1}]', 'entry 1: event.eventType is not one of'],
    ['a wrong type', '[{"event":{"eventId":"x","eventType":"custom","useCaseId":"u","timestamp":"t"},"queuedAt":"soon"}]', 'entry 1: queuedAt is not a number'],
    ['an image file outside the queue', '[{"event":{"eventId":"x","eventType":"custom","useCaseId":"u","timestamp":"t"},"queuedAt":1,"imageFile":"/etc/passwd"}]', 'entry 1: imageFile is outside'],
    ['truncated JSON', '[{"event":{"eventId":"x","eventType":"cus', 'it is not JSON'],
    ['an empty file', '', 'it is not JSON'],
  ];
  for (const [name, content, reason] of badQueues) {
    it(`${name}: set aside with one warning, the queue starts empty and works`, async () => {
      const directory = mkdtempSync(join(tmpdir(), 'roboflow-outbox-'));
      writeFileSync(join(directory, 'outbox.json'), content);
      const warnings: string[] = [];
      const outbox = await EventOutbox.open({ client: unreachable(), directory, retry: { initialMs: 60_000, maxMs: 60_000 }, logger: quiet, onWarning: (message) => warnings.push(message) });
      outbox.on('error', () => undefined);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.ok(warnings[0].includes(reason), warnings[0]);
      assert.match(warnings[0], /outbox\.json is unusable \(.*\): moved it to .*outbox\.json\.corrupt-\d{4}-\d\d-\d\dT[\d-]+Z and started empty/);
      const aside = readdirSync(directory).filter((name) => name.startsWith('outbox.json.corrupt-'));
      assert.equal(aside.length, 1);
      assert.equal(readFileSync(join(directory, aside[0]), 'utf8'), content, 'kept as it was, for a person to look at');
      assert.equal(outbox.pending, 0);
      await outbox.enqueue(buildEvent({ useCaseId: 'u' }));
      assert.equal(outbox.pending, 1, 'the queue works');
      await outbox.close();
      assert.equal((JSON.parse(readFileSync(join(directory, 'outbox.json'), 'utf8')) as unknown[]).length, 1);
    });
  }

  it('a directory where the queue file should be is set aside too', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'roboflow-outbox-'));
    mkdirSync(join(directory, 'outbox.json'));
    const warnings: string[] = [];
    const outbox = await EventOutbox.open({ client: unreachable(), directory, logger: quiet, onWarning: (message) => warnings.push(message) });
    assert.match(warnings.join(''), /outbox\.json is unusable \(it cannot be read \(EISDIR\)\)/);
    await outbox.close();
  });
});

describe('vision events as Roboflow reads them (docs/protocol.md §5.4, §5.8)', () => {
  it('externalId is event data for quality checks, inventory counts, safety alerts and custom events', () => {
    for (const type of ['quality_check', 'inventory_count', 'safety_alert', 'custom'] as const) {
      assert.deepEqual(splitPayload(type, { externalId: 'PO-42', line: 3 }), { eventData: { externalId: 'PO-42' }, metadata: { line: 3 } }, type);
    }
    assert.deepEqual(splitPayload('operator_feedback', { externalId: 'PO-42' }), { metadata: { externalId: 'PO-42' } });
  });

  it('reads the use-case list as {useCases}, as the older {solutions}, or as a bare list', async () => {
    const answers = [{ useCases: [{ id: 'a', name: 'A' }], lookbackDays: 30 }, { solutions: [{ id: 'b', name: 'B' }] }, [{ id: 'c', name: 'C' }]];
    let next = 0;
    const server = createServer((_req, res) => res.setHeader('content-type', 'application/json').end(JSON.stringify(answers[next++])));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new VisionEventsClient({ connection: resolveConnection({ apiKey: 'test-key-0123456789', apiUrl: url, serverUrl: url }) });
    try {
      for (const expected of ['a', 'b', 'c'])
        assert.deepEqual(
          (await client.listUseCases()).map((useCase) => useCase.id),
          [expected],
        );
    } finally {
      await client.close();
      server.close();
    }
  });

  it('an event with an attached image says to show it (displayImagePosition 0); one without says nothing', async () => {
    const created: VisionEvent[] = [];
    const client = {
      uploadImage: async () => ({ sourceId: 'source-1' }),
      create: async (event: VisionEvent) => {
        created.push(JSON.parse(JSON.stringify(event)) as VisionEvent);
        return { eventId: event.eventId };
      },
      createBatch: async (events: VisionEvent[]) => {
        for (const event of events) created.push(JSON.parse(JSON.stringify(event)) as VisionEvent);
        return { created: events.length, eventIds: events.map((event) => event.eventId) };
      },
    } as unknown as VisionEventsClient;
    const outbox = await EventOutbox.open({ client, logger: quiet, lingerMs: 0 });
    const withImage = buildEvent({ useCaseId: 'u' });
    const without = buildEvent({ useCaseId: 'u' });
    await outbox.enqueue(withImage, Buffer.from([0xff, 0xd8, 0xff, 0xe0]));
    await outbox.enqueue(without);
    await outbox.drained(5_000);
    await outbox.close();
    const byId = new Map(created.map((event) => [event.eventId, event]));
    assert.deepEqual([byId.get(withImage.eventId)?.images, byId.get(withImage.eventId)?.displayImagePosition], [[{ sourceId: 'source-1' }], 0]);
    assert.equal('displayImagePosition' in byId.get(without.eventId)!, false);
    assert.equal(buildEvent({ useCaseId: 'u', images: [{ sourceId: 's' }] }).displayImagePosition, 0, 'images given up front count too');
  });
});
