import { sleep } from '../backoff';
import type { RoboflowConnection } from '../config';
import { RoboflowError, isRoboflowError, toRoboflowError } from '../errors';
import { TypedEmitter } from '../events';
import { HttpClient } from '../http/client';
import { safeLogger, type Logger } from '../logger';
import { isModelRef, resolveWorkflow } from '../stream/model-workflow';
import { DEFAULT_RECONNECT, isFatal, reconnectDelay, type ReconnectPolicy } from '../stream/reconnect';
import type { LiveStream, ResilientState, ResilientStreamEvents } from '../stream/resilient-stream';
import type { StreamResult } from '../stream/session';
import type { WorkflowRef } from '../stream/signaling';
import { PipelineClient, type PipelineReport, type PipelineSource } from './client';
import { pipelineFingerprint, type PipelineHandle } from './handle';

/** The server's report, as a person reads it (the node's `stats` message). */
export interface PipelineStats {
  pipelineId: string;
  /** The video source's state: RUNNING, MUTED (paused), ENDED, ERROR, ... (null before the source is described). */
  sourceState: string | null;
  sources: Array<{ reference: string | null; state: string | null; width?: number; height?: number; fps?: number; isFile?: boolean }>;
  /** Averages over the server's recent frames, in milliseconds (null before the first result). */
  latencyMs: { frameDecoding: number | null; inference: number | null; endToEnd: number | null } | null;
  /** Frames per second the server analyses. */
  inferenceThroughput: number | null;
  /** The source's recent error reports (most recent last). */
  sourceErrors: string[];
  /** The report as the server sent it (`video_source_status_updates`, `latency_reports`, `sources_metadata`, ...). */
  report: PipelineReport;
}

export interface PipelineStreamEvents extends ResilientStreamEvents {
  /** A pipeline is this stream's now: persist the handle (started, or re-attached when `attached`). */
  pipeline: [{ handle: PipelineHandle; attached: boolean }];
  /** The pipeline is gone (stopped, finished, terminated by the server, replaced): forget its handle. */
  'pipeline-ended': [{ pipelineId: string; reason: string }];
  /** The server's status report, every `statsIntervalMs`. */
  stats: [PipelineStats];
  /** Paused (true) or resumed (false). */
  paused: [boolean];
}

export interface PipelineStreamOptions {
  /** `serverUrl`: the self-hosted Inference server (started with ENABLE_STREAM_API=True). */
  connection: RoboflowConnection;
  workflow: WorkflowRef;
  source: PipelineSource;
  imageInput?: string;
  parameters?: Record<string, unknown>;
  disableSinks?: boolean;
  /** Frames per second the server analyses at most. */
  maxFps?: number;
  /** Time between polls; each poll takes everything buffered (up to the buffer's size). Default 200 ms. */
  pollIntervalMs?: number;
  /** Outputs the server leaves out of results. Default: none for a workflow; `image` (the frame itself) for a model id. */
  excludedFields?: string[];
  /** Results the server keeps between polls (the oldest go when full). Default 64. */
  resultsBufferSize?: number;
  /**
   * Seconds without a consumed result before the server terminates the pipeline. Default
   * 300: long enough for a restart of Node-RED or n8n, short enough that a pipeline nobody
   * reads does not run for ever. null: never. The server restarts the clock only when a
   * poll takes a result, so a pipeline paused for longer ends too (resume starts a new one).
   */
  consumptionTimeout?: number | null;
  /** How often the server's status report is read and emitted as `stats` (0: never). Default 5 s. */
  statsIntervalMs?: number;
  /** A pipeline started earlier (persisted): re-attached when the server still runs it for the same settings. */
  resume?: PipelineHandle;
  reconnect?: Partial<ReconnectPolicy>;
  logger?: Logger;
  /** A shared HTTP client (the config node's); otherwise the stream makes and closes its own. */
  http?: HttpClient;
}

const DEFAULT_POLL_MS = 200;
const DEFAULT_STATS_MS = 5_000;
const DEFAULT_CONSUMPTION_TIMEOUT_S = 300;
/** A file's end is checked at most this often while polls come back empty. */
const END_CHECK_MS = 1_000;

const notFound = (error: unknown): boolean => isRoboflowError(error) && error.status === 404;
/** A terminate answered 400 (the server's KeyError for an unknown id) or 404: the pipeline is already gone. */
const alreadyGone = (error: unknown): boolean => isRoboflowError(error) && (error.status === 404 || error.status === 400);

