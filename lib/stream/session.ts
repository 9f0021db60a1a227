import type { RoboflowConnection } from '../config';
import { RoboflowError, toRoboflowError } from '../errors';
import { sleep } from '../backoff';
import { TypedEmitter } from '../events';
import { HttpClient } from '../http/client';
import { safeLogger, type Logger } from '../logger';
import { redact } from '../redact';
import { ResultReassembler } from './chunks';
import { ImageFrameSource, type PushOutcome } from './frame-source';
import { connectionPath, waitForConnected, waitForIceGathering, type ConnectionPath } from './ice';
import { decodeResultPayload, decodeResultText } from './payload';
import { INFERENCE_CHANNEL, UPLOAD_CHANNEL, type ControlMessage, type ResultDocument, type VideoMetadata } from './protocol';
import { DEFAULT_PROCESSING_TIMEOUT_S, buildInitRequest, initialiseWorker, resolveIceServers, terminatePipeline, type WorkflowRef } from './signaling';
import { FileUploader, checkVideoFile, type UploadProgress } from './uploader';
import { ProcessedVideoSink, type VideoFrameEvent, type VideoOutputFormat } from './video-sink';
import { loadWrtc } from './wrtc';
import { isModelRef, resolveWorkflow } from './model-workflow';

/** Where the video comes from. Exactly one source per session. */
export type StreamSource = { kind: 'frames' } | { kind: 'file'; path: string } | { kind: 'rtsp'; url: string } | { kind: 'mjpeg'; url: string };

export interface StreamOptions {
  connection: RoboflowConnection;
  workflow: WorkflowRef;
  source: StreamSource;
  /** Workflow input that receives the image. Default `image`. */
  imageInput?: string;
  /** Data outputs to receive. Default `['*']` (every non-image output); `[]` for none. */
  dataOutputs?: string[] | null;
  /** Outputs rendered into the returned video. Default `[]` (no video back); `null` = first image output. */
  streamOutputs?: string[] | null;
  parameters?: Record<string, unknown>;
  /** Realtime drops frames the server cannot keep up with; off processes every frame, paced by acks. Default: off for files, on otherwise. */
  realtime?: boolean;
  declaredFps?: number;
  /**
   * Seconds the server may run the session before it ends it itself (`timeout_reached`).
   * Default 3600, the service's own default, sent explicitly; `null` asks for the
   * service maximum (a week). Live streams start a new session when it runs out.
   */
  processingTimeout?: number | null;
  /** Skip the workflow's sink blocks (email, webhooks, ...): a dry run while testing a flow. */
  disableSinks?: boolean;
  /** Explicit ICE servers; by default TURN is fetched for Roboflow's own hosts and none used elsewhere. */
  iceServers?: RTCIceServer[];
  /** `relay` sends everything through TURN (a network that allows nothing else). Default `all`. */
  iceTransportPolicy?: 'all' | 'relay';
  /** What to do with the returned video track. Default `none`. */
  videoOutput?: 'none' | VideoOutputFormat;
  jpegQuality?: number;
  /** `auto` acks each result after its listeners ran; `manual` leaves `ack()` to the caller. */
  ackMode?: 'auto' | 'manual';
  /** `answerMs`: how long to wait for the server's answer (default 90 s: docs/protocol.md §2.1). */
  timeouts?: { iceGatheringMs?: number; connectMs?: number; answerMs?: number };
  /** File sessions: 1-byte keepalive pings on the upload channel while results are pending (server idle watchdog: 60 s). Default 15 s. */
  keepaliveIntervalMs?: number;
  logger?: Logger;
  /** A shared HTTP client (the config node's); otherwise the session makes and closes its own. */
  http?: HttpClient;
}

export interface StreamResult {
  frameId: number;
  /** The frame's `serialized_output_data`. */
  data: Record<string, unknown> | null;
  /** The frame's `video_metadata`. */
  metadata: VideoMetadata | null;
  errors: string[];
}

export interface StreamCompletion {
  /** Frame id of the completion message (the last frame id + 1). */
  frameId: number;
  /** `null` for the natural end, `timeout_reached` when the processing timeout hit. */
  reason: string | null;
}

export type CloseReason = 'stopped' | 'complete' | 'remote' | 'error';

export interface StreamStats {
  results: number;
  malformed: number;
  framesSent: number;
  framesDropped: number;
  videoFrames: number;
  lastFrameId: number | null;
}

