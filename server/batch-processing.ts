import { randomUUID } from 'node:crypto';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join, parse } from 'node:path';
import type { Behaviour } from './behaviour';
import type { FrameReader } from './media/frame-reader';
import { sampleVideo } from './media/sampler';
import { writeTar } from './media/tar';
import { findBuiltin } from './workflows/builtins';
import { compileWorkflow, isImageValue } from './workflows/engine';

/**
 * The local server's Batch Processing service (docs/protocol.md §4): Data Staging
 * batches (inputs uploaded through signed URLs; outputs listed with download URLs) and
 * `simple-video-processing-v1` jobs that run a built-in workflow over each staged video
 * in two stages, `processing` (CSV or JSONL results, one row per analysed frame) and
 * `export` (a tar of those results), as Roboflow's service lays them out.
 */

export interface StagedFile {
  fileName: string;
  path: string;
  contentType: string;
  partName?: string;
  /** Unguessable: the download URL carries it instead of a key. */
  token: string;
}

export interface StagingBatch {
  batchId: string;
  workspace: string;
  displayName: string;
  batchType: 'simple-batch' | 'multipart-batch';
  batchContentType: 'videos' | 'images' | 'structured-data' | 'archives' | 'mixed';
  parts: Array<{ partName: string; partType: string; contentType: string }>;
  files: StagedFile[];
  createdDate: string;
  expiryDate: string;
}

export interface JobStage {
  processingStageId: string;
  processingStageName: string;
  tasksNumber: number;
  outputBatches: string[];
  startTimestamp: string;
  notification: Record<string, unknown>;
  statusType: 'info' | 'success' | 'error';
  lastEventTimestamp: string;
}

export interface JobDefinition {
  type: 'simple-video-processing-v1';
  jobInput: { type: 'staging-batch-input-v1'; batchId: string; partName?: string };
  processingSpecification: {
    type: 'workflows-processing-specification-v1';
    workspace: string;
    workflowId: string;
    workflowParameters?: Record<string, unknown>;
    imageInputName?: string;
    aggregationFormat?: 'csv' | 'jsonl';
    maxVideoFPS?: number;
  };
  notificationsURL?: string;
  [other: string]: unknown;
}

export interface BatchJob {
  jobId: string;
  workspace: string;
  name: string;
  definition: JobDefinition;
  /** The definition as first submitted, for the idempotency check (same id, same definition: fine; different: 409). */
  canonical: string;
  currentStage: string | null;
  plannedStages: string[];
  error: boolean;
  isTerminal: boolean;
  lastNotification: Record<string, unknown> | null;
  createdAt: string;
  lastUpdate: string;
  stages: JobStage[];
  lastPollAt: number;
}

/** What Roboflow writes in place of an image output in structured results. */
const DEDUCTED_IMAGE = '<deducted_image>';
/** Staged data lives 7 days on the service. */
const EXPIRY_MS = 7 * 24 * 3600 * 1000;

const now = (): string => new Date().toISOString();

