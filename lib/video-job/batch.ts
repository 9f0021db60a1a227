import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import type { RoboflowConnection } from '../config';
import { RoboflowError, isRoboflowError } from '../errors';
import type { HttpClient } from '../http/client';
import type { Logger } from '../logger';
import { redact } from '../redact';
import { checkVideoFile, type UploadProgress } from '../stream/uploader';
import { aggregationFormatOf, parseAggregation, type AggregationFormat } from './aggregation';
import type { VideoJobFrame, VideoJobResults } from './results';

/**
 * Workflow jobs through Roboflow's Batch Processing API (docs/protocol.md §4), as the
 * inference CLI drives it: the video goes to a Data Staging batch through a signed URL,
 * a `simple-video-processing-v1` job runs the workflow over it, and the processing
 * stage's output batch holds the results as CSV or JSONL, fetched through download URLs.
 */

export interface BatchJobOptions {
  workspace: string;
  workflow: string;
  /** The workflow's parameters (`workflowParameters`). */
  parameters?: Record<string, unknown>;
  /** The workflow's image input, when it is not `image`. */
  imageInput?: string;
  /** How the service writes the results. Default `jsonl`. */
  aggregationFormat?: AggregationFormat;
  /** The service POSTs job notifications here (`notificationsURL`). */
  notificationsUrl?: string;
  machineType?: 'cpu' | 'gpu';
  workersPerMachine?: number;
  /** Cap on the job's machine time (`processingTimeoutSeconds`). */
  maxRuntimeSeconds?: number;
  /** A name shown in Roboflow's dashboard. */
  jobName?: string;
}

export type StageInput = { kind: 'file'; path: string } | { kind: 'buffer'; data: Uint8Array; fileName?: string } | { kind: 'url'; url: string };

/** A video staged for a job: the staging batch and the job id chosen for it. */
export interface StagedVideo {
  workspace: string;
  batchId: string;
  jobId: string;
  fileName: string;
}

export interface BatchStatus {
  job: Record<string, unknown>;
  /** Output batches of the stage whose results are read, once the job has finished. */
  outputBatches?: string[];
}

/** Job ids: lowercase letters, digits, `-` and `_`, at most 20 characters (the service's rule). */
export const JOB_ID_PATTERN = /^[a-z0-9_-]{1,20}$/;
/** Staging batch ids: the same alphabet, at most 64 characters. */
export const BATCH_ID_PATTERN = /^[a-z0-9_-]{1,64}$/;

/** A fresh job id the service accepts, e.g. `job-k3x9c0b1m2q7`; the staging batch is `<job id>-input`. */
export function newJobId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `job-${[...randomBytes(12)].map((byte) => alphabet[byte % alphabet.length]).join('')}`;
}

/** The service's answer when the workspace's plan has no Batch Processing (402). */
const FEATURE_GATE = /not enabled|upgrade your plan|contact sales/i;

/**
 * True when an answer to the first Batch Processing call means "this workspace or
 * host has no Batch Processing", so `auto` may use `/videoinfer` instead: 402 with the
 * feature-gate message (the plan lacks it), or 404 / 405 / 501 (the API host has no
 * such routes: a self-hosted or older stand-in). Anything else (a bad key, missing
 * scope, out of credits, rate limits, outages) is an error of its own.
 */
export function batchUnavailable(error: unknown): boolean {
  if (!isRoboflowError(error) || error.status === undefined) return false;
  if (error.status === 402) return FEATURE_GATE.test(`${error.detail ?? ''} ${error.message}`);
  return error.status === 404 || error.status === 405 || error.status === 501;
}

