import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CapturedStream, ResilientStream, captureArgs, captureSettings, requireFfmpeg, resolveConnection, silentLogger } from '../../lib';
import { loadWrtc } from '../../lib/stream/wrtc';
import { cpuSeconds, percentile, report, round, RssSampler, sleep } from '../lib/measure';

/**
 * A camera read on this machine and streamed to the local server, three ways, each in
 * its own process with the same RTSP camera (H.264) and the same frame rate and size:
 * - `ours`: CapturedStream (ffmpeg straight to I420, onto the video track);
 * - `jpeg`: the README's old workaround: ffmpeg -> JPEG frames -> a `frames` stream
 *   (each JPEG decoded again, to RGBA, then I420);
 * - `sdk`: the official @roboflow/inference-sdk fed the same raw I420 frames from the
 *   same ffmpeg command line (its video track made from an RTCVideoSource).
 * CPU counts this process and its ffmpeg child. Prints frames sent, CPU per 1,000 frames,
 * the delay from a frame leaving ffmpeg to its handing to the video track, and RSS growth.
 *
 * Usage: capture.ts <ours|jpeg|sdk> <serverUrl> <apiKey> <rtspUrl> <fps> <maxSize> <seconds> <warmupMs>
 */
const [mode, serverUrl, apiKey, rtspUrl, fps, maxSize, seconds, warmupMs] = process.argv.slice(2);
const FPS = Number(fps);
const SECONDS = Number(seconds);
const WARMUP_MS = Number(warmupMs);
const connection = resolveConnection({ apiKey, serverUrl, apiUrl: serverUrl });
const workflow = { workspace: 'bench', workflowId: 'image-stats' };

/** CPU seconds (user + system) of a child process so far, from /proc (Linux). */
function childCpuSeconds(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat: 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

interface Running {
  ffmpegPid(): number | undefined;
  sent(): number;
  handoffMs: number[];
  /** Takes in hand-offs not collected yet (the end of a short run falls between collections). */
  flush?(): void;
  stop(): Promise<void>;
}

async function runOurs(): Promise<Running> {
  const stream = new CapturedStream({
    connection,
    workflow,
    camera: { kind: 'url', url: rtspUrl },
    dataOutputs: ['brightness'],
    capture: { maxFps: FPS, maxSize: Number(maxSize) },
    logger: silentLogger,
  });
  const handoffMs: number[] = [];
  // The engine keeps the last hand-off delays (ffmpeg -> video track); collect them once a second.
  let taken = 0;
  const collect = (): void => {
    // The engine keeps a window of the last hand-offs: take only what arrived since last time.
    const fresh = Math.min(stream.frames.framesSent - taken, stream.handoffMs.length);
    if (fresh > 0) handoffMs.push(...stream.handoffMs.slice(-fresh));
    taken = stream.frames.framesSent;
  };
  const collector = setInterval(collect, 1_000);
  stream.on('error', () => undefined);
  stream.start();
  // Measured from the moment frames flow, as the other two are (after their sessions started).
  while (stream.state !== 'streaming' || stream.frames.framesSent === 0) await sleep(20);
  return {
    ffmpegPid: () => stream.ffmpegPid,
    sent: () => stream.frames.framesSent,
    handoffMs,
    flush: collect,
    stop: async () => {
      clearInterval(collector);
      await stream.stop();
    },
  };
}

/** ffmpeg reading the camera, writing either raw I420 (the same command line as ours) or JPEG frames. */
function ffmpegReader(output: 'i420' | 'jpeg'): ChildProcess {
  const ffmpeg = requireFfmpeg();
  const args = captureArgs(ffmpeg, { kind: 'url', url: rtspUrl }, captureSettings({ maxFps: FPS, maxSize: Number(maxSize) }));
  if (output === 'jpeg') {
    // The workaround's ffmpeg node: JPEG frames on stdout instead of raw I420.
    const at = args.indexOf('-pix_fmt');
    args.splice(at, args.length - at, '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', '3', 'pipe:1');
  }
  return spawn(ffmpeg.path, args, { stdio: ['ignore', 'pipe', 'ignore'] });
}

/** Splits ffmpeg's stdout into whole frames of `size` bytes (raw) and passes each on. */
function rawFrames(child: ChildProcess, size: number, onFrame: (frame: Buffer) => void): void {
  let pending = Buffer.allocUnsafe(size);
  let filled = 0;
  child.stdout?.on('data', (chunk: Buffer) => {
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(size - filled, chunk.length - offset);
      chunk.copy(pending, filled, offset, offset + take);
      filled += take;
      offset += take;
      if (filled === size) {
        onFrame(pending);
        pending = Buffer.allocUnsafe(size);
        filled = 0;
      }
    }
  });
}

/** Splits a stream of concatenated JPEGs at their end markers. */
function jpegFrames(child: ChildProcess, onFrame: (jpeg: Buffer) => void): void {
  let buffered = Buffer.alloc(0);
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (let end = buffered.indexOf(Buffer.from([0xff, 0xd9])); end >= 0; end = buffered.indexOf(Buffer.from([0xff, 0xd9]))) {
      onFrame(buffered.subarray(0, end + 2));
      buffered = buffered.subarray(end + 2);
    }
  });
}

