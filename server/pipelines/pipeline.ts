import sharp from 'sharp';
import { redact } from '../../lib/redact';
import { FrameReader, type DecodedFrame, type RgbaFrame } from '../media/frame-reader';
import { isImageValue, type CompiledWorkflow, type WorkflowRun } from '../workflows/engine';

/**
 * One InferencePipeline of the local server (docs/protocol.md §7), as Roboflow's
 * pipeline manager runs one: a video source it opens itself, the workflow on each
 * frame it keeps (max_fps), results in a bounded buffer (the oldest go when it is
 * full), a watchdog report (source states, status updates, latencies), mute/resume,
 * and a consumption clock restarted only when a consume takes something.
 */

export type SourceState = 'NOT_STARTED' | 'INITIALISING' | 'RUNNING' | 'MUTED' | 'ENDED' | 'ERROR' | 'TERMINATING';

/** Where frames come from, as the manager resolved the request's video_reference. */
export interface PipelineInput {
  /** As given (device index, URL or path), password masked, for reports. */
  reference: string;
  /** What ffmpeg opens; undefined when the reference names nothing this server has (the source errors). */
  input?: string;
  inputArgs?: string[];
  nativeRate?: boolean;
  isFile: boolean;
  /** Why the source cannot be opened, when `input` is undefined. */
  error?: string;
}

export interface PipelineConfig {
  id: string;
  compiled: CompiledWorkflow;
  parameters: Record<string, unknown>;
  source: PipelineInput;
  maxFps?: number;
  resultsBufferSize: number;
  /** Seconds without a consumed result before the pipeline ends itself (null: never). */
  consumptionTimeoutSec: number | null;
}

interface StatusUpdate {
  timestamp: string;
  severity: number;
  event_type: string;
  payload: Record<string, unknown>;
  context: string;
}

interface Buffered {
  outputs: Record<string, unknown>;
  frame: { frame_timestamp: string; frame_id: number; source_id: number };
  metadata: Record<string, unknown>;
}

/** Python's logging levels, as the status updates carry them (UpdateSeverity). */
const INFO = 20;
const ERROR = 40;
const MAX_UPDATES = 512;
const MAX_LATENCIES = 64;
/** Frames decoded ahead of the workflow (decoding_buffer_size). */
const DECODING_BUFFER = 64;

/** Local time without a zone, microseconds: Python's datetime.now().isoformat(). */
export function localIsoTime(date: Date = new Date()): string {
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, -1) + '000';
}

export class LocalPipeline {
  readonly createdAt = Date.now();
  private state: SourceState = 'NOT_STARTED';
  private reader: FrameReader | undefined;
  private readonly run: WorkflowRun;
  private readonly buffer: Buffered[] = [];
  private readonly updates: StatusUpdate[] = [];
  private readonly latencies: Array<{ decoding: number; inference: number; e2e: number }> = [];
  private readonly ticks: number[] = [];
  private properties: Record<string, unknown> | null = null;
  private frameCounter = 0;
  private nextSampleAt = 0;
  private lastConsume = Date.now();
  private ended = false;

  constructor(
    readonly config: PipelineConfig,
    private readonly log: (line: string) => void,
    private readonly onEnded: (pipeline: LocalPipeline, reason: string) => void,
  ) {
    this.run = config.compiled.createRun(config.parameters);
  }

  get sourceState(): SourceState {
    return this.state;
  }

  /** Sources done (ENDED or ERROR): the manager's health check terminates such a pipeline. */
  get depleted(): boolean {
    return this.state === 'ENDED' || this.state === 'ERROR';
  }

  get consumptionExpired(): boolean {
    const timeout = this.config.consumptionTimeoutSec;
    return timeout !== null && Date.now() - this.lastConsume > timeout * 1000;
  }

  start(): void {
    this.update(INFO, 'INFERENCE_THREAD_STARTED', {}, 'inference_pipeline');
    this.setState('INITIALISING');
    const source = this.config.source;
    if (!source.input) {
      this.sourceError(source.error ?? `Cannot connect to video source under reference: ${source.reference}`);
      return;
    }
    let opened = false;
    const reader = new FrameReader(
      { input: source.input, inputArgs: source.inputArgs, nativeRate: source.nativeRate },
      {
        onInfo: (info) => {
          opened = true;
          this.properties = {
            width: info.width,
            height: info.height,
            total_frames: source.isFile ? Math.round(info.durationSeconds * info.sourceFps) : -1,
            is_file: source.isFile,
            fps: info.sourceFps || info.fps,
            is_reconnectable: !source.isFile,
            timestamp_created: localIsoTime(),
          };
          this.setState('RUNNING');
          this.update(INFO, 'VIDEO_CONSUMPTION_STARTED', { source_id: 0 }, 'video_consumption');
        },
        onFrame: (frame) => this.onFrame(frame),
        onEnd: (error) => {
          if (this.ended) return;
          if (error && !opened) {
            this.sourceError(error.message);
            return;
          }
          if (error)
            this.update(
              ERROR,
              'SOURCE_ERROR',
              { source_id: 0, error_type: 'SourceConnectionError', error_message: redact(error.message), error_context: 'video_frames_consumption' },
              'video_consumption',
            );
          this.update(INFO, 'VIDEO_CONSUMPTION_FINISHED', { source_id: 0 }, 'video_consumption');
          this.setState(error ? 'ERROR' : 'ENDED');
        },
      },
    );
    this.reader = reader;
    reader.start();
  }

