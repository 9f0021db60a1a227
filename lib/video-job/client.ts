import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { sleep } from '../backoff';
import { isRoboflowHosted, type RoboflowConnection } from '../config';
import { RoboflowError, toRoboflowError } from '../errors';
import { HttpClient } from '../http/client';
import { safeLogger, type Logger } from '../logger';
import { checkVideoFile, type UploadProgress } from '../stream/uploader';
import { BatchProcessingClient, batchUnavailable, type BatchJobOptions } from './batch';
import { normaliseJobResults, type VideoJobResults } from './results';

/**
 * Batch video inference, three generations (what a job handle records):
 * - `model`: the documented `/videoinfer` API for trained models (signed URL,
 *   `infer_fps`, `models`, numeric status; docs/protocol.md §3.1);
 * - `workflow`: the `/videoinfer` workflow form of Roboflow's docs (camelCase answers,
 *   string status; §3.4);
 * - `batch`: a workflow through the Batch Processing API (staging, a
 *   `simple-video-processing-v1` job, results as CSV or JSONL; §4).
 */
export type JobGeneration = 'model' | 'workflow' | 'batch';

/**
 * What a node offers: `auto` (Batch Processing, else `/videoinfer` when the workspace
 * lacks it), `batch`, `videoinfer` (the `workflow` generation) or `model`.
 */
export type JobGenerationChoice = 'auto' | 'batch' | 'videoinfer' | 'model';

export interface ModelSpec {
  modelId: string;
  modelVersion?: string | number;
  inferenceType?: string;
  inferenceParams?: Record<string, unknown>;
}

/** A workspace workflow over a video; the Batch Processing options apply to `batch` (and `auto` when it uses it). */
export interface WorkflowJobFields extends Omit<BatchJobOptions, 'workspace' | 'workflow'> {
  workspace: string;
  workflow: string;
  /** Pin a workflow version (`workflow_version_id`; `/videoinfer` only: Batch Processing runs the current version). */
  versionId?: string;
  /** Skip the workflow's sink blocks (a dry run; `/videoinfer` only: `auto` uses it, `batch` refuses). */
  disableSinks?: boolean;
}

export type JobTarget = { generation: 'model'; models: ModelSpec[] } | ({ generation: 'workflow' | 'batch' | 'auto' } & WorkflowJobFields);

/**
 * Everything needed to resume polling after a restart. Plain data holding no secret:
 * safe to persist as JSON (read it back with readJobHandle).
 */
export interface JobHandle {
  /** The generation that runs the job (for `auto`, the one it chose). */
  generation: JobGeneration;
  jobId: string;
  apiUrl: string;
  submittedAt: string;
  workspace?: string;
  workflow?: string;
  /** Batch Processing: the staging batch holding the video. */
  batchId?: string;
  /** The frame rate asked for (places Batch Processing rows that do not say where they are). */
  fps?: number;
  /** `auto` used `/videoinfer` (the workspace lacks Batch Processing, or the job needs what it cannot do: a pinned version, a dry run), and why. */
  fallback?: { from: 'batch'; reason: string };
}

export type JobState = 'queued' | 'running' | 'complete' | 'failed';

export interface JobStatus {
  state: JobState;
  /** 0..1 when the service reports it. */
  progress?: number;
  /** Where the results are, when not inline. */
  outputUrl?: string;
  /** Inline results, when the service put them in the status answer. */
  results?: unknown;
  /** Why a job failed. */
  message?: string;
  /** Batch Processing, once finished: where the results are. */
  batch?: { workspace: string; outputBatches: string[]; fps?: number };
  raw: unknown;
}

export type VideoInput = { kind: 'file'; path: string } | { kind: 'buffer'; data: Uint8Array; fileName?: string } | { kind: 'url'; url: string };

export interface VideoJobClientOptions {
  connection: RoboflowConnection;
  http?: HttpClient;
  logger?: Logger;
}

