import { resolveConnection, StreamSession, silentLogger } from '../../lib';
import { loadWrtc } from '../../lib/stream/wrtc';
import { LatencyMatcher, makeFrames, type I420Frame } from '../lib/frames';
import { cpuSeconds, percentile, report, round, RssSampler, sleep } from '../lib/measure';

/**
 * One client process streaming generated frames to the local server's image-stats
 * workflow: `ours` (this package's engine) or `sdk` (the official @roboflow/inference-sdk
 * with @roamhq/wrtc as the browser's WebRTC). Both feed the same I420 frames to a wrtc
 * video source at the same rate. Prints latency percentiles, CPU and RSS.
 *
 * Usage: live.ts <ours|sdk> <serverUrl> <apiKey> <width> <height> <fps> <seconds> [streams] [warmupMs]
 */
const [client, serverUrl, apiKey, width, height, fps, seconds, streamCount = '1', warmupMs = '6000'] = process.argv.slice(2);
const W = Number(width);
const H = Number(height);
const FPS = Number(fps);
const SECONDS = Number(seconds);
const STREAMS = Number(streamCount);
// WebRTC's bandwidth estimate ramps up over the first seconds (the encoder runs scaled
// down and frames queue in the pacer meanwhile): not measured.
const WARMUP_MS = Number(warmupMs);

interface Running {
  push(frame: I420Frame): void;
  stop(): Promise<void>;
}

type OnResult = (brightness: number, at: number) => void;

async function startOurs(onResult: OnResult): Promise<Running> {
  const session = new StreamSession({
    connection: resolveConnection({ apiKey, serverUrl, apiUrl: serverUrl }),
    workflow: { workspace: 'bench', workflowId: 'image-stats' },
    source: { kind: 'frames' },
    dataOutputs: ['brightness'],
    logger: silentLogger,
  });
  session.on('result', (result) => onResult(Number((result.data as { brightness?: number } | null)?.brightness), performance.now()));
  session.on('error', () => undefined);
  await session.start();
  return { push: (frame) => session.frames?.pushI420(frame), stop: () => session.stop() };
}

interface Sdk {
  connectors: { withApiKey(key: string, options: { serverUrl: string; apiBaseUrl: string }): unknown };
  webrtc: { useStream(options: Record<string, unknown>): Promise<{ cleanup(): Promise<void> }> };
}

async function startSdk(onResult: OnResult): Promise<Running> {
  const wrtc = loadWrtc();
  Object.assign(globalThis, { RTCPeerConnection: wrtc.RTCPeerConnection, MediaStream: wrtc.MediaStream });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@roboflow/inference-sdk') as Sdk;
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const connection = await sdk.webrtc.useStream({
    source: new wrtc.MediaStream([track]),
    connector: sdk.connectors.withApiKey(apiKey, { serverUrl, apiBaseUrl: serverUrl }),
    wrtcParams: { workspaceName: 'bench', workflowId: 'image-stats', dataOutputNames: ['brightness'], streamOutputNames: [], iceServers: [] },
    onData: (data: { serialized_output_data?: { brightness?: number } | null }) => onResult(Number(data.serialized_output_data?.brightness), performance.now()),
  });
  return {
    push: (frame) => source.onFrame(frame),
    stop: async () => {
      await connection.cleanup();
      track.stop();
    },
  };
}

async function main(): Promise<void> {
  // The SDK logs every call; keep the worker's output to its result line.
  console.log = console.debug = console.info = console.warn = () => undefined;
  const { frames, brightness } = makeFrames(W, H);
  const matchers = Array.from({ length: STREAMS }, () => new LatencyMatcher(brightness));
  const results = Array.from({ length: STREAMS }, () => 0);
  const running: Running[] = [];
  for (let s = 0; s < STREAMS; s++) {
    const onResult: OnResult = (value, at) => {
      if (!measuring) return;
      results[s]++;
      matchers[s].result(value, at);
    };
    running.push(await (client === 'sdk' ? startSdk(onResult) : startOurs(onResult)));
  }
  let measuring = false;
  let index = 0;
  let sentMeasured = 0;
  const rss = new RssSampler();
  const interval = 1000 / FPS;
  const started = performance.now();
  let cpuFrom = process.cpuUsage();
  let measureStart = 0;
  // Frames go out on a fixed schedule (no drift); the first WARMUP_MS are not measured.
  while (performance.now() - started < WARMUP_MS + SECONDS * 1000) {
    const now = performance.now();
    if (!measuring && now - started >= WARMUP_MS) {
      measuring = true;
      rss.steadyFrom();
      cpuFrom = process.cpuUsage();
      measureStart = now;
    }
    const frame = frames[index % frames.length];
    for (let s = 0; s < STREAMS; s++) {
      if (measuring) matchers[s].sent(index, performance.now());
      running[s].push(frame);
    }
    if (measuring) sentMeasured++;
    index++;
    const next = started + index * interval;
    await sleep(Math.max(0, next - performance.now()));
  }
  const elapsed = (performance.now() - measureStart) / 1000;
  const cpu = cpuSeconds(cpuFrom);
  await sleep(600);
  measuring = false;
  const memory = rss.stop();
  for (const stream of running) await stream.stop().catch(() => undefined);
  const latencies = matchers.flatMap((matcher) => matcher.latencies);
  report({
    client,
    width: W,
    height: H,
    fps: FPS,
    streams: STREAMS,
    seconds: round(elapsed, 1),
    framesSent: sentMeasured * STREAMS,
    results: results.reduce((a, b) => a + b, 0),
    resultsPerSecondPerStream: round(Math.min(...results) / elapsed, 1),
    unmatched: matchers.reduce((sum, matcher) => sum + matcher.unmatched, 0),
    latencyMs: { p50: round(percentile(latencies, 50), 1), p95: round(percentile(latencies, 95), 1), p99: round(percentile(latencies, 99), 1) },
    cpuSecondsPer1000Frames: round((cpu / Math.max(1, sentMeasured * STREAMS)) * 1000, 3),
    steadyRssMb: memory.steadyMb,
  });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
