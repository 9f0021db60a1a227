import type { RoboflowConnection } from '../config';
import { RoboflowError, isRoboflowError } from '../errors';
import { HttpClient, type HttpResponse, type RetryPolicy } from '../http/client';
import { safeLogger, type Logger } from '../logger';
import type { ResolvedWorkflowRef } from '../stream/model-workflow';

/**
 * A self-hosted Inference server's InferencePipeline API (docs/protocol.md §7): the
 * server opens the video itself (a LAN camera, a file on the server, a device) and runs
 * a workflow on it; the client starts, lists, inspects, pauses, resumes and terminates
 * pipelines and polls their results. These routes check no key: the key given at start
 * goes to the pipeline (for the workflow and its models). Keep such a server on a
 * trusted network.
 */

/** What the server opens: a camera or video URL, a file on the server's disk, or a device index on the server. */
export type PipelineSource = { kind: 'url'; url: string } | { kind: 'file'; path: string } | { kind: 'device'; index: number };

export interface InitialiseOptions {
  workflow: ResolvedWorkflowRef;
  source: PipelineSource;
  /** The workflow's image input. Default `image`. */
  imageInput?: string;
  parameters?: Record<string, unknown>;
  disableSinks?: boolean;
  /** Frames per second the server analyses at most (`max_fps`). */
  maxFps?: number;
  /** Results the server keeps for the client; the oldest go when it is full. Default 64. */
  resultsBufferSize?: number;
  /** Seconds without a consumed result after which the server terminates the pipeline (`consumption_timeout`); null: never. */
  consumptionTimeout?: number | null;
}

/** One analysed frame as `consume` gives it: the workflow's serialised outputs and where the frame came from. */
export interface FrameMetadata {
  /** ISO time the server took the frame (no time zone). */
  frame_timestamp: string;
  /** Counts the source's frames, from 1 (frames skipped by max_fps count too). */
  frame_id: number;
  source_id: number | null;
}

export interface ConsumedFrame {
  output: Record<string, unknown> | null;
  frame: FrameMetadata | null;
}

/** The status report of a pipeline (`report` of `GET …/status`), as the server's watchdog writes it. */
export interface PipelineReport {
  video_source_status_updates?: Array<{ timestamp?: string; severity?: number | string; event_type?: string; payload?: Record<string, unknown>; context?: string }>;
  latency_reports?: Array<{ source_id?: number | null; frame_decoding_latency?: number | null; inference_latency?: number | null; e2e_latency?: number | null }>;
  inference_throughput?: number | null;
  sources_metadata?: Array<{
    source_reference?: string;
    state?: string;
    buffer_size?: number;
    source_properties?: Record<string, unknown> | null;
    source_id?: number | null;
    [extra: string]: unknown;
  }>;
  [extra: string]: unknown;
}

export interface PipelineClientOptions {
  /** `serverUrl` is the self-hosted server; the key is handed to pipelines at start. */
  connection: RoboflowConnection;
  http?: HttpClient;
  logger?: Logger;
}

/** A self-hosted server loads the workflow and its models before it answers a start. */
const INITIALISE_TIMEOUT_MS = 120_000;
const CALL_TIMEOUT_MS = 15_000;
const IDEMPOTENT: Partial<RetryPolicy> = { attempts: 2 };

export function videoReference(source: PipelineSource): string | number {
  if (source.kind === 'device') {
    if (!Number.isInteger(source.index) || source.index < 0) throw new RoboflowError('invalid-input', `Invalid device index ${String(source.index)}: use 0, 1, ...`);
    return source.index;
  }
  const value = source.kind === 'url' ? source.url : source.path;
  if (typeof value !== 'string' || !value.trim())
    throw new RoboflowError('invalid-input', source.kind === 'url' ? 'Set the camera or video URL the server should open' : 'Set the path of the video file on the server');
  if (source.kind === 'url' && !/^(rtsps?|https?|rtmp|udp|tcp):\/\/\S+/i.test(value.trim())) {
    throw new RoboflowError('invalid-input', 'The video URL must start with rtsp://, rtsps://, http://, https://, rtmp://, udp:// or tcp://');
  }
  return value.trim();
}

function pipelineId(body: unknown): string {
  const context = body && typeof body === 'object' ? (body as { context?: { pipeline_id?: unknown } }).context : undefined;
  if (!context || typeof context.pipeline_id !== 'string' || !context.pipeline_id) throw new RoboflowError('protocol', 'The server started a pipeline without saying its id (context.pipeline_id)');
  return context.pipeline_id;
}

export class PipelineClient {
  private readonly connection: RoboflowConnection;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;
  private readonly logger: Logger;

  constructor(options: PipelineClientOptions) {
    this.connection = options.connection;
    this.ownsHttp = options.http === undefined;
    this.http = options.http ?? new HttpClient({ apiKey: options.connection.apiKey, logger: options.logger });
    this.logger = safeLogger(options.logger);
  }

  private url(path: string): string {
    return `${this.connection.serverUrl}/inference_pipelines${path}`;
  }

  private idPath(id: string, action: string): string {
    if (!id) throw new RoboflowError('invalid-input', 'No pipeline id');
    return this.url(`/${encodeURIComponent(id)}/${action}`);
  }