/** A CSV cell as pandas writes one: JSON for lists and objects, Python's True/False, empty for None. */
function csvCell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = '';
  else if (typeof value === 'boolean') text = value ? 'True' : 'False';
  else if (typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function toCsv(rows: Array<Record<string, unknown>>): string {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  const lines = [columns.map(csvCell).join(',')];
  for (const row of rows) lines.push(columns.map((column) => csvCell(row[column])).join(','));
  return lines.join('\n') + '\n';
}

export class BatchProcessingService {
  readonly batches = new Map<string, StagingBatch>();
  readonly jobs = new Map<string, BatchJob>();
  private readonly files = new Map<string, StagedFile>();
  private readonly queue: BatchJob[] = [];
  private readonly readers = new Set<FrameReader>();
  private running = false;
  private closed = false;

  constructor(
    private readonly dataDir: string,
    private readonly behaviour: () => Behaviour,
    private readonly log: (line: string) => void,
  ) {}

  private key(workspace: string, id: string): string {
    return `${workspace}\n${id}`;
  }

  batch(workspace: string, batchId: string): StagingBatch | undefined {
    return this.batches.get(this.key(workspace, batchId));
  }

  job(workspace: string, jobId: string): BatchJob | undefined {
    return this.jobs.get(this.key(workspace, jobId));
  }

  file(token: string): StagedFile | undefined {
    return this.files.get(token);
  }

  /** The staging batch a video upload goes to (created on first use, as the service does). */
  ensureInputBatch(workspace: string, batchId: string, displayName: string): StagingBatch {
    const existing = this.batch(workspace, batchId);
    if (existing) return existing;
    const created = new Date();
    const batch: StagingBatch = {
      batchId,
      workspace,
      displayName,
      batchType: 'simple-batch',
      batchContentType: 'videos',
      parts: [],
      files: [],
      createdDate: created.toISOString(),
      expiryDate: new Date(created.getTime() + EXPIRY_MS).toISOString(),
    };
    this.batches.set(this.key(workspace, batchId), batch);
    return batch;
  }

  addFile(batch: StagingBatch, file: Omit<StagedFile, 'token'>): StagedFile {
    const staged = { ...file, token: randomUUID() };
    batch.files = batch.files.filter((existing) => !(existing.fileName === file.fileName && existing.partName === file.partName));
    batch.files.push(staged);
    this.files.set(staged.token, staged);
    return staged;
  }

  submit(workspace: string, jobId: string, name: string, definition: JobDefinition): BatchJob {
    const stamp = now();
    const job: BatchJob = {
      jobId,
      workspace,
      name,
      definition,
      canonical: JSON.stringify(definition),
      currentStage: null,
      plannedStages: ['processing', 'export'],
      error: false,
      isTerminal: false,
      lastNotification: { type: 'job-queued', message: 'Job queued' },
      createdAt: stamp,
      lastUpdate: stamp,
      stages: [],
      lastPollAt: 0,
    };
    this.jobs.set(this.key(workspace, jobId), job);
    this.queue.push(job);
    this.log(`batch job ${jobId} queued (${definition.processingSpecification.workflowId})`);
    void this.next();
    return job;
  }

  close(): void {
    this.closed = true;
    for (const reader of this.readers) reader.stop();
  }

  private async next(): Promise<void> {
    if (this.running || this.closed) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = true;
    const started = Date.now();
    try {
      await this.process(job);
      const wait = this.behaviour().jobDelayMs - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await this.exportStage(job);
      this.finish(job, false, { type: 'job-completed', message: 'Job completed', resultsBatches: job.stages.flatMap((stage) => stage.outputBatches) });
    } catch (error) {
      const stage = job.stages[job.stages.length - 1];
      if (stage) {
        stage.statusType = 'error';
        stage.notification = { message: (error as Error).message };
        stage.lastEventTimestamp = now();
      }
      this.finish(job, true, { type: 'job-failed', message: `Job failed: ${(error as Error).message}` });
    } finally {
      this.running = false;
      void this.next();
    }
  }

  private startStage(job: BatchJob, name: string, outputBatch: string): JobStage {
    const stamp = now();
    const stage: JobStage = {
      processingStageId: `${job.jobId}-${name}`,
      processingStageName: name,
      tasksNumber: 1,
      outputBatches: [outputBatch],
      startTimestamp: stamp,
      notification: { message: `${name} started` },
      statusType: 'info',
      lastEventTimestamp: stamp,
    };
    job.stages.push(stage);
    job.currentStage = name;
    job.lastUpdate = stamp;
    job.lastNotification = { type: 'stage-started', message: `Stage ${name} started` };
    return stage;
  }

  private outputBatch(job: BatchJob, batchId: string, partName: string, contentType: string, batchContentType: StagingBatch['batchContentType']): StagingBatch {
    const created = new Date();
    const batch: StagingBatch = {
      batchId,
      workspace: job.workspace,
      displayName: batchId,
      batchType: 'multipart-batch',
      batchContentType,
      parts: [{ partName, partType: 'simple-part', contentType }],
      files: [],
      createdDate: created.toISOString(),
      expiryDate: new Date(created.getTime() + EXPIRY_MS).toISOString(),
    };
    this.batches.set(this.key(job.workspace, batchId), batch);
    return batch;
  }

  /** Runs the workflow over each staged video; one results file per video, one row per analysed frame. */
  private async process(job: BatchJob): Promise<void> {
    const spec = job.definition.processingSpecification;
    const format = spec.aggregationFormat ?? 'jsonl';
    const outputId = `${job.jobId}-processing`;
    const stage = this.startStage(job, 'processing', outputId);
    const output = this.outputBatch(job, outputId, 'results', format === 'csv' ? 'text/csv' : 'application/jsonl', 'structured-data');
    const input = this.batch(job.workspace, job.definition.jobInput.batchId);
    if (!input || input.files.length === 0) throw new Error(`input batch ${job.definition.jobInput.batchId} holds no video`);
    const builtin = findBuiltin(spec.workflowId);
    if (!builtin) throw new Error(`workflow ${spec.workflowId} not found`);
    const imageInput = spec.imageInputName ?? 'image';
    const dir = join(this.dataDir, 'batch-results', job.jobId);
    await mkdir(dir, { recursive: true });
    stage.tasksNumber = input.files.length;
    for (const video of input.files) {
      const run = compileWorkflow(builtin.specification, imageInput).createRun(spec.workflowParameters ?? {});
      const rows: Array<Record<string, unknown>> = [];
      await sampleVideo(
        video.path,
        ({ offset, time, frame }, info) => {
          const outputs = run.process(frame, {
            video_identifier: video.fileName,
            frame_number: offset + 1,
            frame_timestamp: now(),
            fps: info?.sourceFps ?? null,
            measured_fps: null,
            comes_from_video_file: true,
          });
          const row: Record<string, unknown> = {};
          for (const [name, value] of Object.entries(outputs)) row[name] = isImageValue(value) ? DEDUCTED_IMAGE : value;
          row.frame_offset = offset;
          row.time_offset = time;
          rows.push(row);
          job.lastNotification = { type: 'processing-progress', message: `Processing ${video.fileName}: ${rows.length} frames analysed` };
          job.lastUpdate = now();
        },
        { fps: spec.maxVideoFPS, readers: this.readers },
      );
      if (rows.length === 0) throw new Error(`no frame of ${video.fileName} could be read`);
      const fileName = `${parse(video.fileName).name}.${format}`;
      const path = join(dir, fileName);
      await writeFile(path, format === 'csv' ? toCsv(rows) : rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
      this.addFile(output, { fileName, path, contentType: format === 'csv' ? 'text/csv' : 'application/jsonl', partName: 'results' });
      this.log(`batch job ${job.jobId}: ${video.fileName} -> ${rows.length} rows (${format})`);
    }
    stage.statusType = 'success';
    stage.notification = { message: 'processing finished' };
    stage.lastEventTimestamp = now();
  }

  /** Packs the processing results into an archive, as the service's export stage does. */
  private async exportStage(job: BatchJob): Promise<void> {
    const outputId = `${job.jobId}-export`;
    const stage = this.startStage(job, 'export', outputId);
    const output = this.outputBatch(job, outputId, 'archives', 'application/x-tar', 'archives');
    const results = this.batch(job.workspace, `${job.jobId}-processing`)?.files ?? [];
    const path = join(this.dataDir, 'batch-results', job.jobId, `${job.jobId}.tar`);
    await writeTar(
      path,
      results.map((file) => file.path),
    );
    await stat(path);
    this.addFile(output, { fileName: `${job.jobId}.tar`, path, contentType: 'application/x-tar', partName: 'archives' });
    stage.statusType = 'success';
    stage.notification = { message: 'export finished' };
    stage.lastEventTimestamp = now();
  }

  private finish(job: BatchJob, error: boolean, notification: Record<string, unknown>): void {
    job.isTerminal = true;
    job.error = error;
    job.lastNotification = notification;
    job.lastUpdate = now();
    this.log(`batch job ${job.jobId} ${error ? `failed: ${String(notification.message)}` : 'complete'}`);
    const url = job.definition.notificationsURL;
    if (url) void this.notify(job, url, error);
  }

  /** The job notification the service POSTs to `notificationsURL` (one attempt here). */
  private async notify(job: BatchJob, url: string, error: boolean): Promise<void> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer rf_${job.workspace}` },
        body: JSON.stringify({ type: 'roboflow-batch-job-notification-v1', event_id: randomUUID(), job_id: job.jobId, job_state: error ? 'fail' : 'success', delivery_attempt: 1 }),
        signal: AbortSignal.timeout(10_000),
      });
      await response.body?.cancel();
    } catch (caught) {
      this.log(`batch job ${job.jobId}: notification to ${url} failed: ${(caught as Error).message}`);
    }
  }
}