async function runJpeg(): Promise<Running> {
  const stream = new ResilientStream({ connection, workflow, source: { kind: 'frames' }, dataOutputs: ['brightness'], logger: silentLogger });
  stream.on('error', () => undefined);
  stream.start();
  while (stream.state !== 'streaming') await sleep(20);
  const child = ffmpegReader('jpeg');
  let sent = 0;
  const handoffMs: number[] = [];
  jpegFrames(child, (jpeg) => {
    const at = Date.now();
    void stream.pushFrame(Buffer.from(jpeg)).then(
      (outcome) => {
        if (outcome.sent) sent++;
        handoffMs.push(Date.now() - at);
      },
      () => undefined,
    );
  });
  return {
    ffmpegPid: () => child.pid,
    sent: () => sent,
    handoffMs,
    stop: async () => {
      child.kill('SIGKILL');
      await stream.stop();
    },
  };
}

interface Sdk {
  connectors: { withApiKey(key: string, options: { serverUrl: string; apiBaseUrl: string }): unknown };
  webrtc: { useStream(options: Record<string, unknown>): Promise<{ cleanup(): Promise<void> }> };
}

async function runSdk(): Promise<Running> {
  const wrtc = loadWrtc();
  Object.assign(globalThis, { RTCPeerConnection: wrtc.RTCPeerConnection, MediaStream: wrtc.MediaStream });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@roboflow/inference-sdk') as Sdk;
  const source = new wrtc.nonstandard.RTCVideoSource();
  const track = source.createTrack();
  const connectionOfSdk = await sdk.webrtc.useStream({
    source: new wrtc.MediaStream([track]),
    connector: sdk.connectors.withApiKey(apiKey, { serverUrl, apiBaseUrl: serverUrl }),
    wrtcParams: { workspaceName: 'bench', workflowId: 'image-stats', dataOutputNames: ['brightness'], streamOutputNames: [], iceServers: [] },
    onData: () => undefined,
  });
  // The same ffmpeg line as ours; the frame size comes from its stream description.
  const child = ffmpegReader('i420');
  let sent = 0;
  const handoffMs: number[] = [];
  let stderr = '';
  const sized = new Promise<{ width: number; height: number }>((resolve) => {
    const probe = spawn(requireFfmpeg().path, ['-hide_banner', '-rtsp_transport', 'tcp', '-i', rtspUrl, '-frames:v', '1', '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    probe.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    probe.on('exit', () => {
      const size = /Video:.*?,\s*(\d{2,5})x(\d{2,5})/.exec(stderr);
      const width = Number(size?.[1] ?? 0);
      const height = Number(size?.[2] ?? 0);
      const scale = Math.min(1, Number(maxSize) / Math.max(width, height));
      resolve({ width: Math.floor((width * scale) / 2) * 2, height: Math.floor((height * scale) / 2) * 2 });
    });
  });
  const { width, height } = await sized;
  rawFrames(child, width * height * 1.5, (frame) => {
    const at = Date.now();
    source.onFrame({ width, height, data: new Uint8ClampedArray(frame.buffer, frame.byteOffset, frame.byteLength) });
    sent++;
    handoffMs.push(Date.now() - at);
  });
  return {
    ffmpegPid: () => child.pid,
    sent: () => sent,
    handoffMs,
    stop: async () => {
      child.kill('SIGKILL');
      await connectionOfSdk.cleanup();
      track.stop();
    },
  };
}

async function main(): Promise<void> {
  console.log = console.debug = console.info = console.warn = () => undefined;
  const running = mode === 'sdk' ? await runSdk() : mode === 'jpeg' ? await runJpeg() : await runOurs();
  await sleep(WARMUP_MS);
  const rss = new RssSampler();
  rss.steadyFrom();
  const rssAtStart = process.memoryUsage().rss;
  const cpuFrom = process.cpuUsage();
  const childFrom = childCpuSeconds(running.ffmpegPid());
  const sentFrom = running.sent();
  const handoffFrom = running.handoffMs.length;
  await sleep(SECONDS * 1000);
  const cpu = cpuSeconds(cpuFrom) + (childCpuSeconds(running.ffmpegPid()) - childFrom);
  const sent = running.sent() - sentFrom;
  const rssAtEnd = process.memoryUsage().rss;
  const memory = rss.stop();
  running.flush?.();
  const handoff = running.handoffMs.slice(handoffFrom);
  await running.stop().catch(() => undefined);
  report({
    mode,
    seconds: SECONDS,
    framesSent: sent,
    framesPerSecond: round(sent / SECONDS, 1),
    cpuSecondsPer1000Frames: round((cpu / Math.max(1, sent)) * 1000, 3),
    handoffMs: { p50: round(percentile(handoff, 50), 2), p99: round(percentile(handoff, 99), 2) },
    rssGrowthMb: round((rssAtEnd - rssAtStart) / 1024 / 1024, 1),
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