function roundMs(seconds: number | null | undefined): number | null {
  return typeof seconds === 'number' && Number.isFinite(seconds) ? Math.round(seconds * 1000 * 10) / 10 : null;
}

/** The stats a node shows, from a status report. */
export function pipelineStats(pipelineId: string, report: PipelineReport): PipelineStats {
  const sources = (report.sources_metadata ?? []).map((source) => {
    const properties = source.source_properties ?? {};
    const num = (key: string): number | undefined => (typeof properties[key] === 'number' ? properties[key] : undefined);
    return {
      reference: typeof source.source_reference === 'string' ? source.source_reference : null,
      state: typeof source.state === 'string' ? source.state : null,
      ...(num('width') !== undefined ? { width: num('width') } : {}),
      ...(num('height') !== undefined ? { height: num('height') } : {}),
      ...(num('fps') !== undefined ? { fps: num('fps') } : {}),
      ...(typeof properties.is_file === 'boolean' ? { isFile: properties.is_file } : {}),
    };
  });
  const latency = report.latency_reports?.[0];
  const sourceErrors = (report.video_source_status_updates ?? [])
    .filter((update) => update.event_type === 'SOURCE_ERROR')
    .slice(-5)
    .map((update) => String(update.payload?.error_message ?? update.payload?.error_type ?? 'source error'));
  return {
    pipelineId,
    sourceState: sources[0]?.state ?? null,
    sources,
    latencyMs: latency ? { frameDecoding: roundMs(latency.frame_decoding_latency), inference: roundMs(latency.inference_latency), endToEnd: roundMs(latency.e2e_latency) } : null,
    inferenceThroughput: typeof report.inference_throughput === 'number' ? Math.round(report.inference_throughput * 100) / 100 : null,
    sourceErrors,
    report,
  };
}

/**
 * A self-hosted InferencePipeline driven like any live stream (the LiveStream surface
 * the Stream nodes use): start() starts a pipeline on the server, or re-attaches to the
 * one a persisted handle names when the server still runs it for the same settings;
 * results are polled in order and emitted as `result` (frame = `frames_metadata`); the
 * server's report comes as `stats`; pause()/resume() mute and unmute the source;
 * stop() terminates the pipeline, detach() leaves it running for a later re-attach.
 * A lost server is retried with backoff on the same pipeline; a pipeline the server
 * ended is replaced (live sources) or finishes the stream (files: `complete`).
 */
export class PipelineStream extends TypedEmitter<PipelineStreamEvents> implements LiveStream {
  private readonly options: PipelineStreamOptions;
  private readonly logger: Logger;
  private http: HttpClient;
  private readonly ownsHttp: boolean;
  private client: PipelineClient;
  private httpClosed = false;
  private readonly policy: ReconnectPolicy;
  private readonly fingerprint: string;
  private _state: ResilientState = 'idle';
  private running = false;
  private loop: Promise<void> | undefined;
  private stopping = new AbortController();
  /** Set by stop(): terminate on the way out; detach() leaves the pipeline. */
  private terminateOnExit = false;
  private id: string | undefined;
  private _paused = false;
  /** The pipeline ended while paused: resume() starts a new one. */
  private lostWhilePaused = false;
  private lastFrameId = 0;
  /** The source error the server reported last for the current pipeline (why a camera pipeline ended). */
  private lastSourceError: string | undefined;
  /** Whether the current pipeline's source ever ran (read at least one status past INITIALISING). */
  private sourceRan = false;
  private totalReconnects = 0;
  private resumeHandle: PipelineHandle | undefined;
  private startedAt = new Date().toISOString();

  constructor(options: PipelineStreamOptions) {
    const logger = safeLogger(options.logger);
    super((error) => logger.error(`Pipeline: ${(error as Error)?.message ?? String(error)}`));
    this.options = options;
    this.logger = logger;
    this.ownsHttp = options.http === undefined;
    this.http = options.http ?? new HttpClient({ apiKey: options.connection.apiKey, logger: options.logger });
    this.client = new PipelineClient({ connection: options.connection, http: this.http, logger: options.logger });
    this.policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
    this.fingerprint = pipelineFingerprint(options.connection, {
      workflow: options.workflow,
      source: options.source,
      imageInput: options.imageInput,
      parameters: options.parameters,
      disableSinks: options.disableSinks,
      maxFps: options.maxFps,
      resultsBufferSize: options.resultsBufferSize,
    });
    this.resumeHandle = options.resume;
  }

  get state(): ResilientState {
    return this._state;
  }

  get active(): boolean {
    return this.running;
  }

