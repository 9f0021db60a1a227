import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { encodeUploadChunk, ResultReassembler } from '../../lib/stream/chunks';
import { loadWrtc } from '../../lib/stream/wrtc';
import { API_KEY, eventually, type RunningServer } from '../helpers/local-server';

/**
 * A deliberately bare WebRTC client for the local server's own tests: it sends exactly
 * the start request it is given and records every result as it arrived on the wire
 * (gzipped or not), which the engine's client hides by design. Not a model for clients.
 */

export interface RawDocument {
  serialized_output_data: Record<string, unknown> | null;
  video_metadata: Record<string, unknown> | null;
  errors: string[];
  processing_complete: boolean;
  termination_reason: string | null;
}

export interface RawResult {
  frameId: number;
  /** The payload started with gzip's magic bytes. */
  gzipped: boolean;
  doc: RawDocument;
}

export interface RawSession {
  results: RawResult[];
  /** Results before the completion message. */
  frames(): RawResult[];
  /** Resolves with the completion message (bounded by `timeoutMs`). */
  completion(timeoutMs: number): Promise<RawResult>;
  ack(frameId: number): void;
  /** Frames of the returned video track seen so far (when video was asked for). */
  videoFrames: number;
  /** The data channel closed (the server ended the session). */
  closed: boolean;
  close(): void;
}

export interface RawStart {
  /** Merged over a default body (workspace `ws`, workflow `detect-colors`, the test key in the body). */
  body?: Record<string, unknown>;
  /** Extra request headers (e.g. Authorization). */
  headers?: Record<string, string>;
  /** Upload this file on `video_upload`. */
  file?: string;
  /** Offer a receive-only video section (processed video comes back). Default false. */
  video?: boolean;
}

export type RawAnswer = { ok: true; session: RawSession } | { ok: false; status: number; body: { message?: string; detail?: unknown } };

export async function startRaw(server: RunningServer, start: RawStart = {}): Promise<RawAnswer> {
  const { RTCPeerConnection, nonstandard } = loadWrtc();
  const pc = new RTCPeerConnection({ iceServers: [] });
  if (start.video) pc.addTransceiver('video', { direction: 'recvonly' });
  const channel = pc.createDataChannel('inference', { ordered: true });
  channel.binaryType = 'arraybuffer';
  const upload = start.file ? pc.createDataChannel('video_upload', { ordered: true }) : undefined;
  const reassembler = new ResultReassembler();
  const results: RawResult[] = [];
  const sinks: Array<{ stop(): void }> = [];
  const session: RawSession = {
    results,
    frames: () => results.filter((result) => !result.doc.processing_complete),
    completion: (timeoutMs) => eventually(() => results.find((result) => result.doc.processing_complete), timeoutMs, 'the completion message'),
    ack: (frameId) => {
      if (channel.readyState === 'open') channel.send(JSON.stringify({ ack: frameId }));
    },
    videoFrames: 0,
    closed: false,
    close: () => {
      for (const sink of sinks) sink.stop();
      try {
        pc.close();
      } catch {
        // Already closed.
      }
    },
  };
  channel.onmessage = (event: MessageEvent) => {
    if (!(event.data instanceof ArrayBuffer)) return;
    const outcome = reassembler.push(new Uint8Array(event.data));
    if (outcome.kind !== 'complete') return;
    const bytes = Buffer.from(outcome.payload);
    const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
    const doc = JSON.parse((gzipped ? gunzipSync(bytes) : bytes).toString('utf8')) as RawDocument;
    results.push({ frameId: outcome.frameId, gzipped, doc });
  };
  channel.onclose = () => (session.closed = true);
  pc.ontrack = (event) => {
    const sink = new nonstandard.RTCVideoSink(event.track);
    sinks.push(sink);
    sink.onframe = () => session.videoFrames++;
  };
  if (upload && start.file) {
    const bytes = readFileSync(start.file);
    upload.onopen = () => {
      const size = 49_152;
      const total = Math.ceil(bytes.byteLength / size);
      for (let index = 0; index < total; index++) upload.send(encodeUploadChunk(index, total, bytes.subarray(index * size, (index + 1) * size)));
    };
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') {
      resolve();
      return;
    }
    const timer = setTimeout(resolve, 3_000);
    pc.onicegatheringstatechange = () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  const body = {
    api_key: API_KEY,
    workflow_configuration: { type: 'WorkflowConfiguration', workspace_name: 'ws', workflow_id: 'detect-colors', image_input_name: 'image' },
    webrtc_offer: { sdp: pc.localDescription!.sdp, type: pc.localDescription!.type },
    webrtc_realtime_processing: false,
    stream_output: start.video ? null : [],
    data_output: [],
    ...start.body,
  };
  const response = await fetch(`${server.url}/initialise_webrtc_worker`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...start.headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const answer = (await response.json()) as { sdp?: string; message?: string; detail?: unknown };
  if (!response.ok) {
    session.close();
    return { ok: false, status: response.status, body: answer };
  }
  await pc.setRemoteDescription({ sdp: answer.sdp!, type: 'answer' });
  await eventually(() => channel.readyState === 'open', 10_000, 'the inference channel to open');
  return { ok: true, session };
}

/** startRaw that must succeed. */
export async function openRaw(server: RunningServer, start: RawStart = {}): Promise<RawSession> {
  const answer = await startRaw(server, start);
  if (!answer.ok) throw new Error(`initialise_webrtc_worker answered ${answer.status}: ${JSON.stringify(answer.body)}`);
  return answer.session;
}