function segment(value: string, what: string): string {
  const text = value.trim();
  if (!text || text.includes('/')) throw new RoboflowError('invalid-input', `Set the ${what} (without slashes)`);
  return encodeURIComponent(text);
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

const text = (value: unknown): string | undefined => (typeof value === 'string' && value ? value : undefined);

export class BatchProcessingClient {
  constructor(
    private readonly connection: RoboflowConnection,
    private readonly http: HttpClient,
    private readonly logger: Logger,
  ) {}

  private stagingUrl(workspace: string, path: string): string {
    return `${this.connection.apiUrl}/data-staging/v1/external/${segment(workspace, 'workspace')}${path}`;
  }

  private jobsUrl(workspace: string, path: string): string {
    return `${this.connection.apiUrl}/batch-processing/v1/external/${segment(workspace, 'workspace')}/jobs${path}`;
  }

  /**
   * Uploads one video to a new staging batch: asks for a signed upload URL (the call
   * that tells whether the workspace has Batch Processing, before any video byte
   * moves), then PUTs the file with the extension headers the answer lists. A URL
   * input is downloaded to a temporary file first (the service only reads staged data).
   */
  async stage(input: StageInput, workspace: string, options: { jobId?: string; fileName?: string; onProgress?: (progress: UploadProgress) => void; signal?: AbortSignal } = {}): Promise<StagedVideo> {
    const jobId = options.jobId ?? newJobId();
    if (!JOB_ID_PATTERN.test(jobId)) throw new RoboflowError('invalid-input', `Invalid job id "${jobId}": lowercase letters, digits, - and _, at most 20 characters`);
    const batchId = `${jobId}-input`;
    let fileName = options.fileName ?? (input.kind === 'file' ? basename(input.path) : input.kind === 'buffer' ? (input.fileName ?? 'video.mp4') : 'video.mp4');
    if (input.kind === 'url' && !options.fileName) {
      const last = new URL(input.url).pathname.split('/').pop();
      if (last && /\.[a-z0-9]{2,4}$/i.test(last)) fileName = decodeURIComponent(last);
    }
    if (input.kind === 'buffer' && (!(input.data instanceof Uint8Array) || input.data.byteLength === 0)) throw new RoboflowError('invalid-input', 'The video buffer is empty');
    const size = input.kind === 'file' ? await checkVideoFile(input.path) : undefined;

    const response = await this.http.request<Record<string, unknown>>({
      method: 'POST',
      url: this.stagingUrl(workspace, `/batches/${batchId}/upload/video`),
      query: { fileName, displayName: batchId },
      auth: 'query',
      operation: 'batch-job',
      retry: { attempts: 3 },
      signal: options.signal,
    });
    const details = response.body?.signedURLDetails as Record<string, unknown> | undefined;
    const uploadUrl = text(details?.uploadURL);
    if (!uploadUrl) throw new RoboflowError('protocol', 'The staging upload request returned no upload URL (signedURLDetails.uploadURL)');
    const extensionHeaders: Record<string, string> = {};
    const listed = details?.extensionHeaders;
    if (listed && typeof listed === 'object') {
      for (const [name, value] of Object.entries(listed as Record<string, unknown>)) if (typeof value === 'string') extensionHeaders[name] = value;
    }

    let workDir: string | undefined;
    try {
      let path: string | undefined;
      let length = size;
      if (input.kind === 'url') {
        workDir = await mkdtemp(join(tmpdir(), 'roboflow-stage-'));
        path = join(workDir, 'video');
        this.logger.info(`Downloading ${redact(input.url)} to stage it`);
        length = await this.http.download(input.url, path, { operation: 'video-upload', signal: options.signal, timeoutMs: 120_000 });
        if (length === 0) throw new RoboflowError('invalid-input', 'The video URL gave an empty file');
      } else if (input.kind === 'file') path = input.path;
      const total = length ?? (input as { data: Uint8Array }).data.byteLength;
      const body = (): Readable | Uint8Array => {
        if (path) return createReadStream(path, { highWaterMark: 256 * 1024 }).pipe(counting(total, options.onProgress));
        options.onProgress?.({ sentBytes: total, totalBytes: total, percent: 100 });
        return (input as { data: Uint8Array }).data;
      };
      this.logger.info(`Staging ${fileName} (${total} bytes) in batch ${batchId}`);
      await this.http.request({
        method: 'PUT',
        url: uploadUrl,
        body,
        headers: { ...extensionHeaders, 'content-length': String(total) },
        operation: 'video-upload',
        timeoutMs: 120_000,
        responseType: 'none',
        signal: options.signal,
      });
    } finally {
      if (workDir) await rm(workDir, { recursive: true, force: true });
    }
    return { workspace: workspace.trim(), batchId, jobId, fileName };
  }

  /** Starts the job over a staged video. The job id is the client's: a retry after a lost answer starts nothing twice. */
  async submit(staged: StagedVideo, job: BatchJobOptions, fps: number | undefined, signal?: AbortSignal): Promise<void> {
    const format = job.aggregationFormat ?? 'jsonl';
    await this.http.request({
      method: 'POST',
      url: this.jobsUrl(staged.workspace, `/${staged.jobId}`),
      query: { name: job.jobName },
      auth: 'query',
      json: {
        type: 'simple-video-processing-v1',
        jobInput: { type: 'staging-batch-input-v1', batchId: staged.batchId },
        computeConfiguration: {
          type: 'compute-configuration-v2',
          ...(job.machineType ? { machineType: job.machineType } : {}),
          ...(job.workersPerMachine ? { workersPerMachine: job.workersPerMachine } : {}),
        },
        ...(job.maxRuntimeSeconds ? { processingTimeoutSeconds: job.maxRuntimeSeconds } : {}),
        processingSpecification: {
          type: 'workflows-processing-specification-v1',
          workspace: staged.workspace,
          workflowId: job.workflow,
          ...(job.parameters && Object.keys(job.parameters).length > 0 ? { workflowParameters: job.parameters } : {}),
          ...(job.imageInput && job.imageInput !== 'image' ? { imageInputName: job.imageInput } : {}),
          aggregationFormat: format,
          ...(fps ? { maxVideoFPS: fps } : {}),
        },
        ...(job.notificationsUrl ? { notificationsURL: job.notificationsUrl } : {}),
      },
      operation: 'batch-job',
      retry: { attempts: 3 },
      responseType: 'none',
      signal,
    });
  }

  /** The job's metadata; once it finished well, the output batches of its processing stage too. */
  async status(workspace: string, jobId: string, signal?: AbortSignal): Promise<BatchStatus> {
    const response = await this.http.request<{ job?: unknown }>({ method: 'GET', url: this.jobsUrl(workspace, `/${encodeURIComponent(jobId)}`), auth: 'query', operation: 'batch-job', signal });
    const job = response.body?.job;
    if (!job || typeof job !== 'object') throw new RoboflowError('protocol', 'The job status answer holds no job');
    const record = job as Record<string, unknown>;
    if (record.isTerminal !== true || record.error === true) return { job: record };
    return { job: record, outputBatches: await this.resultBatches(workspace, jobId, signal) };
  }

  /** The output batches holding the structured results: the processing stage's (the export stage holds archives). */
  private async resultBatches(workspace: string, jobId: string, signal?: AbortSignal): Promise<string[]> {
    const response = await this.http.request<{ stages?: unknown }>({
      method: 'GET',
      url: this.jobsUrl(workspace, `/${encodeURIComponent(jobId)}/stages`),
      auth: 'query',
      operation: 'batch-job',
      signal,
    });
    const stages = Array.isArray(response.body?.stages) ? (response.body.stages as Array<Record<string, unknown>>) : [];
    const batchesOf = (stage: Record<string, unknown>): string[] => (Array.isArray(stage.outputBatches) ? stage.outputBatches.filter((id): id is string => typeof id === 'string') : []);
    const processing = stages.filter((stage) => /process/i.test(String(stage.processingStageName ?? '')));
    const chosen = (processing.length > 0 ? processing : stages).flatMap(batchesOf);
    if (chosen.length === 0) throw new RoboflowError('protocol', `Job ${jobId} finished without an output batch`);
    return chosen;
  }

  /** Every file of an output batch (all parts of a multipart batch), following page tokens. */
  private async listFiles(workspace: string, batchId: string, signal?: AbortSignal): Promise<Array<Record<string, unknown>>> {
    const batchPath = `/batches/${encodeURIComponent(batchId)}`;
    const metadata = await this.http.request<{ batch?: Record<string, unknown> }>({ method: 'GET', url: this.stagingUrl(workspace, batchPath), auth: 'query', operation: 'batch-job', signal });
    let parts: Array<string | undefined> = [undefined];
    if (metadata.body?.batch?.batchType === 'multipart-batch') {
      const listed = await this.http.request<{ batchParts?: unknown }>({ method: 'GET', url: this.stagingUrl(workspace, `${batchPath}/parts`), auth: 'query', operation: 'batch-job', signal });
      parts = (Array.isArray(listed.body?.batchParts) ? (listed.body.batchParts as Array<Record<string, unknown>>) : []).map((part) => text(part.partName)).filter((name): name is string => !!name);
    }
    const files: Array<Record<string, unknown>> = [];
    for (const partName of parts) {
      let nextPageToken: string | undefined;
      // Bounded: a service that kept answering tokens must not loop for ever.
      for (let page = 0; page < 1_000; page++) {
        const response = await this.http.request<{ filesMetadata?: unknown; nextPageToken?: unknown }>({
          method: 'GET',
          url: this.stagingUrl(workspace, `${batchPath}/list`),
          query: { partName, nextPageToken },
          auth: 'query',
          operation: 'batch-job',
          signal,
        });
        if (Array.isArray(response.body?.filesMetadata)) files.push(...(response.body.filesMetadata as Array<Record<string, unknown>>));
        nextPageToken = text(response.body?.nextPageToken);
        if (!nextPageToken) break;
      }
    }
    return files;
  }

  /** Downloads and parses every CSV or JSONL results file of the output batches, in listing order. */
  async results(workspace: string, outputBatches: string[], fps: number | undefined, signal?: AbortSignal): Promise<VideoJobResults> {
    const frames: VideoJobFrame[] = [];
    const raw: Array<{ batchId: string; fileName: string; format: AggregationFormat }> = [];
    for (const batchId of outputBatches) {
      for (const file of await this.listFiles(workspace, batchId, signal)) {
        const fileName = text(file.fileName) ?? '';
        const format = aggregationFormatOf(fileName, text(file.contentType));
        const url = text(file.downloadURL);
        if (!format || !url) continue;
        // Download URLs are signed: no key goes with them.
        const response = await this.http.request<string>({ method: 'GET', url, auth: 'none', operation: 'batch-job', responseType: 'text', timeoutMs: 120_000, signal });
        frames.push(...parseAggregation(response.body, format, { fps }));
        raw.push({ batchId, fileName, format });
      }
    }
    if (raw.length === 0) throw new RoboflowError('protocol', `The finished job's output batches (${outputBatches.join(', ')}) hold no CSV or JSONL results`);
    return { frames, raw: { files: raw } };
  }
}