  /** The pipeline this stream reads now. */
  get pipelineId(): string | undefined {
    return this.id;
  }

  get paused(): boolean {
    return this._paused;
  }

  get reconnects(): number {
    return this.totalReconnects;
  }

  /** What to persist for a re-attach after a restart (undefined while no pipeline runs). */
  get handle(): PipelineHandle | undefined {
    return this.id ? this.handleFor(this.id) : undefined;
  }

  private handleFor(pipelineId: string): PipelineHandle {
    return { pipelineId, serverUrl: this.options.connection.serverUrl, fingerprint: this.fingerprint, startedAt: this.startedAt };
  }

  start(): void {
    if (this.running) return;
    if (this.httpClosed) {
      // Started again after stop(): the stream's own HTTP client was closed then.
      this.http = new HttpClient({ apiKey: this.options.connection.apiKey, logger: this.options.logger });
      this.client = new PipelineClient({ connection: this.options.connection, http: this.http, logger: this.options.logger });
      this.httpClosed = false;
    }
    this.running = true;
    this.terminateOnExit = false;
    this.stopping = new AbortController();
    this.loop = this.run().finally(() => {
      this.running = false;
    });
  }

  /** Stops for good and terminates the pipeline on the server. */
  async stop(): Promise<void> {
    this.terminateOnExit = true;
    await this.halt();
    if (this.id) {
      const id = this.id;
      this.id = undefined;
      try {
        await this.client.terminate(id);
      } catch (error) {
        if (!alreadyGone(error)) this.logger.warn(`Terminating pipeline ${id} failed: ${(error as Error).message}`);
      }
      this.emit('pipeline-ended', { pipelineId: id, reason: 'stopped' });
    }
    if (this._state !== 'complete' && this._state !== 'failed') this.setState('stopped');
    await this.release();
  }

  /** Stops reading but leaves the pipeline running on the server, to be re-attached (start with `resume`). */
  async detach(): Promise<void> {
    await this.halt();
    if (this._state !== 'complete' && this._state !== 'failed') this.setState('stopped');
    await this.release();
  }

  /** Ends the loop; a start request still under way is given 10 s (its pipeline is terminated when it comes). */
  private async halt(): Promise<void> {
    this.stopping.abort();
    const giveUp = new AbortController();
    await Promise.race([this.loop, sleep(10_000, giveUp.signal).catch(() => undefined)]);
    giveUp.abort();
  }

  private async release(): Promise<void> {
    if (this.ownsHttp && !this.running && !this.httpClosed) {
      this.httpClosed = true;
      await this.http.close();
    }
  }

  /** A pipeline cannot change its outputs while it runs (the API has no such call). */
  reconfigure(): void {
    throw new RoboflowError('invalid-input', 'A self-hosted pipeline cannot change its outputs while it runs: change the node and start it again');
  }

  /** Results are pulled: there is nothing to acknowledge. */
  ack(): void {
    // Nothing to do.
  }

  /** Mutes the source on the server: frames are read and dropped, no result comes. */
  async pause(): Promise<void> {
    if (this._paused) return;
    const id = this.requireRunning();
    await this.client.pause(id, this.stopping.signal);
    this._paused = true;
    this.logger.info(`Pipeline ${id} paused`);
    this.emit('paused', true);
  }

  /** Unmutes the source; a pipeline the server ended meanwhile is replaced by a new one. */
  async resume(): Promise<void> {
    if (!this._paused) return;
    const id = this.id;
    if (id && !this.lostWhilePaused) {
      try {
        await this.client.resume(id, this.stopping.signal);
      } catch (error) {
        if (!notFound(error)) throw error;
        this.lostWhilePaused = true;
      }
    }
    this._paused = false;
    this.emit('paused', false);
    this.logger.info(this.lostWhilePaused ? 'Pipeline ended while paused; starting a new one' : `Pipeline ${id} resumed`);
  }

  private requireRunning(): string {
    if (!this.running || !this.id) throw new RoboflowError('invalid-input', 'The pipeline is not running');
    return this.id;
  }

  private setState(state: ResilientState): void {
    if (this._state === state) return;
    this._state = state;
    this.emit('state', state);
  }