export interface WaitOptions {
  /** Time between polls. Default: 60 s on Roboflow's hosts (they rate-limit), 2 s elsewhere. */
  pollIntervalMs?: number;
  onStatus?: (status: JobStatus) => void;
  signal?: AbortSignal;
}

export interface StartOptions {
  fps: number;
  fileName?: string;
  onUploadProgress?: (progress: UploadProgress) => void;
  /**
   * Called once the generation is settled, before the video is uploaded: for `auto`,
   * `batch`, or `workflow` with the reason it fell back.
   */
  onGeneration?: (generation: JobGeneration, fallback?: JobHandle['fallback']) => void;
  signal?: AbortSignal;
}

export interface RunOptions extends WaitOptions, Omit<StartOptions, 'signal'> {
  /** Called once the job is submitted: persist the handle to survive a restart. */
  onSubmitted?: (handle: JobHandle) => void;
}

/** What a node's settings give for a job: the workflow's fields, or a model (`project/version`) for the `model` choice. */
export interface JobTargetInput extends Partial<WorkflowJobFields> {
  /** `project/version`, for the `model` choice. */
  model?: string;
  /** Model jobs: the model's confidence threshold (0..1), sent as `inference_params`. */
  confidence?: number;
  /** Model jobs: `object-detection` unless told otherwise. */
  inferenceType?: string;
}

/** Why `auto` runs a dry run through `/videoinfer`, and why `batch` refuses one (the n8n node's words, which its tests pin). */
const DRY_RUN_REASON = "a dry run (Batch Processing cannot skip the workflow's sinks)";
const DRY_RUN_REFUSED = "Batch Processing cannot skip the workflow's sinks: turn the dry run off, or run the job through /videoinfer";

const CHOICES: readonly JobGenerationChoice[] = ['auto', 'batch', 'videoinfer', 'model'];

/**
 * The job target for a node's generation choice, checked: `model` needs a model id
 * (`project/version`), the others a workspace and a workflow id. Throws a RoboflowError
 * saying what to set.
 */
export function jobTargetFor(choice: JobGenerationChoice, input: JobTargetInput): JobTarget {
  if (!CHOICES.includes(choice)) throw new RoboflowError('invalid-input', `Unknown job generation "${String(choice)}": use ${CHOICES.join(', ')}`);
  if (choice === 'model') {
    const match = /^\s*([^/\s]+)\/([^/\s]+)\s*$/.exec(input.model ?? '');
    if (!match) throw new RoboflowError('invalid-input', `Set the model as project/version, e.g. my-project/3 (got "${input.model ?? ''}")`);
    if (input.confidence !== undefined && !(input.confidence >= 0 && input.confidence <= 1))
      throw new RoboflowError('invalid-input', `The confidence must be a number from 0 to 1 (got ${input.confidence})`);
    return {
      generation: 'model',
      models: [
        {
          modelId: match[1],
          modelVersion: match[2],
          ...(input.inferenceType ? { inferenceType: input.inferenceType } : {}),
          ...(input.confidence !== undefined ? { inferenceParams: { confidence: input.confidence } } : {}),
        },
      ],
    };
  }
  const workspace = input.workspace?.trim();
  const workflow = input.workflow?.trim();
  if (!workspace || !workflow) throw new RoboflowError('invalid-input', 'Set the workspace and the workflow id');
  const { model: _model, confidence: _confidence, inferenceType: _type, ...fields } = input;
  return { ...fields, generation: choice === 'videoinfer' ? 'workflow' : choice, workspace, workflow };
}

function pick(record: Record<string, unknown>, ...keys: string[]): unknown {
  for (const key of keys) if (record[key] !== undefined && record[key] !== null) return record[key];
  return undefined;
}