export type StreamState = 'idle' | 'connecting' | 'streaming' | 'closing' | 'closed';

export interface StreamEvents {
  /** `path`: straight to the server, or through a TURN relay (and how), when the stats say. */
  connected: [{ pipelineId: string | null; path?: ConnectionPath }];
  result: [StreamResult];
  'video-frame': [VideoFrameEvent];
  progress: [UploadProgress];
  complete: [StreamCompletion];
  error: [RoboflowError];
  closed: [{ reason: CloseReason; error?: RoboflowError }];
}

const DEFAULT_ICE_GATHERING_MS = 6_000;
const DEFAULT_CONNECT_MS = 30_000;

/**
 * Refuses a reconfigure the service would not honour: switching the returned video on
 * a session started without it is silently ignored, and `stream_output: []` makes every
 * later frame carry an error (docs/protocol.md §2.6). `startedWith` is the session's
 * `streamOutputs` option (undefined = the default, no video back).
 */
export function checkReconfigure(startedWith: string[] | null | undefined, outputs: { dataOutputs?: string[]; streamOutputs?: string[] }): void {
  if (outputs.streamOutputs === undefined) return;
  const hasVideo = startedWith === null || (Array.isArray(startedWith) && startedWith.length > 0);
  if (!hasVideo) {
    throw new RoboflowError('invalid-input', 'This stream was started without video outputs, so its video output cannot be changed: set the video outputs on the node and start it again');
  }
  if (outputs.streamOutputs.length === 0) {
    throw new RoboflowError('invalid-input', 'The video output cannot be switched off while streaming: name another image output, or stop and start the stream without video outputs');
  }
}

function validateSource(source: StreamSource): void {
  if (source.kind === 'rtsp') {
    if (!/^rtsps?:\/\/[^\s/]+/i.test(source.url ?? '')) throw new RoboflowError('invalid-input', `Invalid RTSP URL "${redact(String(source.url ?? ''))}": it must start with rtsp:// or rtsps://`);
  } else if (source.kind === 'mjpeg') {
    if (!/^https?:\/\/[^\s/]+/i.test(source.url ?? '')) throw new RoboflowError('invalid-input', `Invalid MJPEG URL "${redact(String(source.url ?? ''))}": it must start with http:// or https://`);
  } else if (source.kind !== 'frames' && source.kind !== 'file') {
    throw new RoboflowError('invalid-input', `Unknown source "${(source as { kind: string }).kind}"`);
  }
}

/**
 * One WebRTC streaming session with a Roboflow (or compatible) server: offer/answer,
 * the `inference` channel (chunked, maybe gzipped results; acks; reconfigure), the
 * `video_upload` channel for files, the local track for frames, and the returned video.
 * A session runs once; reconnecting is `ResilientStream`'s job.
 */
export class StreamSession extends TypedEmitter<StreamEvents> {
  readonly options: StreamOptions;
  private readonly logger: Logger;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;
  private readonly realtime: boolean;
  private readonly reassembler = new ResultReassembler();
  private pc: RTCPeerConnection | undefined;
  private channel: RTCDataChannel | undefined;
  private uploadChannel: RTCDataChannel | undefined;
  private frameSource: ImageFrameSource | undefined;
  private videoSink: ProcessedVideoSink | undefined;
  private uploader: FileUploader | undefined;
  private pipelineId: string | null = null;
  /** The initialise request, while it runs. */
  private initialising: Promise<unknown> | undefined;
  private keepalive: NodeJS.Timeout | undefined;
  private abort = new AbortController();
  private closing: Promise<void> | undefined;
  /** open() itself, and open() with failure handling (what start() returns). */
  private opening: Promise<void> | undefined;
  private connected: Promise<void> | undefined;
  private _state: StreamState = 'idle';
  private readonly counters = { results: 0, malformed: 0, videoFrames: 0, lastFrameId: null as number | null };

  constructor(options: StreamOptions) {
    const logger = safeLogger(options.logger);
    super((error) => logger.error(`Stream: ${(error as Error)?.message ?? String(error)}`));
    this.options = options;
    this.logger = logger;
    this.ownsHttp = options.http === undefined;
    this.http = options.http ?? new HttpClient({ apiKey: options.connection.apiKey, logger: options.logger });
    this.realtime = options.realtime ?? options.source.kind !== 'file';
  }

  get state(): StreamState {
    return this._state;
  }