  /** Starts a pipeline; returns its id. Never retried: a retry after a lost answer would start a second one. */
  async initialise(options: InitialiseOptions, signal?: AbortSignal): Promise<string> {
    const workflow = options.workflow;
    const body = {
      api_key: this.connection.apiKey,
      video_configuration: {
        type: 'VideoConfiguration',
        video_reference: videoReference(options.source),
        ...(options.maxFps ? { max_fps: options.maxFps } : {}),
      },
      processing_configuration: {
        type: 'WorkflowConfiguration',
        ...('specification' in workflow
          ? { workflow_specification: workflow.specification }
          : { workspace_name: workflow.workspace, workflow_id: workflow.workflowId, ...(workflow.versionId ? { workflow_version_id: workflow.versionId } : {}) }),
        image_input_name: options.imageInput ?? 'image',
        workflows_parameters: options.parameters ?? {},
        ...(options.disableSinks ? { disable_sinks: true } : {}),
        workflows_thread_pool_workers: 4,
        cancel_thread_pool_tasks_on_exit: true,
        video_metadata_input_name: 'video_metadata',
      },
      sink_configuration: { type: 'MemorySinkConfiguration', results_buffer_size: options.resultsBufferSize ?? 64 },
      ...(options.consumptionTimeout !== undefined && options.consumptionTimeout !== null ? { consumption_timeout: options.consumptionTimeout } : {}),
    };
    let response: HttpResponse<unknown>;
    try {
      response = await this.http.request({ method: 'POST', url: this.url('/initialise'), json: body, operation: 'stream', timeoutMs: INITIALISE_TIMEOUT_MS, retry: false, signal });
    } catch (error) {
      // FastAPI's answer for a route that does not exist: the server runs no stream API.
      if (isRoboflowError(error) && error.status === 404 && error.detail === 'Not Found') {
        throw new RoboflowError(
          'not-found',
          "This server has no InferencePipeline API (404): start the self-hosted Inference server with ENABLE_STREAM_API=True (Roboflow's hosted service has none)",
          { status: 404, cause: error },
        );
      }
      throw error;
    }
    const id = pipelineId(response.body);
    this.logger.info(`Pipeline ${id} started`);
    return id;
  }

  /** Ids of the pipelines running on the server. */
  async list(signal?: AbortSignal): Promise<string[]> {
    const response = await this.http.request<{ pipelines?: unknown }>({ method: 'GET', url: this.url('/list'), operation: 'pipeline', timeoutMs: CALL_TIMEOUT_MS, retry: IDEMPOTENT, signal });
    const pipelines = response.body?.pipelines;
    return Array.isArray(pipelines) ? pipelines.filter((id): id is string => typeof id === 'string') : [];
  }

  async status(id: string, signal?: AbortSignal): Promise<PipelineReport> {
    const response = await this.http.request<{ report?: unknown }>({ method: 'GET', url: this.idPath(id, 'status'), operation: 'pipeline', timeoutMs: CALL_TIMEOUT_MS, retry: IDEMPOTENT, signal });
    const report = response.body?.report;
    if (!report || typeof report !== 'object') throw new RoboflowError('protocol', `The status of pipeline ${id} holds no report`);
    return report as PipelineReport;
  }

  /** Stops analysing (the server mutes the source: frames are read and dropped). */
  async pause(id: string, signal?: AbortSignal): Promise<void> {
    await this.http.request({ method: 'POST', url: this.idPath(id, 'pause'), json: {}, operation: 'pipeline', timeoutMs: CALL_TIMEOUT_MS, retry: IDEMPOTENT, responseType: 'none', signal });
  }

  async resume(id: string, signal?: AbortSignal): Promise<void> {
    await this.http.request({ method: 'POST', url: this.idPath(id, 'resume'), json: {}, operation: 'pipeline', timeoutMs: CALL_TIMEOUT_MS, retry: IDEMPOTENT, responseType: 'none', signal });
  }

  async terminate(id: string, signal?: AbortSignal): Promise<void> {
    await this.http.request({ method: 'POST', url: this.idPath(id, 'terminate'), json: {}, operation: 'pipeline', timeoutMs: 30_000, retry: IDEMPOTENT, responseType: 'none', signal });
    this.logger.info(`Pipeline ${id} terminated`);
  }

  /**
   * Takes what the server buffered since the last call: at most one entry per call (one
   * frame per source), oldest first; none when nothing is waiting. The server's
   * consumption timer restarts only when something was taken.
   */
  async consume(id: string, options: { excludedFields?: string[]; signal?: AbortSignal } = {}): Promise<ConsumedFrame[]> {
    const excluded = options.excludedFields?.filter(Boolean) ?? [];
    const response = await this.http.request<{ outputs?: unknown; frames_metadata?: unknown }>({
      method: 'GET',
      url: this.idPath(id, 'consume'),
      ...(excluded.length > 0 ? { json: { excluded_fields: excluded } } : {}),
      operation: 'pipeline',
      timeoutMs: CALL_TIMEOUT_MS,
      // A lost answer may have taken a result off the buffer: the caller decides, not a silent retry.
      retry: false,
      signal: options.signal,
    });
    const outputs = Array.isArray(response.body?.outputs) ? (response.body.outputs as unknown[]) : [];
    const frames = Array.isArray(response.body?.frames_metadata) ? (response.body.frames_metadata as unknown[]) : [];
    const consumed: ConsumedFrame[] = [];
    for (let index = 0; index < Math.max(outputs.length, frames.length); index++) {
      const output = outputs[index];
      const frame = frames[index];
      consumed.push({
        output: output && typeof output === 'object' ? (output as Record<string, unknown>) : null,
        frame: frame && typeof frame === 'object' && typeof (frame as FrameMetadata).frame_id === 'number' ? (frame as FrameMetadata) : null,
      });
    }
    return consumed;
  }

  async close(): Promise<void> {
    if (this.ownsHttp) await this.http.close();
  }
}
