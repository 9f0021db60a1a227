import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { decodeImage, rgbaToI420 } from '../../lib';
import { expectedBoxes, getScene } from '../../server/media/scenes';
import { API_KEY, eventually, startLocalServer, type RunningServer } from '../helpers/local-server';
import { sceneImage, sceneVideo } from '../helpers/media';
import type { VideoSink } from '../../lib/stream/wrtc';
import { installWrtcGlobals } from '../helpers/wrtc-globals';

/**
 * Conformance: Roboflow's official JS SDK (@roboflow/inference-sdk, unchanged), run in
 * Node with @roamhq/wrtc as the browser's WebRTC, against our local server. If the two
 * disagree, the server is wrong.
 *
 * The SDK (0.1.13) cannot read gzip, and the hosted service gzips every result that
 * carries data outputs, as our server does by default. So the cases that ask for data
 * outputs run against a server started with --no-gzip, and one case runs the SDK's
 * video-only use against a default server: without data outputs results are plain JSON,
 * on the hosted service and on ours.
 */

interface SdkResult {
  serialized_output_data: Record<string, unknown> | null;
  video_metadata: { frame_id: number } | null;
  processing_complete?: boolean;
}

interface SdkConnection {
  cleanup(): Promise<void>;
}

interface Sdk {
  connectors: { withApiKey(key: string, options: { serverUrl: string; apiBaseUrl: string }): unknown };
  webrtc: {
    useVideoFile(options: Record<string, unknown>): Promise<SdkConnection>;
    useStream(options: Record<string, unknown>): Promise<SdkConnection>;
  };
}

describe('conformance: the official @roboflow/inference-sdk against the local server (gzip off)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let sdk: Sdk;
  const quiet: Record<'debug' | 'log' | 'warn', typeof console.log> = { debug: console.debug, log: console.log, warn: console.warn };

  before(async () => {
    installWrtcGlobals();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sdk = require('@roboflow/inference-sdk') as Sdk;
    server = await startLocalServer(['--cameras', '', '--no-gzip']);
    // The SDK logs every call with console.debug/log; keep test output readable.
    console.debug = () => undefined;
    console.log = () => undefined;
    // It also warns that wrtc cannot change encoder parameters; harmless here.
    console.warn = () => undefined;
  });
  after(async () => {
    console.debug = quiet.debug;
    console.log = quiet.log;
    console.warn = quiet.warn;
    await server.stop();
  });
  afterEach(async () => {
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'the SDK closed its session');
  });

  const connector = (): unknown => sdk.connectors.withApiKey(API_KEY, { serverUrl: server.url, apiBaseUrl: server.url });

  for (const realtime of [false, true]) {
    it(`file upload (realtime ${realtime ? 'on, the SDK default' : 'off, ack-paced'}): every frame's result, in order, then processing_complete`, async () => {
      const scene = getScene('two-squares');
      const file = new File([readFileSync(await sceneVideo('two-squares'))], 'two-squares.mp4', { type: 'video/mp4' });
      const results: SdkResult[] = [];
      let uploaded = 0;
      let resolveDone!: () => void;
      const done = new Promise<void>((resolve) => (resolveDone = resolve));
      const connection = await sdk.webrtc.useVideoFile({
        file,
        connector: connector(),
        wrtcParams: { workspaceName: 'my-ws', workflowId: 'detect-colors', dataOutputNames: ['predictions', 'count'], streamOutputNames: [], iceServers: [], realtimeProcessing: realtime },
        onData: (data: SdkResult) => {
          results.push(data);
          if (data.processing_complete) resolveDone();
        },
        onUploadProgress: (sent: number, total: number) => (uploaded = sent / total),
      });
      await done;
      await connection.cleanup();
      assert.equal(uploaded, 1);
      const frames = results.filter((r) => !r.processing_complete);
      assert.deepEqual(
        frames.map((r) => r.video_metadata?.frame_id),
        Array.from({ length: scene.frames }, (_, i) => i + 1),
      );
      assert.equal(results[results.length - 1].processing_complete, true);
      for (const result of frames) {
        const predictions = (result.serialized_output_data?.predictions as { predictions: Array<{ class: string; x: number; y: number }> }).predictions;
        const expected = expectedBoxes(scene, result.video_metadata!.frame_id - 1);
        assert.deepEqual(predictions.map((p) => [p.class, p.x, p.y]).sort(), expected.map((b) => [b.color, b.x, b.y]).sort());
      }
    });
  }

  it('live video track: results keep arriving for the frames the track carries', async () => {
    const wrtc = installWrtcGlobals();
    const source = new wrtc.nonstandard.RTCVideoSource();
    const track = source.createTrack();
    const stream = new wrtc.MediaStream([track]);
    const frames = await Promise.all(Array.from({ length: 30 }, async (_, i) => rgbaToI420(await decodeImage(await sceneImage('two-squares', i)))));
    let index = 0;
    const pump = setInterval(() => source.onFrame(frames[index++ % frames.length]), 66);
    const results: SdkResult[] = [];
    const connection = await sdk.webrtc.useStream({
      source: stream,
      connector: connector(),
      wrtcParams: { workspaceName: 'my-ws', workflowId: 'detect-colors', dataOutputNames: ['count'], streamOutputNames: [], iceServers: [] },
      onData: (data: SdkResult) => results.push(data),
    });
    try {
      await eventually(() => results.length >= 20, 20_000, '20 live results');
      const before = results.length;
      await eventually(() => results.length >= before + 10, 10_000, 'results keep arriving');
    } finally {
      clearInterval(pump);
      await connection.cleanup();
      track.stop();
    }
    assert.ok(results.every((r) => r.serialized_output_data?.count === 2));
    const ids = results.map((r) => r.video_metadata!.frame_id);
    assert.ok(
      ids.every((id, i) => i === 0 || id > ids[i - 1]),
      'frame ids increase',
    );
  });
});