  get stats(): StreamStats {
    return {
      results: this.counters.results,
      malformed: this.counters.malformed,
      framesSent: this.frameSource?.framesSent ?? 0,
      framesDropped: this.frameSource?.framesDropped ?? 0,
      videoFrames: this.counters.videoFrames,
      lastFrameId: this.counters.lastFrameId,
    };
  }

  /** Opens the session. Rejects (after releasing everything) when it cannot start. */
  start(): Promise<void> {
    if (this._state !== 'idle') return Promise.reject(new RoboflowError('invalid-input', 'A session can only be started once'));
    this._state = 'connecting';
    this.opening = this.open();
    this.connected = this.opening.catch(async (caught: unknown) => {
      // Once stop() was called, whatever failed is just the stop.
      const error = this.closing ? new RoboflowError('aborted', 'Stream stopped while connecting') : toRoboflowError(caught, 'webrtc');
      await this.shutdown('error', error);
      throw error;
    });
    // The caller gets the rejection through start(); avoid an unhandled one for pushFrame waiters.
    this.connected.catch(() => undefined);
    return this.connected;
  }

  /** Ends the session: closes the peer connection, and terminates the pipeline if the server gave an id. */
  stop(): Promise<void> {
    return this.shutdown('stopped');
  }

  /**
   * Sends one JPEG/PNG image as the next frame of a `frames` session. Waits for the
   * connection if it is still being made. Rejects for unreadable images.
   */
  async pushFrame(image: Uint8Array): Promise<PushOutcome> {
    if (this.options.source.kind !== 'frames') throw new RoboflowError('invalid-input', 'This stream reads its own source; it takes no frames');
    if (this._state === 'connecting') await this.connected;
    if (this._state !== 'streaming' || !this.frameSource) throw new RoboflowError('invalid-input', 'The stream is not running');
    return this.frameSource.push(image);
  }

  /** The local track's source, for callers that produce raw frames themselves. */
  get frames(): ImageFrameSource | undefined {
    return this.frameSource;
  }

  /** Changes data and/or rendered outputs while running (`[]` none, `['*']` all data outputs). */
  reconfigure(outputs: { dataOutputs?: string[]; streamOutputs?: string[] }): void {
    checkReconfigure(this.options.streamOutputs, outputs);
    const message: ControlMessage = {};
    if (outputs.dataOutputs) message.data_output = outputs.dataOutputs;
    if (outputs.streamOutputs) message.stream_output = outputs.streamOutputs;
    this.send(message);
  }

  /** Acknowledges results up to `frameId` (cumulative). Only meaningful with realtime off; ignored once the session ended. */
  ack(frameId: number): void {
    if (!this.realtime && this.channel?.readyState === 'open') this.send({ ack: frameId });
  }

  private send(message: ControlMessage): void {
    if (this.channel?.readyState !== 'open') throw new RoboflowError('invalid-input', 'The stream is not running');
    this.channel.send(JSON.stringify(message));
  }

