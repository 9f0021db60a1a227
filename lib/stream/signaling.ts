import type { RoboflowConnection } from '../config';
import { isRoboflowHosted } from '../config';
import { RoboflowError } from '../errors';
import type { HttpClient, HttpResponse } from '../http/client';
import type { Logger } from '../logger';
import { preferTcpTurn, udpReaches, udpTurnTarget } from './ice';
import type { ModelRef, ResolvedWorkflowRef } from './model-workflow';

/**
 * Which workflow runs: a saved one (workspace + id, optionally a pinned version), an
 * inline specification, or a trained model (`{model: 'project/3'}`) streamed through
 * the one-step workflow Roboflow's Python SDK builds for it (docs/protocol.md §8).
 */
export type WorkflowRef = ResolvedWorkflowRef | ModelRef;

/** The service's default `processing_timeout` (seconds): a hosted session ends itself after this. */
export const DEFAULT_PROCESSING_TIMEOUT_S = 3600;

export interface InitOptions {
  /** A model id is resolved to its specification before (see resolveWorkflow). */
  workflow: ResolvedWorkflowRef;
  imageInput: string;
  /** `null` = server default (none), `[]` = none, `['*']` = all non-image outputs. */
  dataOutputs: string[] | null;
  /** `null` = first image output, `[]` = no video back. */
  streamOutputs: string[] | null;
  parameters: Record<string, unknown>;
  realtime: boolean;
  declaredFps?: number;
  /** Seconds the server runs the session; `null` asks for the service maximum. Always sent. */
  processingTimeout: number | null;
  /** Skip the workflow's sink blocks (email, webhooks, ...): a dry run. */
  disableSinks?: boolean;
  rtspUrl?: string;
  mjpegUrl?: string;
  iceServers: RTCIceServer[] | null;
  threadPoolWorkers?: number;
}

/** The JSON body of `POST /initialise_webrtc_worker` (docs/protocol.md §2.1). */
export interface InitRequestBody {
  api_key: string;
  workflow_configuration: {
    type: 'WorkflowConfiguration';
    workspace_name?: string;
    workflow_id?: string;
    workflow_specification?: Record<string, unknown>;
    workflow_version_id?: string;
    disable_sinks?: boolean;
    image_input_name: string;
    video_metadata_input_name: string;
    workflows_parameters: Record<string, unknown>;
    workflows_thread_pool_workers: number;
    cancel_thread_pool_tasks_on_exit: boolean;
  };
  webrtc_offer: { sdp: string; type: string };
  webrtc_config: { iceServers: RTCIceServer[] } | null;
  webrtc_realtime_processing: boolean;
  stream_output: string[] | null;
  data_output: string[] | null;
  declared_fps?: number;
  rtsp_url?: string;
  mjpeg_url?: string;
  processing_timeout: number | null;
  requested_plan?: string;
  requested_region?: string;
}

export interface WorkerAnswer {
  sdp: string;
  type: RTCSdpType;
  /** Set only by servers that run a pipeline with an id (self-hosted); null on the hosted service. */
  pipelineId: string | null;
}

export function buildInitRequest(connection: RoboflowConnection, options: InitOptions, offer: RTCSessionDescriptionInit): InitRequestBody {
  const workflow = options.workflow;
  const body: InitRequestBody = {
    api_key: connection.apiKey,
    workflow_configuration: {
      type: 'WorkflowConfiguration',
      ...('specification' in workflow
        ? { workflow_specification: workflow.specification }
        : {
            workspace_name: workflow.workspace,
            workflow_id: workflow.workflowId,
            ...(workflow.versionId ? { workflow_version_id: workflow.versionId } : {}),
          }),
      ...(options.disableSinks ? { disable_sinks: true } : {}),
      image_input_name: options.imageInput,
      video_metadata_input_name: 'video_metadata',
      workflows_parameters: options.parameters,
      workflows_thread_pool_workers: options.threadPoolWorkers ?? 4,
      cancel_thread_pool_tasks_on_exit: true,
    },
    webrtc_offer: { sdp: offer.sdp ?? '', type: offer.type ?? 'offer' },
    webrtc_config: options.iceServers && options.iceServers.length > 0 ? { iceServers: options.iceServers } : null,
    webrtc_realtime_processing: options.realtime,
    stream_output: options.streamOutputs,
    data_output: options.dataOutputs,
    processing_timeout: options.processingTimeout,
  };
  if (options.declaredFps !== undefined) body.declared_fps = options.declaredFps;
  if (options.rtspUrl) body.rtsp_url = options.rtspUrl;
  if (options.mjpegUrl) body.mjpeg_url = options.mjpegUrl;
  if (connection.plan) body.requested_plan = connection.plan;
  if (connection.region) body.requested_region = connection.region;
  return body;
}

interface RawAnswer {
  status?: string;
  sdp?: unknown;
  type?: unknown;
  context?: { pipeline_id?: unknown } | null;
}

/** How long the hosted service may take to answer: its own look-ups, then up to 60 s waiting for a worker (docs/protocol.md §2.1). */
export const ANSWER_TIMEOUT_MS = 90_000;

