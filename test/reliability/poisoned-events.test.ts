import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage, sparsePng } from '../helpers/media';
import { ALL_NODES, collect, configNode, helper, onTab, loggedWarnings, useUserDir, type FlowNode } from '../helpers/node-red-helper';

interface StoredEvent {
  eventId: string;
  deviceId?: string;
  images?: unknown[];
}

/** What a node warns (node.warn calls). */

/** A buffer that starts like a JPEG and is `bytes` long. */
function jpegOfSize(bytes: number): Buffer {
  const image = Buffer.alloc(bytes, 0x11);
  image.set([0xff, 0xd8, 0xff, 0xe0]);
  return image;
}

/**
 * Issue 14, item 2: one event the API will never take must not block every later one,
 * across restarts. It is refused at once when we can tell (size, type, pixel count), and
 * otherwise, when the service refuses it with a 4xx a retry cannot change, it leaves the
 * queue for the dead-letter file, with an error to Catch and a warning with the count.
 */
describe('reliability: a poisoned Vision Event never blocks the queue', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let userDir: string;
  const credentials = { cfg: { apiKey: API_KEY } };

  before(async () => {
    userDir = useUserDir();
    server = await startLocalServer(['--cameras', '', '--use-cases', 'demo']);
  });
  after(() => server.stop());
  beforeEach(() => server.resetFaults());
  afterEach(() => helper.unload());

  const storage = (id: string): string => join(userDir, 'roboflow', 'vision-events', id);
  const events = async (): Promise<StoredEvent[]> => (await server.json<{ events: StoredEvent[] }>('/local/vision-events')).events;
  const flow = (id: string, props: Record<string, unknown> = {}): FlowNode[] =>
    onTab([
      configNode(server.url),
      {
        id,
        type: 'roboflow-vision-event',
        name: '',
        roboflow: 'cfg',
        useCase: 'demo',
        useCaseType: 'str',
        createUseCase: false,
        eventType: 'custom',
        deviceId: id,
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
  const queued = (id: string): unknown[] => {
    const file = join(storage(id), 'outbox.json');
    return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
  };

  it('an image the API can never take (over 20 MiB, not JPEG/PNG/WebP, over 50 MP) is refused at once: error on the message, nothing queued or sent', async () => {
    await helper.load(ALL_NODES, flow('at-once'), credentials);
    const node = helper.getNode('at-once');
    const out = collect(helper.getNode('out'));
    const caught = collect(helper.getNode('caught'));
    const uploadsBefore = await server.requestCount('vision_events_upload');
    const cases: Array<[unknown, RegExp]> = [
      [jpegOfSize(21 * 1024 * 1024), /the image is 21\.0 MiB; Vision Events take at most 20 MiB/],
      [Buffer.from('GIF89a-not-accepted'), /not a JPEG, PNG or WebP image/],
      [readFileSync(await sparsePng(16000, 16000)), /16000x16000 \(256 MP\): larger than the 50 MP/],
    ];
    for (const [image] of cases) node.receive({ payload: { n: 1 }, image });
    await eventually(() => caught.length >= cases.length, 30_000, 'one error per message');
    const messages = caught.map((msg) => (msg.error as { message: string }).message);
    assert.equal(caught.length, cases.length, messages.join(' | '));
    for (const [, expected] of cases)
      assert.ok(
        messages.some((message) => expected.test(message)),
        `${expected} in ${messages.join(' | ')}`,
      );
    assert.equal(out.length, 0, 'no message went on');
    assert.deepEqual(queued('at-once'), [], 'nothing queued');
    assert.equal(await server.requestCount('vision_events_upload'), uploadsBefore, 'nothing sent');
  });

  it('an event whose image the API refuses (400) ends there: error to Catch, dead-letter file, a warning with the count; the events behind it are delivered', async () => {
    await server.faults({ failNext: { vision_events_upload: { status: 400, count: 1000, message: 'The image is larger than 20971520 bytes' } } });
    await helper.load(ALL_NODES, flow('poisoned'), credentials);
    const node = helper.getNode('poisoned');
    const caught = collect(helper.getNode('caught'));
    const out = collect(helper.getNode('out'));
    node.receive({ payload: { n: 0 }, image: await sceneImage('door', 10), marker: 'the-poisoned-one' });
    for (let n = 1; n <= 3; n++) node.receive({ payload: { n } });
    await eventually(() => out.length === 4, 5_000, 'four messages accepted');
    const poisonedId = out.find((msg) => msg.marker === 'the-poisoned-one')!.eventId as string;
    await eventually(async () => (await events()).filter((e) => e.deviceId === 'poisoned').length === 3, 15_000, 'the three events behind it delivered');
    assert.ok(!(await events()).some((e) => e.eventId === poisonedId), 'the refused event was not created');
    await eventually(() => caught.length === 1, 5_000, 'the error at the Catch node');
    assert.equal(caught[0].marker, 'the-poisoned-one', 'the error carries its message');
    assert.match(
      (caught[0].error as { message: string }).message,
      new RegExp(`Vision event ${poisonedId} rejected: Image upload refused: Request rejected \\(400\\): The image is larger than 20971520 bytes`),
    );
    const deadLetter = join(storage('poisoned'), 'dead-letter.jsonl');
    const lines = readFileSync(deadLetter, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: { eventId: string }; reason: string; status: number });
    assert.deepEqual(
      lines.map((line) => [line.event.eventId, line.status]),
      [[poisonedId, 400]],
    );
    const warnings = loggedWarnings('poisoned');
    assert.ok(
      warnings.some((w) => w === `1 Vision Events the service refused are kept in ${deadLetter} (the queue went on without them)`),
      warnings.join('\n'),
    );
    assert.deepEqual(readdirSync(join(storage('poisoned'), 'images')), [], 'its image is not kept');
    await eventually(() => queued('poisoned').length === 0, 5_000, 'the queue on disk is empty');
  });

  it('across restarts: a queue left with a poisoned event first delivers the ones behind it, and never sends the poisoned one again', async () => {
    // What an earlier version left on disk: a 21 MB image first, two plain events behind it.
    const dir = storage('restarted');
    mkdirSync(join(dir, 'images'), { recursive: true });
    const entry = (deviceId: string, image?: Buffer): Record<string, unknown> => {
      const eventId = randomUUID();
      const imageFile = image ? join(dir, 'images', `${eventId}.img`) : undefined;
      if (imageFile) writeFileSync(imageFile, image!);
      return { event: { eventId, eventType: 'custom', useCaseId: 'demo', timestamp: new Date().toISOString(), deviceId }, queuedAt: Date.now(), ...(imageFile ? { imageFile } : {}) };
    };
    const left = [entry('restarted', jpegOfSize(21 * 1024 * 1024)), entry('restarted'), entry('restarted')];
    writeFileSync(join(dir, 'outbox.json'), JSON.stringify(left));
    const uploadsBefore = await server.requestCount('vision_events_upload');

    await helper.load(ALL_NODES, flow('restarted'), credentials);
    const caught = collect(helper.getNode('caught'));
    await eventually(async () => (await events()).filter((e) => e.deviceId === 'restarted').length === 2, 15_000, 'the two events behind it delivered');
    await eventually(() => caught.length === 1, 5_000, 'the poisoned event reported');
    assert.equal(caught[0].eventId, (left[0].event as { eventId: string }).eventId, 'reported by its id (its message is gone with the restart)');
    assert.match((caught[0].error as { message: string }).message, /the image is 21\.0 MiB; Vision Events take at most 20 MiB/);
    assert.equal(await server.requestCount('vision_events_upload'), uploadsBefore, 'the 21 MB image was not sent');
    await eventually(() => queued('restarted').length === 0, 5_000, 'the queue on disk is empty');

    await helper.unload();
    await helper.load(ALL_NODES, flow('restarted'), credentials);
    const again = collect(helper.getNode('caught'));
    // A new event goes through the queue: by then anything left in it would have been tried.
    helper.getNode('restarted').receive({ payload: { n: 'after' } });
    await eventually(async () => (await events()).filter((e) => e.deviceId === 'restarted').length === 3, 15_000, 'a new event delivered after the restart');
    assert.equal(again.length, 0, 'nothing to report after the next restart');
    assert.equal(await server.requestCount('vision_events_upload'), uploadsBefore, 'the 21 MB image was never sent');
    assert.equal((await readFile(join(dir, 'dead-letter.jsonl'), 'utf8')).trim().split('\n').length, 1, 'kept once in the dead-letter file');
  });
});