  private async open(): Promise<void> {
    const { options } = this;
    const source = options.source;
    validateSource(source);
    if (source.kind === 'file') await checkVideoFile(source.path);
    // A model id becomes its one-step workflow first: an unknown model fails before any WebRTC work.
    const workflow = await resolveWorkflow(this.http, options.connection, options.workflow, this.abort.signal);

    const iceServers = options.iceServers ?? (await resolveIceServers(this.http, options.connection, this.logger, this.abort.signal));
    const { RTCPeerConnection, MediaStream } = loadWrtc();
    const pc = new RTCPeerConnection({ iceServers, ...(options.iceTransportPolicy ? { iceTransportPolicy: options.iceTransportPolicy } : {}) });
    this.pc = pc;

    // The processed video comes back on this first transceiver.
    pc.addTransceiver('video', { direction: 'recvonly' });
    if (source.kind === 'frames') {
      this.frameSource = new ImageFrameSource();
      pc.addTrack(this.frameSource.track, new MediaStream([this.frameSource.track]));
    }
    const channel = pc.createDataChannel(INFERENCE_CHANNEL, { ordered: true });
    channel.binaryType = 'arraybuffer';
    this.channel = channel;
    if (source.kind === 'file') {
      this.uploadChannel = pc.createDataChannel(UPLOAD_CHANNEL, { ordered: true });
      this.uploadChannel.binaryType = 'arraybuffer';
      // Keepalive pings (1 byte) are echoed on this channel; nothing else comes back.
      this.uploadChannel.onmessage = () => undefined;
    }
    const videoOutput = options.videoOutput ?? 'none';
    if (videoOutput !== 'none') {
      pc.addEventListener('track', (event) => {
        if (this.videoSink || event.track.kind !== 'video') return;
        this.videoSink = new ProcessedVideoSink(
          event.track,
          videoOutput,
          (frame) => {
            this.counters.videoFrames++;
            this.emit('video-frame', frame);
          },
          (error) => this.emit('error', toRoboflowError(error, 'protocol')),
          options.jpegQuality,
        );
      });
    }
    channel.onmessage = (event: MessageEvent) => this.onChannelMessage(event.data);

    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    await waitForIceGathering(pc, options.timeouts?.iceGatheringMs ?? DEFAULT_ICE_GATHERING_MS, this.logger, this.abort.signal);
    // Last moment to give up without a worker on the server.
    this.throwIfClosing();

    const body = buildInitRequest(
      options.connection,
      {
        workflow,
        // The model workflow's image input is always `image`.
        imageInput: isModelRef(options.workflow) ? 'image' : (options.imageInput ?? 'image'),
        dataOutputs: options.dataOutputs === undefined ? ['*'] : options.dataOutputs,
        streamOutputs: options.streamOutputs === undefined ? [] : options.streamOutputs,
        parameters: options.parameters ?? {},
        realtime: this.realtime,
        declaredFps: options.declaredFps,
        processingTimeout: options.processingTimeout === undefined ? DEFAULT_PROCESSING_TIMEOUT_S : options.processingTimeout,
        disableSinks: options.disableSinks,
        rtspUrl: source.kind === 'rtsp' ? source.url : undefined,
        mjpegUrl: source.kind === 'mjpeg' ? source.url : undefined,
        iceServers,
      },
      pc.localDescription ?? offer,
    );
    const initialising = initialiseWorker(this.http, options.connection, body, this.abort.signal, options.timeouts?.answerMs);
    this.initialising = initialising;
    const answer = await initialising;
    this.pipelineId = answer.pipelineId;
    // Even when stopping, complete the connection: closing it is how the server learns to end its worker.
    await pc.setRemoteDescription({ sdp: answer.sdp, type: answer.type });
    await waitForConnected(pc, options.timeouts?.connectMs ?? DEFAULT_CONNECT_MS, this.abort.signal);
    await this.channelOpen(channel);
    this.throwIfClosing();

    this._state = 'streaming';
    // From here on, a closing channel or failed connection means the server went away.
    channel.onclose = () => void this.shutdown('remote', new RoboflowError('network', 'The server closed the stream', { retryable: true }));
    pc.addEventListener('connectionstatechange', () => {
      if (pc.connectionState === 'failed') void this.shutdown('remote', new RoboflowError('network', 'The connection to the server was lost', { retryable: true }));
    });
    const path = await connectionPath(pc);
    if (this.closing) return;
    this.logger.info(
      `Stream connected (${source.kind}${answer.pipelineId ? `, pipeline ${answer.pipelineId}` : ''}${path?.path === 'relay' ? `, through a TURN relay over ${path.protocol ?? 'an unknown protocol'}` : ''})`,
    );
    this.emit('connected', { pipelineId: this.pipelineId, ...(path ? { path } : {}) });
    if (source.kind === 'file' && this.uploadChannel) this.startUpload(source.path, this.uploadChannel);
  }

  private throwIfClosing(): void {
    if (this.closing) throw new RoboflowError('aborted', 'Stream stopped while connecting');
  }

