import { strict as assert } from 'node:assert';
import sharp from 'sharp';
import { AlertPolicy, ObjectEvents, StreamSession, renderSnapshot, type Detection, type ObjectEvent, type ObjectEventsOptions, type StreamResult } from '../../lib';
import { getScene, renderScene } from '../../server/media/scenes';
import { startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneVideo } from '../helpers/media';

/**
 * From detections to object events on the local server's generated videos, whose object
 * paths are known (server/media/scenes.ts): every expected event below is worked out
 * from those paths, in the comments. The video goes through real WebRTC, H.264 and the
 * server's workflow; the events come from the engine's objects module.
 */
describe('object events on scenes with known paths (local server)', function () {
  this.timeout(60_000);
  let server: RunningServer;

  before(async () => {
    server = await startLocalServer();
  });
  after(() => server.stop());

  /** Streams a scene file through a workflow (every frame, in order) and returns each frame's detections with the frame's time in the video. */
  async function framesOf(sceneName: string, workflowId: string, parameters: Record<string, unknown> = {}): Promise<Array<{ index: number; time: number; detections: Detection[] }>> {
    const scene = getScene(sceneName);
    const session = new StreamSession({
      connection: server.connection(),
      workflow: { workspace: 'demo', workflowId },
      source: { kind: 'file', path: await sceneVideo(sceneName) },
      dataOutputs: ['predictions'],
      parameters,
    });
    const results: StreamResult[] = [];
    session.on('result', (result) => results.push(result));
    const closed = session.next('closed', 45_000);
    await session.start();
    await closed;
    assert.equal(results.length, scene.frames, 'every frame analysed');
    return results.map((result) => {
      const index = result.frameId - 1;
      const detections = (result.data?.predictions as { predictions?: Detection[] } | undefined)?.predictions ?? [];
      return { index, time: Math.round((index * 1000) / scene.fps), detections };
    });
  }

  function run(
    frames: Array<{ time: number; detections: Detection[] }>,
    options: ObjectEventsOptions,
    policy?: AlertPolicy,
  ): { events: ObjectEvent[]; alerts: Array<{ id: string; time: number }>; objects: ObjectEvents } {
    const objects = new ObjectEvents(options);
    const events: ObjectEvent[] = [];
    const alerts: Array<{ id: string; time: number }> = [];
    for (const { time, detections } of frames) {
      const frameEvents = objects.update(detections, time);
      events.push(...frameEvents);
      for (const event of frameEvents) if (event.type === 'leave') policy?.forget(event.object.id);
      for (const object of policy?.check(objects.objects(), time).alerts ?? []) alerts.push({ id: object.id, time });
    }
    events.push(...objects.end());
    return { events, alerts, objects };
  }

  const describeEvent = (event: ObjectEvent): string =>
    `${event.time} ${event.type} ${event.object.class}${'zone' in event ? ` ${event.zone}` : ''}${'line' in event ? ` ${event.line} ${event.direction}` : ''}`;

  it('door: the person enters, crosses the threshold, enters the door zone, leaves it, crosses back and leaves; one alert, with a snapshot showing them', async () => {
    const scene = getScene('door');
    const frames = await framesOf('door', 'detect-colors', { class_names: { red: 'person', green: 'door' } });
    // The visitor's box is 60x150 at top-left (x, 160): x = 20 + 11i walking in (frames 0-39),
    // 460 at the door (40-69), 460 - 22(i - 70) walking out (70-89), gone from frame 90.
    // Feet (bottom centre) at (x + 30, 310). 10 fps: frame i at i * 100 ms.
    const zone = {
      name: 'door',
      polygon: [
        [430, 200],
        [640, 200],
        [640, 360],
        [430, 360],
      ] as Array<[number, number]>,
    };
    const line = { name: 'threshold', from: [300, 150] as [number, number], to: [300, 360] as [number, number] };
    const { events, alerts } = run(frames, { zones: [zone], lines: [line], classes: ['person'] }, new AlertPolicy({ zones: ['door'] }));
    assert.deepEqual(events.map(describeEvent), [
      '0 enter person',
      // Feet at x = 50 + 11i pass 300 first at i = 23 (303).
      '2300 line-cross person threshold left-to-right',
      // Feet reach 430 first at i = 35 (435).
      '3500 zone-enter person door',
      // Walking out, feet at 490 - 22(i - 70): first below 430 at i = 73 (424).
      '7300 zone-leave person door',
      // ... and below 300 at i = 79 (292).
      '7900 line-cross person threshold right-to-left',
      // Last seen at frame 89; the file ends before the leave time is over, so end() says it.
      '8900 leave person',
    ]);
    const ids = new Set(events.map((event) => event.object.id));
    assert.equal(ids.size, 1, 'one object id for the whole visit');
    const leave = events.at(-1)!;
    assert.equal(leave.object.dwellMs, 8_900);
    assert.deepEqual(alerts, [{ id: [...ids][0], time: 3_500 }], 'one alert, when the person entered the door zone');

    // The alert's snapshot: the frame of that moment with the person's box drawn.
    const at = frames.find((frame) => frame.time === 3_500)!;
    const person = at.detections.find((detection) => detection.class === 'person')!;
    const png = await sharp(renderScene(scene, at.index), { raw: { width: scene.width, height: scene.height, channels: 4 } })
      .png()
      .toBuffer();
    const snapshot = await renderSnapshot(png, [{ box: person, label: `person ${person.confidence.toFixed(2)}`, highlight: true }], { draw: true });
    assert.deepEqual([snapshot.width, snapshot.height], [640, 360]);
    const { data, info } = await sharp(snapshot.jpeg).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number): number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const [r, g, b] = pixel(Math.round(person.x), Math.round(person.y));
    assert.ok(r > 180 && g < 80 && b < 80, `the person (red) is in the middle of the box: ${[r, g, b]}`);
    const edge = pixel(Math.round(person.x - person.width / 2) + 1, Math.round(person.y));
    assert.ok(edge[0] > 200 && edge[1] < 120, `the box is drawn: ${edge}`);
  });

  for (const workflowId of ['detect-colors', 'track-colors']) {
    it(`crossing (${workflowId}): two same-coloured balls passing each other keep their ids and cross the middle line once each, in opposite directions`, async () => {
      // left-ball glides (10, 70) -> (270, 80), right-ball (270, 130) -> (10, 120), both 36 px, 30 frames.
      const frames = await framesOf('crossing', workflowId);
      const { events, objects } = run(frames, { lines: [{ name: 'middle', from: [160, 0], to: [160, 240] }], anchor: 'center' });
      const enters = events.filter((event) => event.type === 'enter');
      assert.equal(enters.length, 2, events.map(describeEvent).join('\n'));
      const upper = enters.find((event) => event.object.box.y < 120)!.object.id;
      const lower = enters.find((event) => event.object.box.y > 120)!.object.id;
      if (workflowId === 'track-colors') assert.match(upper, /^t\d+$/, "the workflow's tracker ids are used");
      const crossings = events.filter((event) => event.type === 'line-cross').map((event) => `${event.object.id} ${'direction' in event ? event.direction : ''}`);
      assert.deepEqual(crossings.sort(), [`${lower} right-to-left`, `${upper} left-to-right`].sort());
      assert.deepEqual(
        events
          .filter((event) => event.type === 'leave')
          .map((event) => event.object.id)
          .sort(),
        [upper, lower].sort(),
        'each leaves once, under its own id',
      );
      assert.deepEqual(objects.counts().lines.middle, { 'left-to-right': 1, 'right-to-left': 1 });
    });
  }

  it('flicker: a detection missing for two frames is still the same object: one enter, one alert, one leave', async () => {
    const frames = await framesOf('flicker', 'detect-colors');
    assert.deepEqual(
      frames.filter((frame) => frame.detections.length === 0).map((frame) => frame.index),
      [10, 11],
      'the square is missing in frames 10 and 11',
    );
    const { events, alerts } = run(frames, {}, new AlertPolicy());
    assert.deepEqual(events.map(describeEvent), ['0 enter green', '1900 leave green']);
    assert.equal(alerts.length, 1);
  });

  it('two-squares: live counts by class', async () => {
    const frames = await framesOf('two-squares', 'detect-colors');
    const objects = new ObjectEvents({
      zones: [
        {
          name: 'top half',
          polygon: [
            [0, 0],
            [320, 0],
            [320, 120],
            [0, 120],
          ],
        },
      ],
      anchor: 'center',
    });
    objects.update(frames[0].detections, frames[0].time);
    // Red 48 px at y 40 (centre 64, top half), blue 40 px at y 150 (centre 170, bottom half).
    assert.deepEqual(objects.counts(), { objects: 2, byClass: { red: 1, blue: 1 }, zones: { 'top half': { count: 1, byClass: { red: 1 } } }, lines: {} });
  });
});
