import { join } from 'node:path';
import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import { JsonFile, RoboflowError, VideoJobClient, fields, jobTargetFor, readJobHandle, toRoboflowError, type JobGenerationChoice, type JobHandle, type JobTarget, type VideoInput } from '../../../lib';
import { configNode } from '../common/config';
import type { Translate } from '../common/i18n';
import { asBoolean, evaluate } from '../common/properties';
import { reportError, engineLogger } from '../common/report';
import { showStatus } from '../common/status';
import { nodeStorageDir } from '../common/storage';

export interface VideoJobProperties {
  name: string;
  roboflow: string;
  /** `workflow` (a workspace workflow) or `model` (a trained model, "project/version"). */
  target: 'workflow' | 'model';
  workspace: string;
  workspaceType: string;
  workflow: string;
  workflowType: string;
  model: string;
  fps: number | string;
  /** Seconds between status polls; empty = 60 on Roboflow's hosts (they rate-limit), 2 elsewhere. */
  pollInterval: number | string;
  /** Pin a workflow version (empty: the current one). */
  workflowVersion: string;
  /** Skip the workflow's sinks (email, webhooks, ...) while testing a flow. */
  disableSinks: boolean | string;
  /** How a workflow job runs: `auto` (Batch Processing, else /videoinfer), `batch`, or `videoinfer`. */
  jobApi: 'auto' | 'batch' | 'videoinfer';
  /** Batch Processing POSTs a notification here when a job ends (empty: none). */
  notificationsUrl: string;
  version: number;
}

/** A job being waited for, as kept on disk so it survives a restart. */
interface PendingJob {
  handle: JobHandle;
  /** The input message without its payload (the results replace it). */
  msg: NodeMessage;
}

const MAX_STORED_MESSAGE = 64 * 1024;

/** Reads `jobs.json` back: exactly what `handle` writes, or an Error saying what is not. */
export function readPendingJobs(value: unknown): PendingJob[] {
  return fields.array(value, 'the file').map((item, index) => {
    const what = `job ${index + 1}`;
    const entry = fields.object(item, what);
    return {
      handle: readJobHandle(entry.handle, `${what}: handle`),
      msg: fields.object(entry.msg, `${what}: msg`),
    };
  });
}

/** The parts of a message worth keeping for the results message: small, JSON-safe, no payload. */
function storable(msg: NodeMessage): NodeMessage {
  const rest: NodeMessage = {};
  for (const [key, value] of Object.entries(msg)) {
    if (key === 'payload' || key === 'req' || key === 'res' || key === '_msgid' || Buffer.isBuffer(value)) continue;
    rest[key] = value;
  }
  try {
    const text = JSON.stringify(rest);
    return text.length <= MAX_STORED_MESSAGE ? (JSON.parse(text) as NodeMessage) : { topic: msg.topic };
  } catch {
    return { topic: msg.topic };
  }
}

/**
 * Maps a Roboflow Video Job node onto the engine: input (path, Buffer or URL) onto an
 * upload and a job, the job's progress onto the status, and its results onto one
 * message. Pending jobs are kept in a file in the user directory, so polling resumes
 * after a restart and the results are delivered once.
 */
