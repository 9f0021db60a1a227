import sharp from 'sharp';
import { mjpegInputArgs, requireFfmpeg, rtspInputArgs } from '../../lib/media/ffmpeg';
import { redact } from '../../lib/redact';
import type { Behaviour, CorruptionKind } from '../behaviour';
import { FrameReader, type RgbaFrame } from '../media/frame-reader';
import { compileWorkflow, isImageValue, type WorkflowRun } from '../workflows/engine';
import { ResultSender } from './result-sender';
import { UploadReceiver } from './upload-receiver';
import { wrtc, type I420 } from './wrtc';

export type SourceKind = 'track' | 'file' | 'rtsp' | 'mjpeg';

export interface WorkerConfig {
  id: string;
  /** For listings and logs: "workspace/workflow" or "inline". */
  workflowLabel: string;
  /**
   * The workflow as the request gave it (checked by the route before the session starts):
   * plain data, so the session can run in the worker process (server/webrtc/host.ts).
   */
  workflow: { specification: unknown; imageInput: string };
  parameters: Record<string, unknown>;
  /** null or [] = none, ['*'] = every non-image output, else names. */
  dataOutput: string[] | null;
  /** Output rendered into the returned video; 'auto' = first image output; null = no video track. */
  streamOutput: string | null;
  realtime: boolean;
  declaredFps: number | null;
  /** When the session ends by itself with `timeout_reached`, in seconds from its start. */
  processingTimeoutSec: number;
  /** The saved workflow's pinned version (`workflow_version_id`), or null for the latest. */
  workflowVersionId: string | null;
  /** `disable_sinks`: the workflow's sink blocks are skipped (this server's workflows have none: it is recorded). */
  sinksDisabled: boolean;
  remoteSource?: { kind: 'rtsp' | 'mjpeg'; url: string };
  /** Self-hosted behaviour: no idle watchdog; output names checked per frame. */
  selfHosted: boolean;
  dataDir: string;
}

interface QueuedFrame {
  id: number;
  receivedAt: Date;
  load(): RgbaFrame;
  pts: number;
  timeBase: number;
}

export interface WorkerSummary {
  id: string;
  workflow: string;
  source: SourceKind | 'pending';
  /** The camera URL the server pulls, password masked. */
  sourceUrl?: string;
  realtime: boolean;
  /** Seconds after which the session ends with `timeout_reached`. */
  processingTimeout: number;
  /** What the start request asked for: a pinned workflow version, a dry run. */
  workflowVersionId: string | null;
  sinksDisabled: boolean;
  state: 'negotiating' | 'running' | 'complete' | 'ended';
  framesReceived: number;
  framesProcessed: number;
  /** The highest frame id the client acknowledged (0 before its first ack). */
  framesAcknowledged: number;
  framesDropped: number;
  startedAt: string;
  endedAt?: string;
  endedReason?: string;
  /** `termination_reason` of the completion message, once one was sent (null: a natural end). */
  completion?: string | null;
}

/** What a session needs from the process it runs in. */
export interface WorkerDeps {
  /** Current behaviour, read on every use (faults change at run time). */
  behaviour: () => Behaviour;
  log: (line: string) => void;
  onEnded: (session: WorkerSession) => void;
  /** The next result to send broken (the corruptResults fault, counted down), or undefined. */
  takeCorruption: () => CorruptionKind | undefined;
}

/** A session's listing before it has done anything: what the start request asked for. */
export function initialSummary(config: WorkerConfig, startedAt: Date): WorkerSummary {
  return {
    id: config.id,
    workflow: config.workflowLabel,
    source: 'pending',
    ...(config.remoteSource ? { sourceUrl: redact(config.remoteSource.url) } : {}),
    realtime: config.realtime,
    processingTimeout: config.processingTimeoutSec,
    workflowVersionId: config.workflowVersionId,
    sinksDisabled: config.sinksDisabled,
    state: 'negotiating',
    framesReceived: 0,
    framesProcessed: 0,
    framesAcknowledged: 0,
    framesDropped: 0,
    startedAt: startedAt.toISOString(),
  };
}

