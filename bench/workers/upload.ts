import { openAsBlob } from 'node:fs';
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { resolveConnection, StreamSession, VideoJobClient, silentLogger } from '../../lib';
import { loadWrtc } from '../../lib/stream/wrtc';
import { report, round, RssSampler } from '../lib/measure';

/**
 * One upload of a big file to the local server, in one of four ways, with throughput and
 * peak RSS growth of this process:
 * - `datachannel-ours` / `datachannel-sdk`: a file stream's upload on the `video_upload`
 *   data channel (this package's engine / the official SDK's useVideoFile), measured from
 *   the first progress report to the last, then the stream is stopped;
 * - `put-ours` / `put-reference`: the signed-URL PUT of video jobs (this package's
 *   VideoJobClient / a plain fs.createReadStream piped into an http PUT).
 *
 * Usage: upload.ts <mode> <serverUrl> <apiKey> <file>
 */
const [mode, serverUrl, apiKey, file] = process.argv.slice(2);
const size = statSync(file).size;

/** Throughput between the first and the last progress report (connection setup excluded). */
class ProgressClock {
  private first: { at: number; bytes: number } | undefined;
  private last: { at: number; bytes: number } | undefined;
  private finished!: () => void;
  readonly done = new Promise<void>((resolve) => (this.finished = resolve));

  progress(bytes: number): void {
    const point = { at: performance.now(), bytes };
    this.first ??= point;
    this.last = point;
    if (bytes >= size) this.finished();
  }

  megabytesPerSecond(): number {
    if (!this.first || !this.last || this.last.at === this.first.at) return Number.NaN;
    return (this.last.bytes - this.first.bytes) / (1024 * 1024) / ((this.last.at - this.first.at) / 1000);
  }
}

async function dataChannelOurs(clock: ProgressClock): Promise<void> {
  const session = new StreamSession({
    connection: resolveConnection({ apiKey, serverUrl, apiUrl: serverUrl }),
    workflow: { workspace: 'bench', workflowId: 'image-stats' },
    source: { kind: 'file', path: file },
    dataOutputs: ['brightness'],
    logger: silentLogger,
  });
  session.on('progress', (progress) => clock.progress(progress.sentBytes));
  session.on('error', () => undefined);
  await session.start();
  await clock.done;
  await session.stop();
}

interface Sdk {
  connectors: { withApiKey(key: string, options: { serverUrl: string; apiBaseUrl: string }): unknown };
  webrtc: { useVideoFile(options: Record<string, unknown>): Promise<{ cleanup(): Promise<void> }> };
}

async function dataChannelSdk(clock: ProgressClock): Promise<void> {
  const wrtc = loadWrtc();
  Object.assign(globalThis, { RTCPeerConnection: wrtc.RTCPeerConnection, MediaStream: wrtc.MediaStream });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sdk = require('@roboflow/inference-sdk') as Sdk;
  // A file-backed Blob, as a browser's File is: the SDK reads it slice by slice.
  const blob = await openAsBlob(file);
  const connection = await sdk.webrtc.useVideoFile({
    file: new File([blob], 'bench.mp4', { type: 'video/mp4' }),
    connector: sdk.connectors.withApiKey(apiKey, { serverUrl, apiBaseUrl: serverUrl }),
    wrtcParams: { workspaceName: 'bench', workflowId: 'image-stats', dataOutputNames: ['brightness'], streamOutputNames: [], iceServers: [], realtimeProcessing: false },
    onData: () => undefined,
    onUploadProgress: (sent: number) => clock.progress(sent),
  });
  await clock.done;
  await connection.cleanup();
}

async function putOurs(clock: ProgressClock): Promise<void> {
  const client = new VideoJobClient({ connection: resolveConnection({ apiKey, serverUrl, apiUrl: serverUrl }) });
  clock.progress(0);
  await client.upload({ kind: 'file', path: file }, 'workflow', { fileName: 'bench.mp4' });
  clock.progress(size);
  await client.close();
}

async function putReference(clock: ProgressClock): Promise<void> {
  const signed = (await (await fetch(`${serverUrl}/video_upload_signed_url/?api_key=${apiKey}&file_name=bench.mp4`, { method: 'POST' })).json()) as { signedUrl: string };
  clock.progress(0);
  const put = request(signed.signedUrl, { method: 'PUT', headers: { 'content-length': size, 'content-type': 'video/mp4' } });
  const answered = new Promise<number>((resolve, reject) => {
    put.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    put.on('error', reject);
  });
  await pipeline(createReadStream(file), put);
  const status = await answered;
  if (status !== 200) throw new Error(`PUT answered ${status}`);
  clock.progress(size);
}

async function main(): Promise<void> {
  console.log = console.debug = console.info = console.warn = () => undefined;
  const run = { 'datachannel-ours': dataChannelOurs, 'datachannel-sdk': dataChannelSdk, 'put-ours': putOurs, 'put-reference': putReference }[mode];
  if (!run) throw new Error(`unknown mode ${mode}`);
  const clock = new ProgressClock();
  const rss = new RssSampler(25);
  await run(clock);
  const memory = rss.stop();
  report({ mode, megabytes: round(size / (1024 * 1024), 1), megabytesPerSecond: round(clock.megabytesPerSecond(), 1), peakRssGrowthMb: memory.peakGrowthMb, baselineRssMb: memory.baselineMb });
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