  /** Starts a pipeline, or re-attaches to the persisted one when it is still there and ours. */
  private async open(signal: AbortSignal): Promise<{ id: string; attached: boolean }> {
    const previous = this.resumeHandle;
    this.resumeHandle = undefined;
    if (previous?.serverUrl === this.options.connection.serverUrl) {
      const listed = await this.client.list(signal);
      const report =
        listed.includes(previous.pipelineId) && previous.fingerprint === this.fingerprint
          ? await this.client.status(previous.pipelineId, signal).catch((error: unknown) => {
              if (notFound(error)) return undefined; // Ended between the two calls.
              throw error;
            })
          : undefined;
      if (report) {
        // Listed, and answering: it is ours to read, paused or not.
        this.startedAt = previous.startedAt;
        this._paused = (report.sources_metadata ?? []).some((source) => source.state === 'MUTED');
        return { id: previous.pipelineId, attached: true };
      }
      if (listed.includes(previous.pipelineId) && previous.fingerprint !== this.fingerprint) {
        this.logger.info(`Pipeline ${previous.pipelineId} was started with other settings: terminating it`);
        await this.client.terminate(previous.pipelineId, signal).catch((error: unknown) => {
          if (!alreadyGone(error)) throw error;
        });
        this.emit('pipeline-ended', { pipelineId: previous.pipelineId, reason: 'settings changed' });
      } else {
        this.logger.info(`Pipeline ${previous.pipelineId} is no longer on the server; starting a new one`);
        this.emit('pipeline-ended', { pipelineId: previous.pipelineId, reason: 'gone from the server' });
      }
    }
    const workflow = await resolveWorkflow(this.http, this.options.connection, this.options.workflow, signal);
    // Not cancelled by stop(): a start the server carries out anyway must be known, to be terminated.
    const id = await this.client.initialise({
      workflow,
      source: this.options.source,
      imageInput: isModelRef(this.options.workflow) ? 'image' : this.options.imageInput,
      parameters: this.options.parameters,
      disableSinks: this.options.disableSinks,
      maxFps: this.options.maxFps,
      resultsBufferSize: this.options.resultsBufferSize,
      consumptionTimeout: this.options.consumptionTimeout === undefined ? DEFAULT_CONSUMPTION_TIMEOUT_S : this.options.consumptionTimeout,
    });
    if (signal.aborted && this.terminateOnExit) {
      this.logger.info(`Pipeline ${id} started after the stream stopped: terminating it`);
      await this.client.terminate(id).catch(() => undefined);
      throw new RoboflowError('aborted', 'Stopped while starting the pipeline');
    }
    this.startedAt = new Date().toISOString();
    return { id, attached: false };
  }

  private excludedFields(): string[] | undefined {
    if (this.options.excludedFields) return this.options.excludedFields;
    // A model's `image` output is the frame itself: nobody needs it back as base64.
    return isModelRef(this.options.workflow) ? ['image'] : undefined;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    const live = this.options.source.kind !== 'file';
    let attempts = 0;
    while (!signal.aborted) {
      let failure: RoboflowError | undefined;
      try {
        if (!this.id) {
          this.setState(attempts === 0 ? 'connecting' : 'reconnecting');
          const { id, attached } = await this.open(signal);
          this.id = id;
          this.lostWhilePaused = false;
          if (!attached) this._paused = false;
          this.emit('pipeline', { handle: this.handleFor(id), attached });
          this.emit('connected', { pipelineId: id });
          if (attached && this._paused) this.emit('paused', true);
        }
        const ended = await this.poll(this.id, signal, () => {
          if (this._state !== 'streaming') this.setState('streaming');
          attempts = 0;
        });
        if (ended === 'stopped') break;
        // The server ended the pipeline (file finished, consumption timeout, terminated, restarted).
        const gone = this.id;
        this.id = undefined;
        if (!live) {
          this.emit('pipeline-ended', { pipelineId: gone, reason: 'complete' });
          this.emit('complete', { frameId: this.lastFrameId + 1, reason: null });
          this.setState('complete');
          return;
        }
        // The server forgets a pipeline within a second of its source failing: when no status
        // showed the error in time, a source that never ran is still the likely cause.
        const cause = this.lastSourceError ?? (this.sourceRan ? undefined : 'no frame was read before the pipeline ended');
        this.emit('pipeline-ended', { pipelineId: gone, reason: cause ? `the server could not read the video source: ${cause}` : 'ended on the server' });
        failure = new RoboflowError('source-ended', cause ? `The server could not read the video source (${cause}); pipeline ${gone} ended` : `Pipeline ${gone} ended on the server`, {
          retryable: true,
        });
        if (this._paused) {
          // Paused: a new pipeline waits for resume().
          this.lostWhilePaused = true;
          await this.waitForResume(signal);
          continue;
        }
      } catch (caught) {
        if (signal.aborted) break;
        failure = toRoboflowError(caught, 'network');
        if (isFatal(failure) || attempts + 1 > this.policy.maxAttempts) {
          this.emit('error', failure);
          this.setState('failed');
          return;
        }
      }
      attempts++;
      this.totalReconnects++;
      const delayMs = reconnectDelay(attempts, failure, this.policy);
      this.logger.info(`Pipeline: ${failure.message}; trying again in ${delayMs} ms`);
      this.setState('reconnecting');
      this.emit('reconnecting', { attempt: attempts, delayMs, error: failure });
      try {
        await sleep(delayMs, signal);
      } catch {
        break;
      }
    }
  }