  /** Mute (the HTTP API's pause): frames are still read, but dropped. Only a RUNNING source can be muted. */
  mute(): boolean {
    if (this.state !== 'RUNNING') return false;
    this.setState('MUTED');
    return true;
  }

  resume(): boolean {
    if (this.state !== 'MUTED') return false;
    this.setState('RUNNING');
    return true;
  }

  terminate(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.reader?.stop();
    if (!this.depleted) this.setState('TERMINATING');
    this.update(INFO, 'INFERENCE_THREAD_FINISHED', {}, 'inference_pipeline');
    this.buffer.length = 0;
    this.log(`pipeline ${this.config.id} terminated (${reason}) after ${this.frameCounter} frames`);
    this.onEnded(this, reason);
  }

  /**
   * The oldest buffered result, serialised now (image outputs as base64 JPEG, excluded
   * fields left out), or nothing; taking one restarts the consumption clock.
   */
  async consume(excludedFields: string[]): Promise<{ outputs: Array<Record<string, unknown>>; frames_metadata: Array<Buffered['frame']> }> {
    const next = this.buffer.shift();
    if (!next) return { outputs: [], frames_metadata: [] };
    this.lastConsume = Date.now();
    const excluded = new Set(excludedFields);
    const serialised: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(next.outputs)) {
      if (excluded.has(name)) continue;
      serialised[name] = isImageValue(value) ? { type: 'base64', value: await jpeg(value.frame), video_metadata: next.metadata } : value;
    }
    return { outputs: [serialised], frames_metadata: [next.frame] };
  }

  /** The watchdog's report, as `GET /inference_pipelines/{id}/status` answers it. */
  report(): Record<string, unknown> {
    const average = (key: 'decoding' | 'inference' | 'e2e'): number | null => (this.latencies.length === 0 ? null : this.latencies.reduce((sum, entry) => sum + entry[key], 0) / this.latencies.length);
    const span = this.ticks.length > 1 ? (this.ticks[this.ticks.length - 1] - this.ticks[0]) / 1000 : 0;
    return {
      video_source_status_updates: this.updates,
      latency_reports: [{ source_id: 0, frame_decoding_latency: average('decoding'), inference_latency: average('inference'), e2e_latency: average('e2e') }],
      inference_throughput: span > 0 ? (this.ticks.length - 1) / span : 0,
      sources_metadata: [
        {
          source_properties: this.properties,
          source_reference: this.config.source.reference,
          buffer_size: DECODING_BUFFER,
          state: this.state,
          buffer_filling_strategy: 'DROP_OLDEST',
          buffer_consumption_strategy: 'EAGER',
          source_id: 0,
        },
      ],
    };
  }

  private onFrame(frame: DecodedFrame): void {
    if (this.ended) return;
    const decodedAt = Date.now();
    // Frame ids count every frame the source gave, kept or not.
    this.frameCounter++;
    if (this.state === 'MUTED') return;
    const maxFps = this.config.maxFps;
    if (maxFps) {
      if (frame.seconds + 1e-6 < this.nextSampleAt) return;
      this.nextSampleAt = Math.max(this.nextSampleAt + 1 / maxFps, frame.seconds);
    }
    const timestamp = localIsoTime(new Date(decodedAt));
    const metadata = {
      video_identifier: this.config.source.reference,
      frame_number: this.frameCounter,
      frame_timestamp: timestamp,
      fps: this.properties?.fps ?? null,
      measured_fps: null,
      comes_from_video_file: this.config.source.isFile,
    };
    const started = Date.now();
    let outputs: Record<string, unknown>;
    try {
      outputs = this.run.process(frame, metadata);
    } catch (error) {
      this.update(ERROR, 'INFERENCE_ERROR', { error_type: 'WorkflowError', error_message: (error as Error).message }, 'inference_pipeline');
      return;
    }
    const done = Date.now();
    this.latencies.push({ decoding: (started - decodedAt) / 1000, inference: (done - started) / 1000, e2e: (done - decodedAt) / 1000 });
    if (this.latencies.length > MAX_LATENCIES) this.latencies.shift();
    this.ticks.push(done);
    if (this.ticks.length > MAX_LATENCIES) this.ticks.shift();
    this.buffer.push({ outputs, metadata, frame: { frame_timestamp: timestamp, frame_id: this.frameCounter, source_id: 0 } });
    // The results buffer is a bounded deque: the oldest result goes.
    while (this.buffer.length > this.config.resultsBufferSize) this.buffer.shift();
  }

  private sourceError(message: string): void {
    this.update(ERROR, 'SOURCE_ERROR', { source_id: 0, error_type: 'SourceConnectionError', error_message: redact(message), error_context: 'video_frames_consumption' }, 'video_consumption');
    this.setState('ERROR');
  }

  private setState(next: SourceState): void {
    if (this.state === next) return;
    this.update(INFO, 'SOURCE_STATE_UPDATE', { previous_state: this.state, new_state: next, source_id: 0 }, 'video_consumption');
    this.state = next;
  }

  private update(severity: number, eventType: string, payload: Record<string, unknown>, context: string): void {
    this.updates.push({ timestamp: localIsoTime(), severity, event_type: eventType, payload, context });
    if (this.updates.length > MAX_UPDATES) this.updates.shift();
  }
}

async function jpeg(frame: RgbaFrame): Promise<string> {
  const bytes = await sharp(frame.rgba, { raw: { width: frame.width, height: frame.height, channels: 4 } })
    .removeAlpha()
    .jpeg({ quality: 80 })
    .toBuffer();
  return bytes.toString('base64');
}