/** Local time without a zone, microseconds, as the hosted server prints `received_at`. */
function localIsoTime(date: Date): string {
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, -1) + '000';
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Live frames waiting beyond this (realtime off, client not acking) are dropped oldest first. */
const MAX_LIVE_BACKLOG = 600;
/** A pulled camera in realtime mode lags at most this many frames (as the hosted worker). */
const REALTIME_CAMERA_BACKLOG = 30;
/** Time a client has to open the data channel after the answer. */
const CONNECT_TIMEOUT_MS = 20_000;
/** A paused file decoder resumes below this many waiting frames. */
const DECODE_LOW_WATER = 8;
const DECODE_HIGH_WATER = 32;

/**
 * One WebRTC worker: the peer connection of one client, its frame source (the client's
 * track, an uploaded file, or a camera URL the server pulls), the workflow run over
 * every frame it picks, and the results sent back in chunks. Mirrors the hosted
 * worker: realtime mode keeps only the newest frame; otherwise every frame is
 * processed and, once the client acks, paced by its acks.
 */
export class WorkerSession {
  readonly config: WorkerConfig;
  readonly startedAt = new Date();
  private readonly behaviour: () => Behaviour;
  private readonly log: (line: string) => void;
  private readonly onEnded: (session: WorkerSession) => void;
  private readonly takeCorruption: () => CorruptionKind | undefined;
  private readonly run: WorkflowRun;
  private pc: RTCPeerConnection | undefined;
  private sender: ResultSender | undefined;
  private videoOut: { source: { onFrame(frame: I420): void }; track: MediaStreamTrack } | undefined;
  private streamOutput: string | null;
  private dataOutput: string[] | null;
  private sink: { stop(): void } | undefined;
  /** True while negotiate() runs: the peer connection must not be closed under it. */
  private negotiating = false;
  private peerClosed = false;
  private reader: FrameReader | undefined;
  private upload: UploadReceiver | undefined;
  private source: SourceKind | 'pending' = 'pending';
  private state: WorkerSummary['state'] = 'negotiating';
  private endedReason: string | undefined;
  private endedAt: Date | undefined;
  private queue: QueuedFrame[] = [];
  private newest: QueuedFrame | undefined;
  private processing = false;
  private sourceEnded = false;
  private completionSent = false;
  private lastAck = 0;
  private acking = false;
  private ackWaiter: (() => void) | undefined;
  private received = 0;
  private processed = 0;
  private dropped = 0;
  private lastActivity = Date.now();
  private arrivals: number[] = [];
  private timers: NodeJS.Timeout[] = [];
  private firstTrackFrameAt = 0;
  /** declared_fps as sent, replaced by an uploaded file's own frame rate. */
  private declaredFps: number | null;
  /** Results are being held back (client not acking, or the channel is full): the hosted watchdog counts that as activity. */
  private waiting = 0;
  private completionReason: string | null | undefined;

  constructor(config: WorkerConfig, deps: WorkerDeps) {
    this.config = config;
    this.behaviour = deps.behaviour;
    this.log = deps.log;
    this.onEnded = deps.onEnded;
    this.takeCorruption = deps.takeCorruption;
    const compiled = compileWorkflow(config.workflow.specification, config.workflow.imageInput);
    this.run = compiled.createRun(config.parameters);
    this.declaredFps = config.declaredFps;
    this.dataOutput = config.dataOutput;
    this.streamOutput = config.streamOutput === 'auto' ? (compiled.outputs.find((output) => output.kind === 'image')?.name ?? '') : config.streamOutput;
  }

