import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Behaviour } from './behaviour';
import type { FrameReader, StreamInfo } from './media/frame-reader';
import { sampleVideo } from './media/sampler';
import { findBuiltin } from './workflows/builtins';
import { compileWorkflow, isImageValue } from './workflows/engine';

/**
 * The batch video jobs of the local server, both API generations (docs/protocol.md §3):
 * `model` jobs (documented API: infer_fps, models, numeric status, results file) and
 * `workflow` jobs (workspace + workflow, string status). One job runs at a time; each
 * decodes the video at the requested rate and runs a built-in workflow on every frame.
 */

export type JobGeneration = 'model' | 'workflow';
export type JobState = 'queued' | 'processing' | 'complete' | 'failed';

export interface JobSpec {
  generation: JobGeneration;
  inputUrl: string;
  fps: number;
  /** Model jobs: the model ids (each names a built-in workflow). Workflow jobs: one workflow id. */
  targets: string[];
  workspace?: string;
  /** Workflow jobs: the request's `disable_sinks` (the built-in workflows have no sinks; logged, so a test can see a dry run arrive). */
  disableSinks?: boolean;
  /** Workflow jobs: the request's `workflow_version_id` (logged, as above). */
  versionId?: string;
}

export interface Job extends JobSpec {
  id: string;
  state: JobState;
  progress: number;
  createdAt: number;
  lastPollAt: number;
  error?: string;
  resultsPath?: string;
  results?: Record<string, unknown>;
}

export class JobRunner {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private running = false;
  private closed = false;
  private readonly readers = new Set<FrameReader>();

  constructor(
    private readonly dataDir: string,
    private readonly behaviour: () => Behaviour,
    private readonly resolveInput: (url: string) => string | undefined,
    private readonly log: (line: string) => void,
  ) {}

  submit(spec: JobSpec): Job {
    const job: Job = { ...spec, id: randomUUID(), state: 'queued', progress: 0, createdAt: Date.now(), lastPollAt: 0 };
    this.jobs.set(job.id, job);
    this.queue.push(job);
    const switches = [spec.versionId ? `version ${spec.versionId}` : '', spec.disableSinks ? 'sinks disabled' : ''].filter(Boolean);
    this.log(`video job ${job.id} queued (${spec.generation}: ${spec.targets.join(', ')} at ${spec.fps} fps${switches.map((text) => `, ${text}`).join('')})`);
    void this.next();
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
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
      job.state = 'processing';
      await this.process(job);
      const wait = this.behaviour().jobDelayMs - (Date.now() - started);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      job.state = 'complete';
      job.progress = 1;
      this.log(`video job ${job.id} complete`);
    } catch (error) {
      job.state = 'failed';
      job.error = (error as Error).message;
      this.log(`video job ${job.id} failed: ${job.error}`);
    } finally {
      this.running = false;
      void this.next();
    }
  }

  private async localInput(job: Job): Promise<{ path: string; temporary: boolean }> {
    const local = this.resolveInput(job.inputUrl);
    if (local) return { path: local, temporary: false };
    if (!/^https?:\/\//i.test(job.inputUrl)) throw new Error(`input URL must be http(s): ${job.inputUrl}`);
    const path = join(this.dataDir, `job-${job.id}.input`);
    const response = await fetch(job.inputUrl);
    if (!response.ok || !response.body) throw new Error(`could not download the input video (${response.status})`);
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(path));
    return { path, temporary: true };
  }

  private async process(job: Job): Promise<void> {
    const runs = job.targets.map((target) => {
      const builtin = findBuiltin(target);
      if (!builtin) throw new Error(`unknown ${job.generation === 'model' ? 'model' : 'workflow'} "${target}"`);
      return { target, run: compileWorkflow(builtin.specification, 'image').createRun({}) };
    });
    const input = await this.localInput(job);
    const frameOffsets: number[] = [];
    const timeOffsets: number[] = [];
    const columns = new Map<string, unknown[]>();
    try {
      let info: StreamInfo | undefined;
      await sampleVideo(
        input.path,
        ({ offset, time, frame }, streamInfo) => {
          info = streamInfo;
          frameOffsets.push(offset);
          timeOffsets.push(time);
          for (const { target, run } of runs) {
            const outputs = run.process(frame, { frame_id: offset });
            if (job.generation === 'model') {
              const predictions = outputs.predictions as { image: unknown; predictions: unknown[] } | undefined;
              push(columns, target, predictions ? { time, image: predictions.image, predictions: predictions.predictions } : null);
            } else {
              for (const [name, value] of Object.entries(outputs)) if (!isImageValue(value)) push(columns, name, value);
            }
          }
          const expected = (info?.durationSeconds ?? 0) * job.fps;
          job.progress = expected > 0 ? Math.min(0.99, frameOffsets.length / expected) : 0.5;
        },
        {
          fps: job.fps,
          readers: this.readers,
          check: (streamInfo) => {
            if (streamInfo.sourceFps > 0 && job.fps > Math.ceil(streamInfo.sourceFps)) throw new Error(`infer_fps ${job.fps} is higher than the video's ${streamInfo.sourceFps} fps`);
          },
        },
      );
      if (frameOffsets.length === 0) throw new Error('the video has no frames');
    } finally {
      if (input.temporary) await rm(input.path, { force: true });
    }
    const results: Record<string, unknown> = { frame_offsets: frameOffsets, time_offsets: timeOffsets, ...Object.fromEntries(columns) };
    job.results = results;
    job.resultsPath = join(this.dataDir, `job-${job.id}.results.json`);
    await writeFile(job.resultsPath, JSON.stringify(results));
  }
}

function push(columns: Map<string, unknown[]>, name: string, value: unknown): void {
  const column = columns.get(name) ?? [];
  column.push(value);
  columns.set(name, column);
}