export class VideoJobController {
  private readonly store: JsonFile<PendingJob[]>;
  private pending: PendingJob[] = [];
  private readonly abort = new AbortController();
  private readonly running = new Set<string>();

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    private readonly config: VideoJobProperties,
    private readonly t: Translate,
  ) {
    this.store = new JsonFile(join(nodeStorageDir(RED, 'video-jobs', node.id), 'jobs.json'), {
      validate: readPendingJobs,
      logger: engineLogger(node),
    });
  }

  /** Resumes the jobs an earlier run was waiting for (a file that is not ours is set aside, with a warning). */
  async init(): Promise<void> {
    try {
      this.pending = (await this.store.load()) ?? [];
      if (this.pending.length === 0) return;
      this.node.log(this.t('log.resuming', { count: this.pending.length }));
      for (const job of this.pending) void this.follow(job, undefined).catch((error: unknown) => reportError(this.node, error));
    } catch (error) {
      reportError(this.node, error);
    }
  }

  async handle(msg: NodeMessageInFlow): Promise<void> {
    const client = this.client();
    const input = this.input(msg);
    const target = await this.target(msg);
    const fps = Number(msg.fps ?? this.config.fps ?? 5);
    // Checked before a possibly long upload.
    if (!Number.isFinite(fps) || fps < 1 || fps > 120) throw new RoboflowError('invalid-input', `fps must be between 1 and 120 (got ${String(msg.fps ?? this.config.fps)})`);
    showStatus(this.node, 'busy', input.kind === 'url' ? this.t('status.submitting') : this.t('status.uploading', { percent: 0 }));
    let via = '';
    const handle = await client.start(input, target, {
      fps,
      signal: this.abort.signal,
      // Which API runs the job, on the status while it uploads: "uploading 40% (Batch Processing)".
      onGeneration: (generation, fallback) => {
        via = this.t(`api.${generation}`);
        if (fallback) this.node.log(this.t('log.fallback', { reason: fallback.reason }));
        showStatus(this.node, 'busy', input.kind === 'url' ? `${this.t('status.submitting')} (${via})` : `${this.t('status.uploading', { percent: 0 })} (${via})`);
      },
      onUploadProgress: ({ percent }) => showStatus(this.node, 'busy', `${this.t('status.uploading', { percent })}${via ? ` (${via})` : ''}`),
    });
    const job: PendingJob = { handle, msg: storable(msg) };
    this.pending.push(job);
    await this.store.save(this.pending);
    showStatus(this.node, 'busy', this.t('status.queued'));
    await this.follow(job, msg);
  }

  async close(removed: boolean): Promise<void> {
    this.abort.abort();
    if (removed && this.pending.length > 0) {
      this.node.warn(this.t('warn.abandoned', { count: this.pending.length }));
      await this.store.remove();
    }
  }

  private client(): VideoJobClient {
    const config = configNode(this.RED, this.config.roboflow);
    return new VideoJobClient({ connection: config.connection(), http: config.http() });
  }

  private input(msg: NodeMessageInFlow): VideoInput {
    if (typeof msg.url === 'string' && msg.url) {
      if (!/^https?:\/\//i.test(msg.url)) throw new RoboflowError('invalid-input', this.t('error.badUrl'));
      return { kind: 'url', url: msg.url };
    }
    const payload = msg.payload;
    // An empty string is a path that was meant to be set (an unset environment variable).
    if (typeof payload === 'string' && !payload.trim()) throw new RoboflowError('invalid-input', this.t('error.emptyInput'));
    if (typeof payload === 'string' && payload.trim()) {
      return /^https?:\/\//i.test(payload.trim()) ? { kind: 'url', url: payload.trim() } : { kind: 'file', path: payload.trim() };
    }
    if (payload instanceof Uint8Array) return { kind: 'buffer', data: payload, fileName: typeof msg.filename === 'string' ? msg.filename.split(/[\\/]/).pop() : undefined };
    throw new RoboflowError('invalid-input', this.t('error.noInput', { type: payload === null ? 'null' : typeof payload }));
  }

  private async target(msg: NodeMessage): Promise<JobTarget> {
    if (this.config.target === 'model') {
      const [modelId, modelVersion] = String(this.config.model ?? '')
        .trim()
        .split('/');
      if (!modelId) throw new RoboflowError('invalid-input', this.t('error.noModel'));
      return { generation: 'model', models: [{ modelId, ...(modelVersion ? { modelVersion } : {}) }] };
    }
    const api: JobGenerationChoice = this.config.jobApi === 'batch' || this.config.jobApi === 'videoinfer' ? this.config.jobApi : 'auto';
    const workspace = await evaluate(this.RED, this.node, this.config.workspace, this.config.workspaceType, msg);
    const workflow = await evaluate(this.RED, this.node, this.config.workflow, this.config.workflowType, msg);
    if (typeof workspace !== 'string' || !workspace.trim() || typeof workflow !== 'string' || !workflow.trim()) {
      throw new RoboflowError('invalid-input', this.t('error.noWorkflow'));
    }
    const versionId = String(this.config.workflowVersion ?? '').trim();
    const notificationsUrl = String(this.config.notificationsUrl ?? '').trim();
    if (notificationsUrl && !/^https?:\/\/\S+$/i.test(notificationsUrl)) throw new RoboflowError('invalid-input', this.t('error.badNotificationsUrl'));
    return jobTargetFor(api, {
      workspace: workspace.trim(),
      workflow: workflow.trim(),
      ...(versionId ? { versionId } : {}),
      ...(asBoolean(this.config.disableSinks, false) ? { disableSinks: true } : {}),
      ...(notificationsUrl ? { notificationsUrl } : {}),
    });
  }

  /** Polls a job to its end and sends its results (once). */
  private async follow(job: PendingJob, original: NodeMessageInFlow | undefined): Promise<void> {
    const { jobId } = job.handle;
    if (this.running.has(jobId)) return;
    this.running.add(jobId);
    try {
      const client = this.client();
      const interval = Number(this.config.pollInterval);
      const status = await client.wait(job.handle, {
        signal: this.abort.signal,
        ...(interval > 0 ? { pollIntervalMs: interval * 1000 } : {}),
        onStatus: (s) => showStatus(this.node, 'busy', s.state === 'queued' ? this.t('status.queued') : this.t('status.processing', { percent: Math.round((s.progress ?? 0) * 100) })),
      });
      const results = await client.results(status, this.abort.signal);
      // Forget the job before sending: a restart in between must not deliver it twice.
      await this.forget(jobId);
      showStatus(this.node, 'done', this.t('status.done', { frames: results.frames.length }));
      // msg.generation: which API ran it (batch, workflow = /videoinfer, model); msg.job.fallback says why auto did not use Batch Processing.
      this.node.send({ ...(original ? { ...original } : job.msg), payload: results.frames, jobId, generation: job.handle.generation, job: job.handle });
    } catch (caught) {
      const error = toRoboflowError(caught, 'network');
      if (error.code === 'aborted') return;
      await this.forget(jobId);
      if (original) throw error;
      reportError(this.node, error, { ...job.msg, jobId });
    } finally {
      this.running.delete(jobId);
    }
  }

  private async forget(jobId: string): Promise<void> {
    this.pending = this.pending.filter((job) => job.handle.jobId !== jobId);
    if (this.pending.length === 0) await this.store.remove();
    else await this.store.save(this.pending);
  }
}