  get summary(): WorkerSummary {
    return {
      ...initialSummary(this.config, this.startedAt),
      source: this.source,
      state: this.state,
      framesReceived: this.received,
      framesProcessed: this.processed,
      framesAcknowledged: this.lastAck,
      framesDropped: this.dropped,
      ...(this.endedAt ? { endedAt: this.endedAt.toISOString() } : {}),
      ...(this.endedReason ? { endedReason: redact(this.endedReason) } : {}),
      ...(this.completionReason !== undefined ? { completion: this.completionReason } : {}),
    };
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  /**
   * Opens a camera URL first (when there is one), so an unreachable camera fails the
   * request; then answers the offer once ICE gathering is done.
   */
  async negotiate(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    this.negotiating = true;
    try {
      return await this.answer(offer);
    } finally {
      this.negotiating = false;
      // Ended meanwhile (the client went away): the peer connection is closed only now.
      // Closing it while wrtc is still setting a description crashes the native module.
      if (this.state === 'ended') this.closePeer();
    }
  }

  private async answer(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    if (this.config.remoteSource) await this.openRemoteSource(this.config.remoteSource);
    this.throwIfEnded();
    const { RTCPeerConnection, MediaStream, nonstandard } = wrtc();
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    pc.ondatachannel = (event) => this.onDataChannel(event.channel);
    pc.ontrack = (event) => this.onTrack(event.track);
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === 'failed' || pc.connectionState === 'closed') this.end(`connection ${pc.connectionState}`);
    };
    await pc.setRemoteDescription(offer);
    this.throwIfEnded();
    if (this.streamOutput !== null) {
      if ((offer.sdp ?? '').includes('m=video')) {
        const source = new nonstandard.RTCVideoSource();
        const track = source.createTrack();
        pc.addTrack(track, new MediaStream([track]));
        this.videoOut = { source, track };
      } else {
        this.log(`session ${this.config.id}: the offer has no video section; no video will be sent back`);
      }
    }
    const answer = await pc.createAnswer();
    this.throwIfEnded();
    await pc.setLocalDescription(answer);
    this.throwIfEnded();
    await this.iceGathered(pc, 2_000);
    this.throwIfEnded();
    this.state = 'running';
    // Self-hosted servers start no idle watchdog (docs/protocol.md §2.7).
    if (!this.config.selfHosted) this.watchIdle();
    // A client that never completes the connection (it went away after the answer) would
    // otherwise keep the worker, and a camera pull, alive through the idle watchdog.
    this.timers.push(
      setTimeout(() => {
        if (!this.sender?.open && this.state === 'running') this.end('client never connected');
      }, CONNECT_TIMEOUT_MS),
    );
    // Timers hold at most ~24.8 days; the service maximum (604,800 s) fits.
    this.timers.push(setTimeout(() => void this.timeoutReached(), Math.max(0, this.config.processingTimeoutSec * 1000)));
    const local = pc.localDescription;
    if (!local) throw new Error('no local description');
    return { sdp: local.sdp, type: local.type };
  }

  private throwIfEnded(): void {
    if (this.state === 'ended') throw new Error(`the session ended while it was being set up (${this.endedReason ?? 'ended'})`);
  }

  /** Ends the session (client gone, terminate call, idle, fault, shutdown). Idempotent. */
  end(reason: string): void {
    if (this.state === 'ended') return;
    this.state = 'ended';
    this.endedReason = reason;
    this.endedAt = new Date();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers = [];
    this.queue = [];
    this.newest = undefined;
    this.ackWaiter?.();
    this.reader?.stop();
    if (!this.negotiating) this.closePeer();
    void this.upload?.dispose();
    this.log(`session ${this.config.id} ended (${reason}) after ${this.received} frames received, ${this.processed} processed`);
    this.onEnded(this);
  }

  /** Stops the video in and out and closes the peer connection (never while it is being negotiated). */
  private closePeer(): void {
    if (this.peerClosed) return;
    this.peerClosed = true;
    this.sink?.stop();
    this.videoOut?.track.stop();
    if (this.pc) {
      this.pc.ondatachannel = null;
      this.pc.ontrack = null;
      this.pc.onconnectionstatechange = null;
      try {
        this.pc.close();
      } catch {
        // Already closed.
      }
    }
  }

  private iceGathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      pc.addEventListener('icegatheringstatechange', () => {
        if (pc.iceGatheringState === 'complete') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  }

  private watchIdle(): void {
    const check = (): void => {
      if (this.state === 'ended') return;
      // Waiting for an ack (or for the client to read) is activity on the hosted
      // service: its frame loop heartbeats while it waits.
      if (this.waiting > 0 || this.ackWaiter) this.touch();
      if (Date.now() - this.lastActivity > this.behaviour().idleTimeoutMs) {
        this.end('idle timeout');
        return;
      }
      this.timers.push(setTimeout(check, 1_000));
    };
    this.timers.push(setTimeout(check, 1_000));
  }

  private touch(): void {
    this.lastActivity = Date.now();
  }

  private onDataChannel(channel: RTCDataChannel): void {
    channel.binaryType = 'arraybuffer';
    if (channel.label === 'video_upload') {
      this.source = 'file';
      this.upload = new UploadReceiver(this.config.dataDir, this.config.id);
      channel.onmessage = (event: MessageEvent) => this.onUploadMessage(channel, event.data);
      return;
    }
    // Any other label is the control/result channel ("inference").
    this.sender = new ResultSender(channel, (held) => (this.waiting += held ? 1 : -1));
    channel.onmessage = (event: MessageEvent) => this.onControlMessage(event.data);
    channel.onclose = () => this.end('client closed the connection');
    if (channel.readyState === 'open') this.processQueue();
    else channel.onopen = () => this.processQueue();
  }

  private onUploadMessage(channel: RTCDataChannel, data: unknown): void {
    this.touch();
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : typeof data === 'string' ? Buffer.from(data) : undefined;
    if (!bytes) return;
    if (bytes.byteLength <= 1) {
      // Keepalive ping: echo it.
      try {
        if (typeof data === 'string') channel.send(data);
        else channel.send(bytes);
      } catch {
        // The client closed the channel meanwhile: nothing to answer.
      }
      return;
    }
    void this.upload
      ?.handle(bytes)
      .then((outcome) => {
        if (outcome.kind === 'ignored') this.log(`session ${this.config.id}: upload chunk ignored (${outcome.reason})`);
        else if (outcome.kind === 'complete' && this.state !== 'ended') {
          this.log(`session ${this.config.id}: upload complete (${this.upload?.totalChunks} chunks), decoding`);
          this.startReader({ input: outcome.path });
        }
      })
      .catch((error: unknown) => this.log(`session ${this.config.id}: upload failed: ${(error as Error).message}`));
  }

  private onControlMessage(data: unknown): void {
    this.touch();
    if (typeof data !== 'string') return;
    let message: unknown;
    try {
      message = JSON.parse(data);
    } catch {
      return; // Bad JSON is ignored, as on the hosted server.
    }
    if (typeof message !== 'object' || message === null) return;
    const control = message as { ack?: unknown; data_output?: unknown; stream_output?: unknown };
    if (typeof control.ack === 'number' && Number.isFinite(control.ack)) {
      this.acking = true;
      this.lastAck = Math.max(this.lastAck, control.ack);
      const wake = this.ackWaiter;
      this.ackWaiter = undefined;
      wake?.();
    }
    if (Array.isArray(control.data_output)) {
      this.dataOutput = control.data_output.filter((name): name is string => typeof name === 'string' && name !== '');
    }
    if (Array.isArray(control.stream_output)) {
      if (!this.videoOut) this.log(`session ${this.config.id}: stream_output change ignored: the session has no video track`);
      else this.streamOutput = control.stream_output.find((name): name is string => typeof name === 'string' && name !== '') ?? '';
    }
  }

  private onTrack(track: MediaStreamTrack): void {
    if (track.kind !== 'video' || this.sink) return;
    this.source = 'track';
    const { nonstandard } = wrtc();
    const sink = new nonstandard.RTCVideoSink(track);
    this.sink = sink;
    sink.onframe = ({ frame }) => {
      if (this.state === 'ended') return;
      this.touch();
      const now = Date.now();
      if (!this.firstTrackFrameAt) this.firstTrackFrameAt = now;
      const i420 = frame;
      this.enqueue(
        {
          receivedAt: new Date(now),
          pts: Math.round((now - this.firstTrackFrameAt) * 90),
          timeBase: 1 / 90_000,
          load: () => {
            const rgba = new Uint8ClampedArray(i420.width * i420.height * 4);
            nonstandard.i420ToRgba(i420, { width: i420.width, height: i420.height, data: rgba });
            return { width: i420.width, height: i420.height, rgba: Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength) };
          },
        },
        true,
      );
    };
  }

  private async openRemoteSource(remote: { kind: 'rtsp' | 'mjpeg'; url: string }): Promise<void> {
    this.source = remote.kind;
    // Small probe sizes: a live source should start in well under a second.
    const probe = ['-probesize', '65536', '-analyzeduration', '500000'];
    // Built for the ffmpeg found: its RTSP timeout option changed name in ffmpeg 5.
    const inputArgs = remote.kind === 'rtsp' ? [...rtspInputArgs(requireFfmpeg()), ...probe] : [...mjpegInputArgs(), ...probe];
    const limitMs = this.behaviour().sourceOpenTimeoutMs;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const said = this.reader?.firstError;
        this.reader?.stop();
        reject(new Error(`no video from the ${remote.kind.toUpperCase()} source within ${limitMs} ms${said ? ` (ffmpeg: ${said})` : ''}`));
      }, limitMs);
      this.startReader(
        { input: remote.url, inputArgs },
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
    const endAfter = this.behaviour().cameraEndAfterMs;
    if (endAfter > 0) {
      this.timers.push(
        setTimeout(() => {
          this.log(`session ${this.config.id}: fault: the camera ends after ${endAfter} ms`);
          this.reader?.stop();
        }, endAfter),
      );
    }
  }

  private startReader(options: { input: string; inputArgs?: string[] }, opened?: () => void, failedToOpen?: (error: Error) => void): void {
    let isOpen = false;
    const live = this.source === 'rtsp' || this.source === 'mjpeg';
    const reader = new FrameReader(options, {
      onInfo: (info) => {
        isOpen = true;
        // The hosted worker reads an uploaded file's frame rate and reports it as declared_fps.
        if (this.source === 'file' && info.sourceFps > 0) this.declaredFps = info.sourceFps;
        opened?.();
      },
      onFrame: (frame) => {
        this.touch();
        this.enqueue({ receivedAt: new Date(), pts: Math.round(frame.seconds * 90_000), timeBase: 1 / 90_000, load: () => frame }, live);
      },
      onEnd: (error) => {
        if (!isOpen && error && failedToOpen) {
          failedToOpen(error);
          return;
        }
        // A file whose first frame cannot be read (not a video) ends like any other:
        // a completion after zero results, as the hosted worker's track ends.
        if (error) this.log(`session ${this.config.id}: source ended with an error: ${error.message}`);
        this.sourceEnded = true;
        this.processQueue();
      },
    });
    this.reader = reader;
    reader.start();
  }

  /**
   * A new frame from the source; frame ids count every frame received, from 1. What
   * waits follows the hosted worker: the client's own track in realtime mode keeps only
   * the newest frame; a camera the server pulls keeps up to 30 (oldest dropped); a file
   * is never dropped (its decoder pauses instead); with realtime off, live frames wait
   * up to a large bound.
   */
  private enqueue(frame: Omit<QueuedFrame, 'id'>, live: boolean): void {
    if (this.state === 'ended' || this.completionSent) return;
    this.received++;
    const item: QueuedFrame = { ...frame, id: this.received };
    this.arrivals.push(Date.now());
    if (this.arrivals.length > 30) this.arrivals.shift();
    if (this.config.realtime && this.source === 'track') {
      if (this.newest) this.dropped++;
      this.newest = item;
    } else {
      this.queue.push(item);
      const limit = !live ? Number.POSITIVE_INFINITY : this.config.realtime ? REALTIME_CAMERA_BACKLOG : MAX_LIVE_BACKLOG;
      while (this.queue.length > limit) {
        this.queue.shift();
        this.dropped++;
      }
      if (!live && this.queue.length >= DECODE_HIGH_WATER) this.reader?.pause();
    }
    this.processQueue();
  }

  private takeNext(): QueuedFrame | undefined {
    if (this.newest) {
      const next = this.newest;
      this.newest = undefined;
      return next;
    }
    const next = this.queue.shift();
    if (this.queue.length <= DECODE_LOW_WATER) this.reader?.resume();
    return next;
  }

  /** Waits until the ack window lets frame `id` start (pacing begins with the first ack). */
  private async ackWindowOpen(id: number): Promise<void> {
    while (!this.config.realtime && this.acking && id > this.lastAck + this.behaviour().ackWindow && this.state !== 'ended') {
      await new Promise<void>((resolve) => (this.ackWaiter = resolve));
    }
  }

  private measuredFps(): number | null {
    if (this.arrivals.length < 2) return null;
    const span = (this.arrivals[this.arrivals.length - 1] - this.arrivals[0]) / 1000;
    return span > 0 ? Math.round(((this.arrivals.length - 1) / span) * 100) / 100 : null;
  }

  /** Works through queued frames in the background; a failure ends this session, never the server. */
  private processQueue(): void {
    this.drainQueue().catch((error: unknown) => {
      this.log(`session ${this.config.id}: ${(error as Error).stack ?? String(error)}`);
      this.end(`internal error: ${(error as Error).message}`);
    });
  }

  private async drainQueue(): Promise<void> {
    if (this.processing || !this.sender?.open) return;
    this.processing = true;
    try {
      for (let item = this.takeNext(); item && !this.ended; item = this.takeNext()) {
        await this.ackWindowOpen(item.id);
        if (this.ended) break;
        await this.processFrame(item);
        const drop = this.behaviour().dropAfterFrames;
        if (drop > 0 && this.processed >= drop) {
          this.end(`fault: dropped after ${this.processed} frames`);
          return;
        }
      }
      if (this.sourceEnded && !this.completionSent && this.queue.length === 0 && !this.newest && !this.ended) {
        await this.sendCompletion(null);
      }
    } finally {
      this.processing = false;
    }
    // A frame may have arrived while the completion check above was waiting.
    if (!this.ended && (this.queue.length > 0 || this.newest)) this.processQueue();
  }

  private async processFrame(item: QueuedFrame): Promise<void> {
    const slow = this.behaviour().slowFrameMs;
    if (slow > 0) await pause(slow);
    const frame = item.load();
    // The result's metadata (WebRTCVideoMetadata): measured_fps is never filled in by the service.
    const metadata = {
      frame_id: item.id,
      received_at: localIsoTime(item.receivedAt),
      pts: item.pts,
      time_base: item.timeBase,
      declared_fps: this.declaredFps,
      measured_fps: null,
      width: frame.width,
      height: frame.height,
    };
    // What the workflow sees as `video_metadata`, and what its image outputs carry.
    const workflowMetadata = {
      video_identifier: 'default_source',
      frame_number: item.id,
      frame_timestamp: localIsoTime(new Date()),
      fps: this.declaredFps,
      measured_fps: this.measuredFps() ?? this.declaredFps,
      comes_from_video_file: this.source === 'file',
    };
    const errors: string[] = [];
    let outputs: Record<string, unknown> = {};
    try {
      outputs = this.run.process(frame, workflowMetadata);
    } catch (error) {
      errors.push(`workflow error: ${(error as Error).message}`);
    }
    if (this.videoOut && this.streamOutput && !isImageValue(outputs[this.streamOutput])) {
      // A self-hosted server renders the input frame and says why (the hosted one checked the name up front).
      errors.push(
        'Visualisation blocks were not executed',
        'or workflow was not configured to output visuals.',
        'Please try to adjust the scene so models detect objects',
        'or stop preview, update workflow and try again.',
      );
    }
    const data = await this.serialise(outputs, workflowMetadata, errors);
    if (this.state === 'ended' || this.completionSent) return;
    const corruption = this.takeCorruption();
    const dataMode = this.dataOutput !== null && this.dataOutput.length > 0;
    if (corruption) {
      this.log(`session ${this.config.id}: fault: frame ${item.id} sent as ${corruption}`);
      this.sender?.sendCorrupt(item.id, corruption);
    } else {
      // Gzip exactly where the hosted worker gzips: results of a session that asks for data outputs.
      const gzip = dataMode && this.behaviour().gzip;
      await this.sender?.send(item.id, { serialized_output_data: data, video_metadata: metadata, errors, processing_complete: false, termination_reason: null }, gzip);
    }
    this.processed++;
    if (this.videoOut) this.render(outputs, frame);
  }

  /**
   * The requested outputs as the hosted worker serialises them: `["*"]` = every output
   * but images; a name the workflow does not produce is a per-frame error; nothing to
   * send (no data outputs, or none found) is null.
   */
  private async serialise(outputs: Record<string, unknown>, metadata: Record<string, unknown>, errors: string[]): Promise<Record<string, unknown> | null> {
    const requested = this.dataOutput;
    if (!requested || requested.length === 0) return null;
    const all = requested.length === 1 && requested[0] === '*';
    const names = all ? Object.keys(outputs) : requested;
    const data: Record<string, unknown> = {};
    for (const name of names) {
      if (!(name in outputs)) {
        errors.push(`Output '${name}' not found`);
        continue;
      }
      const value = outputs[name];
      if (isImageValue(value)) {
        if (all) continue;
        const jpeg = await sharp(value.frame.rgba, { raw: { width: value.frame.width, height: value.frame.height, channels: 4 } })
          .removeAlpha()
          .jpeg({ quality: 80 })
          .toBuffer();
        data[name] = { type: 'base64', value: jpeg.toString('base64'), video_metadata: metadata };
      } else {
        data[name] = value;
      }
    }
    return Object.keys(data).length > 0 ? data : null;
  }

  private render(outputs: Record<string, unknown>, input: RgbaFrame): void {
    // A frame finished after the session ended goes nowhere: its track is stopped and the
    // peer connection closed (feeding a stopped source risks the native module).
    if (this.state === 'ended' || this.peerClosed) return;
    const chosen = this.streamOutput ? outputs[this.streamOutput] : undefined;
    const frame = isImageValue(chosen) ? chosen.frame : input;
    const { nonstandard } = wrtc();
    const width = frame.width - (frame.width % 2);
    const height = frame.height - (frame.height % 2);
    if (width !== frame.width || height !== frame.height) return; // Odd sizes never come from our sources.
    const i420 = { width, height, data: new Uint8ClampedArray(width * height * 1.5) };
    const rgba = frame.rgba.byteOffset === 0 && frame.rgba.buffer.byteLength === frame.rgba.byteLength ? new Uint8ClampedArray(frame.rgba.buffer) : new Uint8ClampedArray(frame.rgba);
    nonstandard.rgbaToI420({ width, height, data: rgba }, i420);
    this.videoOut?.source.onFrame(i420);
  }

  /** The completion message: never gzipped; its header frame id is the last frame id + 1. */
  private async sendCompletion(reason: string | null): Promise<void> {
    if (this.completionSent) return;
    this.completionSent = true;
    this.completionReason = reason;
    this.state = 'complete';
    await this.sender?.send(
      this.received + 1,
      {
        serialized_output_data: null,
        video_metadata: { frame_id: this.received, received_at: localIsoTime(new Date()), pts: null, time_base: null, declared_fps: null, measured_fps: null, width: null, height: null },
        errors: [],
        processing_complete: true,
        termination_reason: reason,
      },
      false,
    );
    this.log(`session ${this.config.id}: processing complete after ${this.received} frames${reason ? ` (${reason})` : ''}`);
  }

  private async timeoutReached(): Promise<void> {
    if (this.state === 'ended') return;
    this.reader?.stop();
    this.sink?.stop();
    this.queue = [];
    this.newest = undefined;
    await this.sendCompletion('timeout_reached');
    this.timers.push(setTimeout(() => this.end('processing timeout'), 2_000));
  }
}
