import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import {
  InferenceClient,
  RoboflowError,
  filterDetections,
  toImageInputs,
  toRoboflowError,
  type DecodedOutputs,
  type ImageInput,
  type ImageOutputs,
  type Prediction,
  type WorkflowTarget,
} from '../../../lib';
import { configNode } from '../common/config';
import type { Translate } from '../common/i18n';
import { asBoolean, evaluate, jsonObject, mergeParameters, nameList } from '../common/properties';
import type { Send } from '../common/register';
import { statusText } from '../common/report';
import { showStatus } from '../common/status';

export interface WorkflowProperties {
  name: string;
  roboflow: string;
  workspace: string;
  workspaceType: string;
  workflow: string;
  workflowType: string;
  /** An inline specification (JSON text), instead of workspace + workflow. */
  workflowSpec: string;
  /** A trained model, `project/version`, instead of a workflow. */
  model: string;
  imageInput: string;
  /** JSON text. */
  parameters: string;
  /** Pin a saved workflow's version (empty: the current one). */
  workflowVersion: string;
  /** Skip the workflow's sinks (email, webhooks, ...) while testing a flow. */
  disableSinks: boolean;
  /** Requests at once (default 4). */
  concurrency: number | string;
  /** Messages waiting beyond those (default 50); the oldest is dropped past it. 0: none wait (a message finding every slot busy is dropped). */
  queueSize: number | string;
  /** Send images with a matching detection on output 1, the rest on output 2. */
  filter: boolean;
  /** Comma-separated class names for the filter; empty = any class. */
  classes: string;
  minConfidence: number | string;
  version: number;
}

interface Job {
  msg: NodeMessageInFlow;
  send: Send;
  /** Settles the message's handle(): handled (no error), or failed with the error. */
  done: (error?: unknown) => void;
}

const DEFAULT_CONCURRENCY = 4;
const DEFAULT_QUEUE = 50;
/** Overflow warnings: the first at once, then at most one per this interval (with the count). */
const WARN_EVERY_MS = 10_000;
/** Status updates while busy: at most one per this interval (a flood of messages must not flood the editor). */
const STATUS_EVERY_MS = 100;

function bounded(value: unknown, fallback: number, min: number, max: number, what: string): number {
  if (value === '' || value === undefined || value === null) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new RoboflowError('invalid-input', `${what} must be a whole number from ${min} to ${max} (got ${String(value)})`);
  return number;
}

/**
 * Maps a Roboflow Workflow node onto the engine's single-image client: each message's
 * image(s) onto one request, a bounded number in flight and a bounded queue behind them
 * (the oldest waiting message dropped past it, with a warning), the answer onto
 * msg.payload / msg.images / msg.predictions, and the detection filter onto two outputs.
 * Every message's done() is called exactly once, whatever happens to it.
 */
