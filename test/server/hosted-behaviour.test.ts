import { strict as assert } from 'node:assert';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWrtc } from '../../lib/stream/wrtc';
import { getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer, type SessionSummary } from '../helpers/local-server';
import { MEDIA_DIR, sceneImage, sceneVideo } from '../helpers/media';
import { secret } from '../helpers/secrets';
import { openRaw, startRaw, type RawSession } from './raw-client';

/**
 * The local server behaves like Roboflow's hosted worker by default, including the parts
 * that hurt (docs/protocol.md §2, §5): sessions end by themselves, results are
 * gzipped when data outputs are asked for, metadata has the service's shapes.
 */

interface Summary extends SessionSummary {
  processingTimeout: number;
  completion?: string | null;
  sourceUrl?: string;
}

const NO_PULL_PASSWORD = secret('nopull-secret-77');

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('local server: hosted behaviour by default', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let mjpeg: string;
  const open: RawSession[] = [];
  const track = (session: RawSession): RawSession => {
    open.push(session);
    return session;
  };
  const summaries = async (): Promise<Summary[]> => {
    const sessions = await server.sessions();
    return [...sessions.active, ...sessions.ended] as Summary[];
  };
  const newest = async (): Promise<Summary> => (await summaries()).sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt))[0];

  before(async () => {
    server = await startLocalServer(['--cameras', 'two-squares']);
    mjpeg = (await server.cameras())[0].mjpeg_url;
  });
  after(async () => {
    await server?.stop();
  });
  afterEach(async () => {
    for (const session of open.splice(0)) session.close();
    await server.resetFaults();
    await eventually(async () => (await server.sessions()).active.length === 0, 10_000, 'no session left');
  });

  describe('sessions end by themselves (C1)', () => {
    it('processing_timeout runs out: processing_complete with termination_reason "timeout_reached", then the server ends the session', async () => {
      const session = track(await openRaw(server, { body: { mjpeg_url: mjpeg, data_output: ['count'], processing_timeout: 2 } }));
      const completion = await session.completion(10_000);
      assert.equal(completion.doc.termination_reason, 'timeout_reached');
      assert.equal(completion.gzipped, false, 'the completion message is never gzipped');
      assert.ok(session.frames().length > 0, 'results came before the timeout');
      await eventually(async () => (await newest()).state === 'ended', 5_000, 'the server to end the session');
      assert.equal((await newest()).completion, 'timeout_reached');
    });

    it('processing_timeout: absent = 3600 s (the hosted default), null = the service maximum (604800 s)', async () => {
      track(await openRaw(server));
      assert.equal((await newest()).processingTimeout, 3600);
      track(await openRaw(server, { body: { processing_timeout: null } }));
      assert.equal((await newest()).processingTimeout, 604_800);
      track(await openRaw(server, { body: { processing_timeout: 90 } }));
      assert.equal((await newest()).processingTimeout, 90);
      track(await openRaw(server, { body: { processing_timeout: 10_000_000 } }));
      assert.equal((await newest()).processingTimeout, 604_800, 'never beyond the service maximum');
      const zero = await startRaw(server, { body: { processing_timeout: 0 } });
      assert.equal(!zero.ok && zero.status, 500);
      assert.match(!zero.ok ? String(zero.body.message) : '', /Processing timeout is 0/);
    });

    it('the session-timeout fault ends sessions early even when the client asked for more', async () => {
      await server.faults({ sessionTimeoutSec: 1 });
      const session = track(await openRaw(server, { body: { mjpeg_url: mjpeg, data_output: ['count'], processing_timeout: 3600 } }));
      assert.equal((await newest()).processingTimeout, 1);
      assert.equal((await session.completion(10_000)).doc.termination_reason, 'timeout_reached');
    });

    it('a pulled camera that ends: processing_complete with termination_reason null', async () => {
      await server.faults({ cameraEndAfterMs: 1_500 });
      const session = track(await openRaw(server, { body: { mjpeg_url: mjpeg, data_output: ['count'] } }));
      const completion = await session.completion(15_000);
      assert.equal(completion.doc.termination_reason, null);
      assert.equal(completion.doc.processing_complete, true);
      assert.ok(session.frames().length > 0, 'the camera gave frames before it ended');
      assert.equal((await newest()).completion, null);
    });

    it('an uploaded file that is not a video: processing_complete (reason null) after zero results, within seconds', async () => {
      mkdirSync(MEDIA_DIR, { recursive: true });
      const bogus = join(MEDIA_DIR, 'random-bytes.mp4');
      writeFileSync(bogus, randomBytes(200_000));
      const started = Date.now();
      const session = track(await openRaw(server, { file: bogus, body: { data_output: ['count'] } }));
      const completion = await session.completion(10_000);
      assert.equal(completion.doc.termination_reason, null);
      assert.equal(session.frames().length, 0);
      assert.equal(completion.frameId, 1, 'the completion frame id is the last frame id (0) + 1');
      assert.ok(Date.now() - started < 10_000);
    });
  });

  describe('idle watchdog (C2)', () => {
    it('a session waiting for an ack is active: the idle watchdog leaves it alone', async () => {
      await server.faults({ idleTimeoutMs: 1_000 });
      const session = track(await openRaw(server, { file: await sceneVideo('two-squares'), body: { data_output: ['count'] } }));
      await eventually(() => session.frames().length >= 1, 10_000, 'the first result');
      session.ack(1);
      await eventually(() => session.frames().length >= 2, 5_000, 'the frame the first ack lets through');
      // Hold every further ack for three idle timeouts: the server is waiting, not idle.
      await pause(3_000);
      const [running] = (await server.sessions()).active;
      assert.ok(running, `the session is still running (ended: ${(await server.sessions()).ended[0]?.endedReason})`);
      for (let frame = 2; frame <= 30; frame++) {
        await eventually(() => session.frames().length >= frame, 5_000, `frame ${frame}`);
        session.ack(frame);
      }
      assert.equal((await session.completion(5_000)).doc.termination_reason, null);
    });

    it('a session with no activity at all is still ended by the watchdog (hosted)', async () => {
      await server.faults({ idleTimeoutMs: 1_000 });
      track(await openRaw(server, { body: { data_output: ['count'] } }));
      await eventually(async () => (await server.sessions()).ended[0]?.endedReason === 'idle timeout', 5_000, 'the idle timeout');
    });
  });

  describe('results on the wire (C2)', () => {
    it("data outputs requested: every result gzipped, the completion plain JSON; measured_fps null, declared_fps the file's own", async () => {
      const scene = getScene('two-squares');
      const session = track(await openRaw(server, { file: await sceneVideo('two-squares'), body: { data_output: ['count'], declared_fps: 99, webrtc_realtime_processing: true } }));
      const completion = await session.completion(15_000);
      const frames = session.frames();
      assert.ok(frames.length > 0);
      assert.ok(
        frames.every((result) => result.gzipped),
        'every result with data outputs is gzipped',
      );
      assert.equal(completion.gzipped, false);
      for (const { doc } of frames) {
        assert.equal(doc.video_metadata?.measured_fps, null);
        assert.equal(doc.video_metadata?.declared_fps, scene.fps, "the uploaded file's frame rate replaces the declared one");
        assert.equal(doc.serialized_output_data?.count, 2);
      }
    });

    it('no data outputs: plain JSON, serialized_output_data null', async () => {
      const session = track(await openRaw(server, { file: await sceneVideo('two-squares'), body: { data_output: [] } }));
      await session.completion(15_000);
      const frames = session.frames();
      assert.equal(frames.length, getScene('two-squares').frames);
      assert.ok(frames.every((result) => !result.gzipped && result.doc.serialized_output_data === null));
    });

    it('gzip can be turned off (behaviour gzip: false): plain JSON with data outputs', async () => {
      await server.faults({ gzip: false });
      const session = track(await openRaw(server, { file: await sceneVideo('two-squares'), body: { data_output: ['count'] } }));
      await session.completion(15_000);
      assert.ok(session.frames().every((result) => !result.gzipped && result.doc.serialized_output_data?.count === 2));
    });

    it('a live source: declared_fps as sent, or null when nothing was sent', async () => {
      const declared = track(await openRaw(server, { body: { mjpeg_url: mjpeg, data_output: ['count'], declared_fps: 12 } }));
      await eventually(() => declared.frames().length >= 2, 10_000, 'two results');
      assert.ok(declared.frames().every((result) => result.doc.video_metadata?.declared_fps === 12 && result.doc.video_metadata?.measured_fps === null));
      declared.close();
      const silent = track(await openRaw(server, { body: { mjpeg_url: mjpeg, data_output: ['count'] } }));
      await eventually(() => silent.frames().length >= 2, 10_000, 'two results');
      assert.ok(silent.frames().every((result) => result.doc.video_metadata?.declared_fps === null));
    });

    it('an image output carries video_metadata in the workflow shape', async () => {
      const session = track(await openRaw(server, { file: await sceneVideo('two-squares'), body: { data_output: ['output_image', 'count'] } }));
      await session.completion(20_000);
      for (const { frameId, doc } of session.frames()) {
        const image = doc.serialized_output_data?.output_image as { type: string; value: string; video_metadata: Record<string, unknown> };
        assert.equal(image.type, 'base64');
        assert.deepEqual(Object.keys(image.video_metadata).sort(), ['comes_from_video_file', 'fps', 'frame_number', 'frame_timestamp', 'measured_fps', 'video_identifier']);
        assert.equal(image.video_metadata.frame_number, frameId);
        assert.equal(image.video_metadata.comes_from_video_file, true);
        assert.equal(image.video_metadata.video_identifier, 'default_source');
        assert.equal(image.video_metadata.fps, getScene('two-squares').fps);
        assert.match(String(image.video_metadata.frame_timestamp), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
      }
    });

    it('hosted: an unknown output name is refused before the session starts (400)', async () => {
      const answer = await startRaw(server, { body: { data_output: ['count', 'nope'] } });
      assert.equal(answer.ok, false);
      assert.equal(!answer.ok && answer.status, 400);
      assert.match(!answer.ok ? String(answer.body.message) : '', /Invalid data_output fields: \['nope'\]/);
    });
  });

  describe('self-hosted behaviour (selfHosted)', () => {
    it('an unknown output name gives per-frame errors "Output \'<name>\' not found", not a 400', async () => {
      await server.faults({ selfHosted: true });
      const only = track(await openRaw(server, { file: await sceneVideo('two-squares'), body: { data_output: ['nope'] } }));
      await only.completion(15_000);
      assert.ok(only.frames().length > 0);
      for (const { doc } of only.frames()) {
        assert.deepEqual(doc.errors, ["Output 'nope' not found"]);
        assert.equal(doc.serialized_output_data, null, 'nothing found: null, not {}');
      }
      const mixed = track(await openRaw(server, { file: await sceneVideo('two-squares'), body: { data_output: ['count', 'nope'] } }));
      await mixed.completion(15_000);
      assert.ok(mixed.frames().every(({ doc }) => doc.serialized_output_data?.count === 2 && doc.errors.includes("Output 'nope' not found")));
    });

    it('no idle watchdog', async () => {
      await server.faults({ selfHosted: true, idleTimeoutMs: 1_000 });
      track(await openRaw(server, { body: { data_output: ['count'] } }));
      await pause(3_000);
      assert.equal((await server.sessions()).active.length, 1, 'the idle session is still running');
    });
  });

  describe('start request (C3, C4)', () => {
    it('accepts any region string, and the key as Authorization: Bearer', async () => {
      const regions = await startRaw(server, { body: { requested_region: 'eu-west' } });
      assert.ok(regions.ok, 'requested_region eu-west accepted');
      track(regions.session);
      const bearer = await startRaw(server, { body: { api_key: undefined }, headers: { authorization: `Bearer ${API_KEY}` } });
      assert.ok(bearer.ok, 'a Bearer key is enough');
      track(bearer.session);
      const wrong = await startRaw(server, { body: { api_key: undefined }, headers: { authorization: 'Bearer wrong-key-123456' } });
      assert.equal(!wrong.ok && wrong.status, 401);
    });

    it('any webrtc_offer type is accepted (the service does not check it)', async () => {
      const pc = new (loadWrtc().RTCPeerConnection)({ iceServers: [] });
      pc.createDataChannel('inference');
      await pc.setLocalDescription(await pc.createOffer());
      try {
        const response = await fetch(`${server.url}/initialise_webrtc_worker`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            api_key: API_KEY,
            workflow_configuration: { type: 'WorkflowConfiguration', workspace_name: 'ws', workflow_id: 'detect-colors' },
            webrtc_offer: { sdp: pc.localDescription!.sdp, type: 'nonsense' },
          }),
        });
        assert.equal(response.status, 200, await response.clone().text());
        assert.equal(((await response.json()) as { type: string }).type, 'answer');
      } finally {
        pc.close();
        // This client never connects: drop its worker rather than wait for the connect timeout.
        await server.json('/local/sessions', { method: 'DELETE' });
      }
    });

    it('an inline specification together with workspace and id: the specification wins', async () => {
      const specification = {
        version: '1.0',
        inputs: [{ type: 'WorkflowImage', name: 'image' }],
        steps: [{ type: 'local/image_stats@v1', name: 'stats', image: '$inputs.image' }],
        outputs: [{ type: 'JsonField', name: 'brightness', selector: '$steps.stats.brightness' }],
      };
      const session = track(
        await openRaw(server, {
          file: await sceneVideo('two-squares'),
          body: {
            workflow_configuration: { type: 'WorkflowConfiguration', workspace_name: 'ws', workflow_id: 'detect-colors', workflow_specification: specification, image_input_name: 'image' },
            data_output: ['brightness'],
          },
        }),
      );
      await session.completion(15_000);
      assert.ok(session.frames().every(({ doc }) => typeof doc.serialized_output_data?.brightness === 'number'));
    });

    it('TURN config is an object with iceServers', async () => {
      const turn = await server.json<{ iceServers: Array<{ urls: string[] }> }>(`/webrtc_turn_config?api_key=${API_KEY}`);
      assert.ok(Array.isArray(turn.iceServers));
      assert.match(turn.iceServers[0].urls[0], /^turn:/);
    });

    it('--no-pull behaviour: a camera URL is refused with 400 and a clear message, without its password', async () => {
      await server.faults({ noPull: true });
      for (const field of ['rtsp_url', 'mjpeg_url']) {
        const url = field === 'rtsp_url' ? `rtsp://admin:${NO_PULL_PASSWORD}@10.0.0.5:554/stream1` : `http://admin:${NO_PULL_PASSWORD}@10.0.0.5/mjpeg`;
        const answer = await startRaw(server, { body: { [field]: url, data_output: ['count'] } });
        assert.equal(!answer.ok && answer.status, 400);
        const message = !answer.ok ? String(answer.body.message) : '';
        assert.match(message, /Failed to open stream .*10\.0\.0\.5.*cannot reach the camera/);
        assert.ok(!message.includes(NO_PULL_PASSWORD), 'the password is not in the message');
      }
      assert.equal((await server.sessions()).active.length, 0);
    });
  });

  describe('Vision Events (C5)', () => {
    it('accepts displayImagePosition and an image with only inputSourceId', async () => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(await sceneImage('door', 40))], { type: 'image/jpeg' }), 'input.jpg');
      const upload = await fetch(`${server.url}/vision-events/upload`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}` }, body: form });
      assert.equal(upload.status, 201);
      const { sourceId } = (await upload.json()) as { sourceId: string };
      const event = {
        eventId: randomUUID(),
        eventType: 'safety_alert',
        useCaseId: 'demo',
        timestamp: new Date().toISOString(),
        images: [{ inputSourceId: sourceId, label: 'workflow' }],
        displayImagePosition: 0,
      };
      const created = await fetch(`${server.url}/vision-events`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(event) });
      assert.equal(created.status, 201, await created.clone().text());
      const badPosition = await fetch(`${server.url}/vision-events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...event, eventId: randomUUID(), displayImagePosition: 3 }),
      });
      assert.equal(badPosition.status, 400);
    });
  });
});