/** Reads either status style into one shape. */
export function normaliseJobStatus(body: unknown): JobStatus {
  if (!body || typeof body !== 'object') throw new RoboflowError('protocol', 'Video job status is not a JSON object');
  const record = body as Record<string, unknown>;
  const status = record.status;
  const progressValue = pick(record, 'progress');
  const progress = typeof progressValue === 'number' ? (progressValue > 1 ? progressValue / 100 : progressValue) : undefined;
  const outputUrl = pick(record, 'output_signed_url', 'output_url', 'outputUrl', 'results_url', 'resultsUrl') as string | undefined;
  const message = pick(record, 'error', 'message', 'reason') as string | undefined;
  let state: JobState;
  if (typeof status === 'number') state = status === 0 ? 'complete' : status === 1 ? 'running' : 'failed';
  else {
    const text = String(status ?? '').toLowerCase();
    if (['complete', 'completed', 'done', 'success', 'succeeded', 'finished'].includes(text)) state = 'complete';
    else if (['failed', 'failure', 'error', 'cancelled', 'canceled'].includes(text)) state = 'failed';
    else if (['queued', 'pending', 'waiting', 'submitted'].includes(text)) state = 'queued';
    else state = 'running';
  }
  return {
    state,
    ...(progress !== undefined ? { progress } : {}),
    ...(typeof outputUrl === 'string' ? { outputUrl } : {}),
    ...(record.results !== undefined ? { results: record.results } : {}),
    ...(typeof message === 'string' ? { message } : {}),
    raw: body,
  };
}

/** Reads a Batch Processing job (`{job: {currentStage, plannedStages, isTerminal, error, lastNotification}}`) into the common shape. */
export function normaliseBatchStatus(job: Record<string, unknown>): JobStatus {
  const notification = job.lastNotification;
  const said = typeof notification === 'string' ? notification : notification && typeof notification === 'object' ? (notification as Record<string, unknown>).message : undefined;
  const message = typeof said === 'string' && said ? said : undefined;
  const planned = Array.isArray(job.plannedStages) ? job.plannedStages.filter((stage): stage is string => typeof stage === 'string') : [];
  const current = typeof job.currentStage === 'string' ? job.currentStage : undefined;
  if (job.isTerminal === true) {
    return job.error === true ? { state: 'failed', message: message ?? 'the job ended with an error', raw: job } : { state: 'complete', progress: 1, ...(message ? { message } : {}), raw: job };
  }
  if (!current) return { state: 'queued', raw: job };
  const index = planned.indexOf(current);
  return { state: 'running', ...(index >= 0 && planned.length > 0 ? { progress: index / planned.length } : {}), ...(message ? { message } : {}), raw: job };
}

function counting(total: number, onProgress: ((progress: UploadProgress) => void) | undefined): Transform {
  let sent = 0;
  let lastPercent = -1;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      sent += chunk.byteLength;
      const percent = total > 0 ? Math.floor((sent / total) * 100) : 100;
      if (percent !== lastPercent) {
        lastPercent = percent;
        onProgress?.({ sentBytes: sent, totalBytes: total, percent });
      }
      callback(null, chunk);
    },
  });
}

export class VideoJobClient {
  private readonly connection: RoboflowConnection;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;
  private readonly logger: Logger;
  private readonly batch: BatchProcessingClient;

  constructor(options: VideoJobClientOptions) {
    this.connection = options.connection;
    this.ownsHttp = options.http === undefined;
    this.http = options.http ?? new HttpClient({ apiKey: options.connection.apiKey, logger: options.logger });
    this.logger = safeLogger(options.logger);
    this.batch = new BatchProcessingClient(this.connection, this.http, this.logger);
  }