  private async waitForResume(signal: AbortSignal): Promise<void> {
    while (this._paused && !signal.aborted) await sleep(100, signal).catch(() => undefined);
  }

  /**
   * Reads a pipeline until it ends ('ended', when the server no longer has it) or the
   * stream stops ('stopped'). Transport failures throw (retried by run() on the same
   * pipeline); a 404 means the pipeline is gone.
   */
  private async poll(id: string, signal: AbortSignal, onHealthy: () => void): Promise<'ended' | 'stopped'> {
    const pollMs = this.options.pollIntervalMs ?? DEFAULT_POLL_MS;
    const statsMs = this.options.statsIntervalMs ?? DEFAULT_STATS_MS;
    const maxPerPoll = Math.max(1, this.options.resultsBufferSize ?? 64);
    const file = this.options.source.kind === 'file';
    let nextStats = 0;
    let lastEndCheck = 0;
    /** Until the source runs, the status is read every second: a camera the server cannot open ends the pipeline within one. */
    this.sourceRan = false;
    this.lastSourceError = undefined;
    const read = async (): Promise<PipelineReport> => {
      const report = await this.client.status(id, signal);
      const stats = pipelineStats(id, report);
      if (stats.sourceErrors.length > 0) this.lastSourceError = stats.sourceErrors[stats.sourceErrors.length - 1];
      if (stats.sourceState && stats.sourceState !== 'NOT_STARTED' && stats.sourceState !== 'INITIALISING' && stats.sourceState !== 'ERROR') this.sourceRan = true;
      return report;
    };
    while (!signal.aborted) {
      if (this.lostWhilePaused && !this._paused) return 'ended';
      let taken = 0;
      try {
        for (; taken < maxPerPoll && !signal.aborted; taken++) {
          const consumed = await this.client.consume(id, { excludedFields: this.excludedFields(), signal });
          onHealthy();
          if (consumed.length === 0) break;
          this.sourceRan = true;
          for (const { output, frame } of consumed) this.deliver(output, frame);
        }
        const now = Date.now();
        if (statsMs > 0 && now >= nextStats) {
          nextStats = now + statsMs;
          this.emit('stats', pipelineStats(id, await read()));
        } else if (!this.sourceRan && taken === 0 && now - lastEndCheck >= END_CHECK_MS) {
          lastEndCheck = now;
          await read();
        } else if (file && taken === 0 && now - lastEndCheck >= END_CHECK_MS) {
          lastEndCheck = now;
          // A finished file: every source ENDED and nothing left to take.
          const report = await read();
          const states = (report.sources_metadata ?? []).map((source) => source.state);
          if (states.length > 0 && states.every((state) => state === 'ENDED')) {
            const last = await this.client.consume(id, { excludedFields: this.excludedFields(), signal });
            for (const { output, frame } of last) this.deliver(output, frame);
            if (last.length === 0) {
              await this.client.terminate(id, signal).catch(() => undefined);
              return 'ended';
            }
          }
        }
      } catch (error) {
        if (signal.aborted) return 'stopped';
        if (notFound(error)) return 'ended';
        throw error;
      }
      if (taken >= maxPerPoll) continue;
      try {
        await sleep(pollMs, signal);
      } catch {
        return 'stopped';
      }
    }
    return 'stopped';
  }

  private deliver(output: Record<string, unknown> | null, frame: { frame_timestamp: string; frame_id: number; source_id: number | null } | null): void {
    const frameId = frame?.frame_id ?? this.lastFrameId + 1;
    this.lastFrameId = Math.max(this.lastFrameId, frameId);
    const result: StreamResult = {
      frameId,
      data: output,
      // `frame` for the node: the server's frames_metadata, with received_at as the other streams name it.
      metadata: frame ? { ...frame, received_at: frame.frame_timestamp } : null,
      errors: [],
    };
    this.emit('result', result);
  }
}