export class WorkflowController {
  private readonly queue: Job[] = [];
  private inFlight = 0;
  private readonly abort = new AbortController();
  private closing = false;
  private concurrency = DEFAULT_CONCURRENCY;
  private queueSize = DEFAULT_QUEUE;
  private dropped = { total: 0, unreported: 0, warnedAt: 0 };
  private statusTimer: NodeJS.Timeout | undefined;
  private lastStatusAt = 0;
  private warnedNoDetections = false;
  private client: InferenceClient | undefined;
  private readonly filter: { classes: string[]; minConfidence: number } | undefined;
  /** A setup problem found at start (bad concurrency, JSON...): every message is answered with it. */
  private setupError: RoboflowError | undefined;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    private readonly config: WorkflowProperties,
    private readonly t: Translate,
  ) {
    try {
      this.concurrency = bounded(config.concurrency, DEFAULT_CONCURRENCY, 1, 64, this.t('label.concurrency'));
      this.queueSize = bounded(config.queueSize, DEFAULT_QUEUE, 0, 10_000, this.t('label.queueSize'));
      jsonObject(config.parameters, this.t('label.parameters'));
      if (!config.model?.trim()) jsonObject(config.workflowSpec, this.t('label.workflowSpec'));
    } catch (error) {
      this.setupError = toRoboflowError(error, 'invalid-input');
    }
    const minConfidence = Number(config.minConfidence === '' || config.minConfidence === undefined ? 0 : config.minConfidence);
    this.filter = asBoolean(config.filter, false) ? { classes: nameList(config.classes), minConfidence: Number.isFinite(minConfidence) ? minConfidence : 0 } : undefined;
  }

  /** Called once the node exists: says what is wrong with its setup, if anything. */
  init(): void {
    if (this.setupError) showStatus(this.node, 'error', statusText(this.setupError));
  }

  /** Resolves once the message's request is answered (or the message was dropped or released). */
  handle(msg: NodeMessageInFlow, send: Send): Promise<void> {
    if (this.closing) return Promise.resolve();
    if (this.setupError) return Promise.reject(this.setupError);
    return new Promise((resolve, reject) => {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the job's error is passed on unchanged
      this.queue.push({ msg, send, done: (error) => (error === undefined ? resolve() : reject(error)) });
      // Start what a free slot can take first: only a message left waiting counts against
      // the queue (with Queue 0, one that finds every slot busy is dropped, never one that could run).
      this.pump();
      if (this.queue.length > this.queueSize) this.drop();
      this.showProgress();
    });
  }

  /** Stops: requests in flight are cancelled, waiting messages are released (done without error). */
  async close(_removed?: boolean): Promise<void> {
    this.closing = true;
    this.abort.abort();
    for (const job of this.queue.splice(0)) job.done();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    await this.client?.close();
  }

  /** The overflow rule: the oldest waiting message gives way (with Queue 0, the one that just came), with a warning (the first at once, then at most every 10 s). */
  private drop(): void {
    const oldest = this.queue.shift();
    if (!oldest) return;
    oldest.done();
    this.dropped.total++;
    this.dropped.unreported++;
    const now = Date.now();
    if (this.dropped.warnedAt === 0 || now - this.dropped.warnedAt >= WARN_EVERY_MS) {
      const counts = { count: this.dropped.unreported, total: this.dropped.total };
      this.node.warn(this.queueSize === 0 ? this.t('warn.droppedNoQueue', { concurrency: this.concurrency, ...counts }) : this.t('warn.dropped', { size: this.queueSize, ...counts }));
      this.dropped.warnedAt = now;
      this.dropped.unreported = 0;
    }
  }

  private pump(): void {
    while (!this.closing && this.inFlight < this.concurrency && this.queue.length > 0) {
      const job = this.queue.shift();
      if (!job) break;
      this.inFlight++;
      void this.run(job).finally(() => {
        this.inFlight--;
        this.pump();
        this.showProgress();
      });
    }
  }

  /** "3 in flight · 12 queued" while busy (at most every 100 ms, and always the last state). */
  private showProgress(): void {
    if (this.closing || this.inFlight === 0) return;
    const now = Date.now();
    const wait = this.lastStatusAt + STATUS_EVERY_MS - now;
    if (wait <= 0) {
      this.lastStatusAt = now;
      showStatus(this.node, 'busy', this.t('status.busy', { inFlight: this.inFlight, queued: this.queue.length }));
    } else {
      this.statusTimer ??= setTimeout(() => {
        this.statusTimer = undefined;
        this.showProgress();
      }, wait);
    }
  }

  private inferenceClient(): InferenceClient {
    if (!this.client) {
      const config = configNode(this.RED, this.config.roboflow);
      // The config node's HTTP client: one keep-alive pool for every node on that config.
      this.client = new InferenceClient({ connection: config.connection(), http: config.http() });
    }
    return this.client;
  }

  private async run(job: Job): Promise<void> {
    const { msg, send, done } = job;
    try {
      const client = this.inferenceClient();
      const images = await toImageInputs(msg.payload, { label: 'msg.payload' });
      const single = !Array.isArray(msg.payload);
      const model = this.config.model?.trim();
      let results: Array<{ payload: unknown; images?: ImageOutputs; predictions?: Prediction[] }>;
      let elapsedMs: number;
      if (model) {
        ({ results, elapsedMs } = await this.runModel(client, model, images));
      } else {
        const answer = await client.runWorkflow(await this.target(msg), images, {
          imageInput: this.config.imageInput?.trim() || 'image',
          parameters: this.parameters(msg),
          ...(asBoolean(this.config.disableSinks, false) ? { disableSinks: true } : {}),
          signal: this.abort.signal,
        });
        results = answer.results.map((result: DecodedOutputs) => ({ payload: result.outputs, images: result.images, predictions: result.predictions }));
        elapsedMs = answer.elapsedMs;
      }
      if (this.closing) {
        done();
        return;
      }
      const out = msg as NodeMessage & Record<string, unknown>;
      out.payload = single ? results[0].payload : results.map((result) => result.payload);
      if (!model) out.images = single ? results[0].images : results.map((result) => result.images);
      const found = results.some((result) => result.predictions !== undefined);
      if (found) out.predictions = single ? results[0].predictions : results.map((result) => result.predictions ?? []);
      const detections = results.reduce((sum, result) => sum + (result.predictions?.length ?? 0), 0);
      this.showDone(found ? this.t('status.detections', { count: detections, ms: Math.round(elapsedMs) }) : this.t('status.done', { ms: Math.round(elapsedMs) }));
      const filter = this.filter;
      if (!filter) {
        send(out);
      } else {
        if (!found && !this.warnedNoDetections) {
          this.warnedNoDetections = true;
          this.node.warn(this.t('warn.noDetections'));
        }
        const matches = results.flatMap((result) => filterDetections(result.predictions, filter));
        out.matches = matches;
        send(matches.length > 0 ? [out, null] : [null, out]);
      }
      done();
    } catch (caught) {
      const error = toRoboflowError(caught, 'invalid-input');
      if (error.code === 'aborted' || this.closing) {
        done();
        return;
      }
      done(error);
    }
  }

  private showDone(text: string): void {
    // Busy states win while other messages are still being worked on.
    if (this.inFlight > 1 || this.queue.length > 0) return;
    if (this.statusTimer) {
      clearTimeout(this.statusTimer);
      this.statusTimer = undefined;
    }
    showStatus(this.node, 'done', text);
  }

  private async runModel(client: InferenceClient, model: string, images: ImageInput[]): Promise<{ results: Array<{ payload: unknown; predictions?: Prediction[] }>; elapsedMs: number }> {
    const results: Array<{ payload: unknown; predictions?: Prediction[] }> = [];
    let elapsedMs = 0;
    // The model endpoint takes one image per request: a message's images go one after another.
    for (const image of images) {
      const answer = await client.runModel(model, image, {
        // With the filter on, the server keeps what the filter may pass (its own default is 0.4).
        ...(this.filter && this.filter.minConfidence > 0 ? { confidence: this.filter.minConfidence } : {}),
        signal: this.abort.signal,
      });
      results.push({ payload: answer.answer, predictions: answer.predictions });
      elapsedMs += answer.elapsedMs;
    }
    return { results, elapsedMs };
  }

  private async target(msg: NodeMessage): Promise<WorkflowTarget> {
    const specification = jsonObject(this.config.workflowSpec, this.t('label.workflowSpec'));
    if (specification) return { specification };
    const workspace = await evaluate(this.RED, this.node, this.config.workspace, this.config.workspaceType, msg);
    const workflowId = await evaluate(this.RED, this.node, this.config.workflow, this.config.workflowType, msg);
    if (typeof workspace !== 'string' || !workspace.trim() || typeof workflowId !== 'string' || !workflowId.trim()) {
      throw new RoboflowError('invalid-input', this.t('error.noWorkflow'));
    }
    const versionId = String(this.config.workflowVersion ?? '').trim();
    return { workspace: workspace.trim(), workflowId: workflowId.trim(), ...(versionId ? { versionId } : {}) };
  }

  /** The node's parameters, with msg.parameters (an object, or JSON text) laid over them. */
  private parameters(msg: NodeMessage): Record<string, unknown> {
    return mergeParameters(this.config.parameters, (msg as { parameters?: unknown } | undefined)?.parameters);
  }
}