  /**
   * Uploads a file or buffer through a signed URL and returns the URL to submit.
   * Files are streamed (constant memory whatever the size); progress is reported.
   */
  async upload(
    input: Exclude<VideoInput, { kind: 'url' }>,
    generation: JobGeneration | 'auto',
    options: { fileName?: string; onProgress?: (progress: UploadProgress) => void; signal?: AbortSignal } = {},
  ): Promise<string> {
    if (generation === 'batch' || generation === 'auto') throw new RoboflowError('invalid-input', 'Batch Processing jobs stage their video themselves: use start() or run()');
    let size: number;
    let body: () => Readable | Uint8Array;
    let fileName: string;
    if (input.kind === 'file') {
      size = await checkVideoFile(input.path);
      fileName = options.fileName ?? basename(input.path);
      body = () => createReadStream(input.path, { highWaterMark: 256 * 1024 }).pipe(counting(size, options.onProgress));
    } else {
      if (!(input.data instanceof Uint8Array) || input.data.byteLength === 0) throw new RoboflowError('invalid-input', 'The video buffer is empty');
      size = input.data.byteLength;
      fileName = options.fileName ?? input.fileName ?? 'video.mp4';
      body = () => {
        options.onProgress?.({ sentBytes: size, totalBytes: size, percent: 100 });
        return input.data;
      };
    }
    const base = `${this.connection.apiUrl}/video_upload_signed_url/`;
    let putUrl: string;
    let inputUrl: string;
    if (generation === 'model') {
      const response = await this.http.request<Record<string, unknown>>({ method: 'POST', url: base, auth: 'query', json: { file_name: fileName }, operation: 'video-upload', signal: options.signal });
      const signed = pick(response.body ?? {}, 'signed_url', 'signedUrl');
      if (typeof signed !== 'string') throw new RoboflowError('protocol', 'The upload request returned no signed URL');
      putUrl = signed;
      // The job reads the video through the signed URL itself, signature and all
      // (docs/protocol.md §3.1): the bare object URL is not readable by the service.
      inputUrl = signed;
    } else {
      const response = await this.http.request<Record<string, unknown>>({
        method: 'POST',
        url: base,
        auth: 'query',
        query: { file_name: fileName },
        operation: 'video-upload',
        signal: options.signal,
      });
      const signed = pick(response.body ?? {}, 'signedUrl', 'signed_url');
      const fileUrl = pick(response.body ?? {}, 'fileUrl', 'file_url');
      if (typeof signed !== 'string') throw new RoboflowError('protocol', 'The upload request returned no signed URL');
      putUrl = signed;
      inputUrl = typeof fileUrl === 'string' ? fileUrl : signed.split('?')[0];
    }
    this.logger.info(`Uploading ${fileName} (${size} bytes)`);
    await this.http.request({
      method: 'PUT',
      url: putUrl,
      body,
      headers: { 'content-type': generation === 'model' ? 'application/octet-stream' : 'video/mp4', 'content-length': String(size) },
      operation: 'video-upload',
      // A large file may take long; what matters is that bytes keep moving.
      timeoutMs: 120_000,
      responseType: 'none',
      signal: options.signal,
    });
    return inputUrl;
  }