describe('conformance: the official SDK against a default local server (hosted behaviour, gzip on)', function () {
  this.timeout(60_000);
  let server: RunningServer;
  let sdk: Sdk;
  const quiet: Record<'debug' | 'log' | 'warn', typeof console.log> = { debug: console.debug, log: console.log, warn: console.warn };

  before(async () => {
    installWrtcGlobals();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    sdk = require('@roboflow/inference-sdk') as Sdk;
    server = await startLocalServer(['--cameras', '']);
    console.debug = () => undefined;
    console.log = () => undefined;
    console.warn = () => undefined;
  });
  after(async () => {
    console.debug = quiet.debug;
    console.log = quiet.log;
    console.warn = quiet.warn;
    await server.stop();
  });

  it('video only (no data outputs): plain JSON results and the processed video arrive', async () => {
    const wrtc = installWrtcGlobals();
    const source = new wrtc.nonstandard.RTCVideoSource();
    const track = source.createTrack();
    const frames = await Promise.all(Array.from({ length: 30 }, async (_, i) => rgbaToI420(await decodeImage(await sceneImage('two-squares', i)))));
    let index = 0;
    const pump = setInterval(() => source.onFrame(frames[index++ % frames.length]), 66);
    const results: SdkResult[] = [];
    let videoFrames = 0;
    let sink: VideoSink | undefined;
    const connection = (await sdk.webrtc.useStream({
      source: new wrtc.MediaStream([track]),
      connector: sdk.connectors.withApiKey(API_KEY, { serverUrl: server.url, apiBaseUrl: server.url }),
      wrtcParams: { workspaceName: 'my-ws', workflowId: 'detect-colors', dataOutputNames: [], streamOutputNames: ['output_image'], iceServers: [] },
      onData: (data: SdkResult) => results.push(data),
    })) as SdkConnection & { remoteStream(): Promise<MediaStream> };
    try {
      const remote = await connection.remoteStream();
      const video = new wrtc.nonstandard.RTCVideoSink(remote.getVideoTracks()[0]);
      sink = video;
      video.onframe = () => videoFrames++;
      await eventually(() => results.length >= 10, 20_000, 'ten results the SDK could read');
      await eventually(() => videoFrames >= 5, 20_000, 'five frames of processed video');
    } finally {
      clearInterval(pump);
      sink?.stop();
      await connection.cleanup();
      track.stop();
    }
    assert.ok(results.every((r) => r.serialized_output_data === null && typeof r.video_metadata?.frame_id === 'number'));
    await eventually(async () => (await server.sessions()).active.length === 0, 5_000, 'the SDK closed its session');
  });
});