/**
 * Posts the offer and returns the server's answer. The key travels both as a Bearer
 * header (what the service prefers since 2026-08) and in the body (what older
 * self-hosted servers read). Retries only what may pass at once (502, 503, 504,
 * network); a stream-limit 429 and a timeout (already a long wait) are left to the
 * caller's slower reconnect.
 */
export async function initialiseWorker(http: HttpClient, connection: RoboflowConnection, body: InitRequestBody, signal?: AbortSignal, timeoutMs: number = ANSWER_TIMEOUT_MS): Promise<WorkerAnswer> {
  let response: HttpResponse<RawAnswer>;
  try {
    response = await http.request<RawAnswer>({
      method: 'POST',
      url: `${connection.serverUrl}/initialise_webrtc_worker`,
      auth: 'bearer',
      json: body,
      operation: 'stream',
      timeoutMs,
      retry: { attempts: 3 },
      // A 504 is a camera the worker cannot open, or a cold start: the stream's own
      // reconnect (with backoff and a status) handles it, not three silent tries here.
      retryIf: (error) => error.code !== 'stream-limit' && error.code !== 'rate-limited' && error.code !== 'timeout' && error.code !== 'gateway-timeout',
      signal,
    });
  } catch (error) {
    if (error instanceof RoboflowError && error.code === 'timeout') {
      // The same as the service's own 504 for a worker that is not ready: the nodes say "cold start".
      throw new RoboflowError('gateway-timeout', `No worker within ${Math.round(timeoutMs / 1000)} s: a cold start or a busy service (Roboflow starts a worker per stream); retrying`, {
        retryable: true,
        cause: error,
      });
    }
    throw error;
  }
  const answer = response.body;
  if (!answer || typeof answer.sdp !== 'string' || (answer.type !== 'answer' && answer.type !== 'pranswer')) {
    throw new RoboflowError('protocol', 'The server answered without a WebRTC answer (sdp and type)');
  }
  const pipelineId = answer.context && typeof answer.context.pipeline_id === 'string' ? answer.context.pipeline_id : null;
  return { sdp: answer.sdp, type: answer.type, pipelineId };
}

/** Ends a pipeline on servers that gave an id. Failures are logged, never thrown: the peer connection closes anyway. */
export async function terminatePipeline(http: HttpClient, connection: RoboflowConnection, pipelineId: string, logger: Logger): Promise<void> {
  try {
    await http.request({
      method: 'POST',
      url: `${connection.serverUrl}/inference_pipelines/${encodeURIComponent(pipelineId)}/terminate`,
      auth: 'query',
      json: {},
      operation: 'terminate',
      timeoutMs: 10_000,
      retry: { attempts: 2 },
      responseType: 'none',
    });
  } catch (error) {
    logger.warn(`Terminating pipeline ${pipelineId} failed: ${(error as Error).message}`);
  }
}

/** Accepts the three shapes Roboflow uses for TURN config; undefined when none applies. */
export function normaliseIceServers(value: unknown): RTCIceServer[] | undefined {
  let list: unknown[];
  if (Array.isArray(value)) list = value;
  else if (value && typeof value === 'object' && Array.isArray((value as { iceServers?: unknown }).iceServers)) {
    list = (value as { iceServers: unknown[] }).iceServers;
  } else if (value && typeof value === 'object' && 'urls' in value) list = [value];
  else return undefined;
  const servers: RTCIceServer[] = [];
  for (const entry of list) {
    if (!entry || typeof entry !== 'object') continue;
    const record = entry as Record<string, unknown>;
    const urls = Array.isArray(record.urls) ? record.urls.filter((url): url is string => typeof url === 'string') : typeof record.urls === 'string' ? [record.urls] : [];
    if (urls.length === 0) continue;
    servers.push({
      urls,
      ...(typeof record.username === 'string' ? { username: record.username } : {}),
      ...(typeof record.credential === 'string' ? { credential: record.credential } : {}),
    });
  }
  return servers.length > 0 ? servers : undefined;
}

/**
 * ICE servers for a session: TURN from Roboflow's API for Roboflow's own hosts (their
 * workers sit behind NAT), nothing for others (a self-hosted or local server is
 * reached directly). Any failure falls back to no TURN, as the official clients do.
 */
export async function resolveIceServers(http: HttpClient, connection: RoboflowConnection, logger: Logger, signal?: AbortSignal): Promise<RTCIceServer[]> {
  if (!isRoboflowHosted(connection.serverUrl)) return [];
  try {
    const response = await http.request({
      method: 'GET',
      url: `${connection.apiUrl}/webrtc_turn_config`,
      auth: 'query',
      operation: 'turn-config',
      timeoutMs: 10_000,
      retry: false,
      signal,
    });
    const servers = normaliseIceServers(response.body);
    if (servers) {
      const target = udpTurnTarget(servers);
      if (target && !(await udpReaches(target))) {
        logger.info('UDP does not reach the TURN server: trying TURN over TCP/TLS first');
        return preferTcpTurn(servers);
      }
      return servers;
    }
    logger.warn('TURN config had an unexpected shape; continuing without TURN');
  } catch (error) {
    logger.warn(`TURN config unavailable (${(error as Error).message}); continuing without TURN`);
  }
  return [{ urls: ['stun:stun.l.google.com:19302'] }];
}