  /** Submits a job for a video at `inputUrl`; returns a handle that survives restarts. */
  async submit(inputUrl: string, target: JobTarget, fps: number, signal?: AbortSignal): Promise<JobHandle> {
    if (!Number.isFinite(fps) || fps < 1 || fps > 120) throw new RoboflowError('invalid-input', `fps must be between 1 and 120 (got ${fps})`);
    if (target.generation === 'batch' || target.generation === 'auto') throw new RoboflowError('invalid-input', 'Batch Processing jobs stage their video themselves: use start() or run()');
    const url = `${this.connection.apiUrl}/videoinfer/`;
    const submittedAt = new Date().toISOString();
    if (target.generation === 'model') {
      if (target.models.length === 0) throw new RoboflowError('invalid-input', 'Name at least one model');
      const response = await this.http.request<Record<string, unknown>>({
        method: 'POST',
        url,
        auth: 'query',
        json: {
          input_url: inputUrl,
          infer_fps: fps,
          models: target.models.map((model) => ({
            model_id: model.modelId,
            model_version: String(model.modelVersion ?? ''),
            inference_type: model.inferenceType ?? 'object-detection',
            ...(model.inferenceParams ? { inference_params: model.inferenceParams } : {}),
          })),
        },
        operation: 'video-job',
        retry: { attempts: 2 },
        signal,
      });
      const jobId = pick(response.body ?? {}, 'job_id', 'jobId');
      if (typeof jobId !== 'string') throw new RoboflowError('protocol', 'The job was accepted without a job id');
      return { generation: 'model', jobId, apiUrl: this.connection.apiUrl, submittedAt };
    }
    if (!target.workspace || !target.workflow) throw new RoboflowError('invalid-input', 'Set the workspace and the workflow id');
    const response = await this.http.request<Record<string, unknown>>({
      method: 'POST',
      url,
      json: {
        api_key: this.connection.apiKey,
        workspace: target.workspace,
        workflow: target.workflow,
        video_url: inputUrl,
        fps,
        // The same switches as a stream's WorkflowConfiguration (docs/protocol.md §2.1).
        ...(target.versionId ? { workflow_version_id: target.versionId } : {}),
        ...(target.disableSinks ? { disable_sinks: true } : {}),
      },
      operation: 'video-job',
      retry: { attempts: 2 },
      signal,
    });
    const jobId = pick(response.body ?? {}, 'jobId', 'job_id');
    if (typeof jobId !== 'string') throw new RoboflowError('protocol', 'The job was accepted without a job id');
    return { generation: 'workflow', jobId, apiUrl: this.connection.apiUrl, submittedAt, workspace: target.workspace, workflow: target.workflow };
  }

  async status(handle: JobHandle, signal?: AbortSignal): Promise<JobStatus> {
    if (handle.generation === 'batch') {
      if (!handle.workspace) throw new RoboflowError('invalid-input', `Job ${handle.jobId}: a Batch Processing job handle needs its workspace`);
      const { job, outputBatches } = await this.batch.status(handle.workspace, handle.jobId, signal);
      const status = normaliseBatchStatus(job);
      return outputBatches ? { ...status, batch: { workspace: handle.workspace, outputBatches, ...(handle.fps ? { fps: handle.fps } : {}) } } : status;
    }
    const response = await this.http.request({
      method: 'GET',
      url: `${handle.apiUrl}/videoinfer/`,
      auth: 'query',
      query: handle.generation === 'model' ? { job_id: handle.jobId } : { jobId: handle.jobId },
      operation: 'video-job',
      signal,
    });
    return normaliseJobStatus(response.body);
  }

  /**
   * Polls until the job ends. Transient failures (network, 5xx, 429) only delay the
   * next poll; a failed job or an error a retry cannot fix throws.
   */
  async wait(handle: JobHandle, options: WaitOptions = {}): Promise<JobStatus> {
    const interval = options.pollIntervalMs ?? (isRoboflowHosted(handle.apiUrl) ? 60_000 : 2_000);
    for (;;) {
      let status: JobStatus | undefined;
      let delay = interval;
      try {
        status = await this.status(handle, options.signal);
      } catch (caught) {
        const error = toRoboflowError(caught, 'network');
        if (!error.retryable) throw error;
        delay = Math.max(interval, error.retryAfterMs ?? 0);
        this.logger.warn(`Job ${handle.jobId}: status unavailable (${error.message}); next try in ${Math.round(delay / 1000)} s`);
      }
      if (status) {
        options.onStatus?.(status);
        if (status.state === 'complete') return status;
        if (status.state === 'failed') throw new RoboflowError('job-failed', `Video job ${handle.jobId} failed: ${status.message ?? 'no reason given'}`, { detail: status.message });
      }
      await sleep(delay, options.signal).catch(() => {
        throw new RoboflowError('aborted', 'Stopped waiting for the video job');
      });
    }
  }

