import type { RoboflowConnection } from '../config';
import { RoboflowError } from '../errors';
import { HttpClient, type RetryPolicy } from '../http/client';
import { safeLogger, type Logger } from '../logger';
import { decodeOutputs, modelAnswer, workflowOutputs, type DecodedOutputs, type Prediction } from './answer';
import type { ImageInput } from './images';

/**
 * Single-image inference over HTTP (docs/protocol.md §6): a saved or inline workflow on
 * one image or a few, or a trained model on one image. The same paths on Roboflow's
 * serverless hosts, a self-hosted Inference server (`http://<host>:9001`) and the local
 * server; the key travels as those servers all accept it (body for workflows, query for
 * models).
 */

/** Which workflow runs: a saved one (workspace + id, optionally a pinned version) or an inline specification. */
export type WorkflowTarget = { workspace: string; workflowId: string; versionId?: string } | { specification: Record<string, unknown> };

export interface RunWorkflowOptions {
  /** The workflow's image input (default `image`). */
  imageInput?: string;
  /** Values for the workflow's parameters. */
  parameters?: Record<string, unknown>;
  /** Outputs to leave out of the answer (e.g. an annotated image nobody reads). */
  excludedFields?: string[];
  /** Skip the workflow's sink blocks (email, webhooks, ...): a dry run. */
  disableSinks?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface WorkflowResult {
  /** One entry per image sent, in order. */
  results: DecodedOutputs[];
  /** Wall time of the request, including retries. */
  elapsedMs: number;
}

export interface RunModelOptions {
  /** Minimum confidence the server keeps (0..1; the server's default is 0.4). */
  confidence?: number;
  /** NMS overlap threshold (0..1). */
  overlap?: number;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface ModelResult {
  /** The model's answer as sent (`predictions`, `image`, `time`, `inference_id`). */
  answer: Record<string, unknown>;
  predictions?: Prediction[];
  elapsedMs: number;
}

export interface InferenceClientOptions {
  connection: RoboflowConnection;
  /** Share one keep-alive pool (the Node-RED config node's); a client of its own otherwise. */
  http?: HttpClient;
  logger?: Logger;
  /** Retries on 429, 5xx and network errors (default: 3 tries, Retry-After honoured). */
  retry?: Partial<RetryPolicy> | false;
}

/** A cold model can take a while to load on a serverless host. */
const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_INFERENCE_RETRY: Partial<RetryPolicy> = { attempts: 3 };

/** `project/version` (the form roboflow-red and the Roboflow app show). */
export function parseModelId(modelId: string): { project: string; version: string } {
  const match = /^\s*([^/\s]+)\/([^/\s]+)\s*$/.exec(modelId);
  if (!match) throw new RoboflowError('invalid-input', `Invalid model id "${modelId}": use project/version, e.g. my-project/3`);
  return { project: match[1], version: match[2] };
}

function isSaved(target: WorkflowTarget): target is { workspace: string; workflowId: string; versionId?: string } {
  return 'workspace' in target;
}

export class InferenceClient {
  private readonly connection: RoboflowConnection;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;
  private readonly retry: Partial<RetryPolicy> | false;

  constructor(options: InferenceClientOptions) {
    this.connection = options.connection;
    this.ownsHttp = !options.http;
    this.http = options.http ?? new HttpClient({ apiKey: options.connection.apiKey, logger: safeLogger(options.logger) });
    this.retry = options.retry ?? DEFAULT_INFERENCE_RETRY;
  }

  /** Runs a workflow on the images (one request); one result per image, in order. */
  async runWorkflow(target: WorkflowTarget, images: ImageInput | ImageInput[], options: RunWorkflowOptions = {}): Promise<WorkflowResult> {
    const list = Array.isArray(images) ? images : [images];
    if (list.length === 0) throw new RoboflowError('invalid-input', 'No image to run the workflow on');
    const imageInput = options.imageInput?.trim() || 'image';
    const inputs: Record<string, unknown> = { ...options.parameters };
    // A single image goes as an object, several as a list: the server batches a list.
    inputs[imageInput] = list.length === 1 ? imageValue(list[0]) : list.map(imageValue);
    let url: string;
    const body: Record<string, unknown> = { api_key: this.connection.apiKey, inputs };
    if (isSaved(target)) {
      if (!target.workspace.trim() || !target.workflowId.trim()) throw new RoboflowError('invalid-input', 'Set the workspace and the workflow id');
      url = `${this.connection.serverUrl}/${encodeURIComponent(target.workspace.trim())}/workflows/${encodeURIComponent(target.workflowId.trim())}`;
      if (target.versionId?.trim()) body.workflow_version_id = target.versionId.trim();
    } else {
      url = `${this.connection.serverUrl}/workflows/run`;
      body.specification = target.specification;
    }
    if (options.excludedFields && options.excludedFields.length > 0) body.excluded_fields = options.excludedFields;
    if (options.disableSinks) body.disable_sinks = true;
    const started = performance.now();
    const response = await this.http.request({
      method: 'POST',
      url,
      // The key is in the body, where every server version reads it (a Bearer header
      // would override it on newer ones only).
      auth: 'none',
      json: body,
      operation: 'inference',
      retry: this.retry,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: options.signal,
    });
    const results = workflowOutputs(response.body, list.length).map(decodeOutputs);
    return { results, elapsedMs: performance.now() - started };
  }

  /** Runs a trained model (`project/version`) on one image. */
  async runModel(modelId: string, image: ImageInput, options: RunModelOptions = {}): Promise<ModelResult> {
    const { project, version } = parseModelId(modelId);
    const query: Record<string, string | number | undefined> = {
      confidence: options.confidence,
      overlap: options.overlap,
      ...(image.type === 'url' ? { image: image.value } : {}),
    };
    const started = performance.now();
    const response = await this.http.request({
      method: 'POST',
      url: `${this.connection.serverUrl}/${encodeURIComponent(project)}/${encodeURIComponent(version)}`,
      query,
      auth: 'query',
      ...(image.type === 'base64'
        ? { body: () => image.value, headers: { 'content-type': 'application/x-www-form-urlencoded' } }
        : { headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
      operation: 'inference',
      retry: this.retry,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      signal: options.signal,
    });
    return { ...modelAnswer(response.body), elapsedMs: performance.now() - started };
  }

  /** Closes the HTTP client when it is this client's own. */
  async close(): Promise<void> {
    if (this.ownsHttp) await this.http.close();
  }
}

function imageValue(image: ImageInput): { type: 'base64' | 'url'; value: string } {
  return { type: image.type, value: image.value };
}