  private channelOpen(channel: RTCDataChannel, timeoutMs = 10_000): Promise<void> {
    if (channel.readyState === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new RoboflowError('webrtc', 'The results channel did not open', { retryable: true })), timeoutMs);
      channel.addEventListener(
        'open',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
      channel.addEventListener(
        'close',
        () => {
          clearTimeout(timer);
          reject(new RoboflowError('webrtc', 'The results channel closed before opening', { retryable: true }));
        },
        { once: true },
      );
    });
  }

  private startUpload(path: string, channel: RTCDataChannel): void {
    const run = async (): Promise<void> => {
      await this.channelOpen(channel);
      this.uploader = new FileUploader(path, channel, (progress) => this.emit('progress', progress));
      await this.uploader.upload();
      this.logger.debug('Upload finished; waiting for results');
      // The server may decode for a while before results flow; pings keep its watchdog quiet.
      this.keepalive = setInterval(() => {
        if (channel.readyState === 'open') channel.send(new Uint8Array([0]));
      }, this.options.keepaliveIntervalMs ?? 15_000);
    };
    run().catch((caught: unknown) => {
      if (this.closing) return;
      const error = toRoboflowError(caught, 'network');
      this.emit('error', error);
      void this.shutdown('error', error);
    });
  }

  private onChannelMessage(data: unknown): void {
    let document: ResultDocument;
    let frameId: number | undefined;
    try {
      if (typeof data === 'string') {
        document = decodeResultText(data);
        frameId = document.video_metadata?.frame_id ?? (this.counters.lastFrameId ?? 0) + 1;
      } else {
        const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : undefined;
        if (!bytes) throw new RoboflowError('protocol', 'Unexpected message type on the results channel');
        const outcome = this.reassembler.push(bytes);
        if (outcome.kind === 'partial') return;
        frameId = outcome.frameId;
        if (outcome.kind === 'rejected') throw new RoboflowError('protocol', `Malformed result chunk: ${outcome.reason}`);
        document = decodeResultPayload(outcome.payload);
      }
    } catch (caught) {
      this.counters.malformed++;
      this.emit('error', toRoboflowError(caught, 'protocol'));
      // A frame we could not read still counts as received, or a paced server would wait
      // for it forever; the caller never sees it, so this ack is ours in either ack mode.
      if (frameId !== undefined) this.ack(frameId);
      return;
    }
    const id = frameId as number; // Set on every path that did not throw.

    if (document.processing_complete) {
      if (this.options.source.kind === 'file' && this.counters.results === 0) {
        // The hosted worker completes a track whose first read fails after zero results.
        void this.shutdown('error', new RoboflowError('invalid-input', 'No frame of this video could be read: is it a video file? (the server ended the upload without a single result)'));
        return;
      }
      this.logger.info(`Stream complete after frame ${this.counters.lastFrameId ?? 'none'}${document.termination_reason ? ` (${document.termination_reason})` : ''}`);
      this.emit('complete', { frameId: id, reason: document.termination_reason });
      void this.shutdown('complete');
      return;
    }
    this.counters.results++;
    this.counters.lastFrameId = id;
    this.emit('result', { frameId: id, data: document.serialized_output_data, metadata: document.video_metadata, errors: document.errors });
    this.autoAck(id);
  }

  /** With realtime off, tells the server frame `frameId` was handled so it may go on (docs/protocol.md §2.6: ack pacing). */
  private autoAck(frameId: number): void {
    if (!this.realtime && (this.options.ackMode ?? 'auto') === 'auto' && this.channel?.readyState === 'open') {
      this.channel.send(JSON.stringify({ ack: frameId } satisfies ControlMessage));
    }
  }

  /** Releases everything, once. Every path out of a session ends here. */
  private shutdown(reason: CloseReason, error?: RoboflowError): Promise<void> {
    if (this.closing) return this.closing;
    const wasStarted = this._state !== 'idle';
    this._state = 'closing';
    this.closing = (async () => {
      clearInterval(this.keepalive);
      // Stopped while connecting: a worker the server starts for us is billed until it
      // sees the connection close (or its watchdog fires a minute later). So let a
      // pending answer arrive and the connection open, briefly, then close it.
      if (this.initialising && this.opening) {
        const giveUp = new AbortController();
        await Promise.race([this.opening.catch(() => undefined), sleep(10_000, giveUp.signal).catch(() => undefined)]);
        giveUp.abort(); // No timer may outlive the session.
      }
      this.abort.abort();
      this.uploader?.cancel();
      this.frameSource?.stop();
      this.videoSink?.stop();
      for (const channel of [this.channel, this.uploadChannel]) {
        if (!channel) continue;
        channel.onclose = null;
        channel.onmessage = null;
        try {
          channel.close();
        } catch {
          // Already closed.
        }
      }
      try {
        this.pc?.close();
      } catch {
        // Already closed.
      }
      if (this.pipelineId) await terminatePipeline(this.http, this.options.connection, this.pipelineId, this.logger);
      this.reassembler.clear();
      if (this.ownsHttp) await this.http.close();
      this._state = 'closed';
      if (wasStarted) {
        if (reason === 'error' || reason === 'remote') this.logger.info(`Stream closed: ${error?.message ?? reason}`);
        this.emit('closed', error ? { reason, error } : { reason });
      }
    })();
    return this.closing;
  }
}