  /** The results of a finished job: inline, or fetched from where the status points. */
  async results(status: JobStatus, signal?: AbortSignal): Promise<VideoJobResults> {
    if (status.batch) return this.batch.results(status.batch.workspace, status.batch.outputBatches, status.batch.fps, signal);
    if (status.results !== undefined) return normaliseJobResults(status.results);
    if (!status.outputUrl) throw new RoboflowError('protocol', 'The finished job gave neither results nor a results URL');
    const response = await this.http.request({ method: 'GET', url: status.outputUrl, operation: 'video-job', timeoutMs: 120_000, signal });
    return normaliseJobResults(response.body);
  }

  /**
   * Uploads (unless a URL is given for `/videoinfer`) and submits; returns the handle
   * to persist. `auto` asks Batch Processing for a staging upload first and uses
   * `/videoinfer` instead when that answer says the workspace lacks it (see
   * batchUnavailable), or at once for a pinned version or a dry run (Batch Processing
   * runs the current version, sinks and all); the handle says which ran, and why.
   */
  async start(input: VideoInput, target: JobTarget, options: StartOptions): Promise<JobHandle> {
    const { fps, signal } = options;
    if (!Number.isFinite(fps) || fps < 1 || fps > 120) throw new RoboflowError('invalid-input', `fps must be between 1 and 120 (got ${fps})`);
    let fallback: JobHandle['fallback'];
    if (target.generation === 'batch' || target.generation === 'auto') {
      if (!target.workspace?.trim() || !target.workflow?.trim()) throw new RoboflowError('invalid-input', 'Set the workspace and the workflow id');
      if (target.versionId && target.generation === 'batch')
        throw new RoboflowError('invalid-input', "Batch Processing runs the workflow's current version: clear the workflow version, or use the /videoinfer generation");
      // Batch Processing cannot skip sinks: a dry run through it would send the
      // workflow's emails and webhooks while the user is testing.
      if (target.disableSinks && target.generation === 'batch') throw new RoboflowError('invalid-input', DRY_RUN_REFUSED);
      if (target.versionId) fallback = { from: 'batch', reason: 'a pinned workflow version (Batch Processing runs the current one)' };
      else if (target.disableSinks) fallback = { from: 'batch', reason: DRY_RUN_REASON };
      else {
        try {
          options.onGeneration?.('batch');
          return await this.startBatch(input, target, options);
        } catch (error) {
          if (target.generation !== 'auto' || !batchUnavailable(error)) throw error;
          fallback = { from: 'batch', reason: (error as RoboflowError).message };
          this.logger.info(`Batch Processing unavailable (${fallback.reason}); using /videoinfer`);
        }
      }
      options.onGeneration?.('workflow', fallback);
      target = { ...target, generation: 'workflow' };
    } else options.onGeneration?.(target.generation);
    const inputUrl = input.kind === 'url' ? input.url : await this.upload(input, target.generation, { fileName: options.fileName, onProgress: options.onUploadProgress, signal });
    const handle = await this.submit(inputUrl, target, fps, signal);
    return fallback ? { ...handle, fallback } : handle;
  }

  private async startBatch(input: VideoInput, target: WorkflowJobFields, options: StartOptions): Promise<JobHandle> {
    const staged = await this.batch.stage(input, target.workspace, { fileName: options.fileName, onProgress: options.onUploadProgress, signal: options.signal });
    const submittedAt = new Date().toISOString();
    await this.batch.submit(staged, target, options.fps, options.signal);
    return {
      generation: 'batch',
      jobId: staged.jobId,
      apiUrl: this.connection.apiUrl,
      submittedAt,
      workspace: staged.workspace,
      workflow: target.workflow.trim(),
      batchId: staged.batchId,
      fps: options.fps,
    };
  }

  /** Upload (unless a URL is given), submit, wait, fetch results. */
  async run(input: VideoInput, target: JobTarget, options: RunOptions): Promise<{ handle: JobHandle; results: VideoJobResults }> {
    const handle = await this.start(input, target, options);
    options.onSubmitted?.(handle);
    const status = await this.wait(handle, options);
    return { handle, results: await this.results(status, options.signal) };
  }

  async close(): Promise<void> {
    if (this.ownsHttp) await this.http.close();
  }
}
