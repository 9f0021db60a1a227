import { randomUUID } from 'node:crypto';
import { redact, registerUrlPassword } from '../../lib/redact';
import { checkKey, injectFault, requestKey, type ServerContext } from '../context';
import { HttpError, readJson, sendJson, type Router } from '../http';
import { BUILTIN_WORKFLOWS, findBuiltin } from '../workflows/builtins';
import { WorkflowDefinitionError, compileWorkflow, type CompiledWorkflow } from '../workflows/engine';
import { ModelNotFoundError } from '../workflows/models';
import type { PipelineManager } from '../pipelines/manager';
import { terminatePipelineRoute, unknownPipelineOnTerminate } from './pipelines';
import type { SessionRegistry } from '../webrtc/registry';
import type { WorkerConfig } from '../webrtc/worker';
import type { WorkerHost } from '../webrtc/worker-host';

const PLANS = ['webrtc-gpu-small', 'webrtc-gpu-medium', 'webrtc-gpu-large'];
/** processing_timeout when the request has none (the hosted default), and for an explicit null (the service maximum). */
const DEFAULT_PROCESSING_TIMEOUT_S = 3600;
const MAX_PROCESSING_TIMEOUT_S = 604_800;

/** Python's repr of a list of strings, as the hosted server prints them in messages. */
const pyList = (names: string[]): string => `[${names.map((name) => `'${name}'`).join(', ')}]`;

function validationError(field: string[], message: string): HttpError {
  return new HttpError(422, { detail: [{ type: 'value_error', loc: ['body', ...field], msg: message }] });
}

function stringList(value: unknown, field: string): string[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw validationError([field], 'Input should be a valid list of strings');
  return value;
}

function configurationError(message: string): HttpError {
  return new HttpError(400, { message, error_type: 'WebRTCConfigurationError' });
}

interface ParsedRequest {
  config: Omit<WorkerConfig, 'id' | 'dataDir'>;
  offer: RTCSessionDescriptionInit;
}

function parseRequest(body: unknown, context: ServerContext, key: string | undefined): ParsedRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validationError([], 'Input should be a valid dictionary');
  const request = body as Record<string, unknown>;
  const offer = request.webrtc_offer as { sdp?: unknown; type?: unknown } | undefined;
  if (!offer || typeof offer !== 'object') throw validationError(['webrtc_offer'], 'Field required');
  // Both are plain strings to the service: the type's value is not checked (docs/protocol.md §2.1).
  if (typeof offer.sdp !== 'string') throw validationError(['webrtc_offer', 'sdp'], 'Input should be a valid string');
  if (typeof offer.type !== 'string') throw validationError(['webrtc_offer', 'type'], 'Input should be a valid string');
  const workflow = request.workflow_configuration as Record<string, unknown> | undefined;
  if (!workflow || typeof workflow !== 'object') throw validationError(['workflow_configuration'], 'Field required');
  if (workflow.type !== 'WorkflowConfiguration') throw validationError(['workflow_configuration', 'type'], "Input should be 'WorkflowConfiguration'");

  // A self-hosted server answers 400 for a missing key, 401 for a wrong one.
  checkKey(context, key, 400);

  if (request.requested_plan !== undefined && request.requested_plan !== null && !PLANS.includes(String(request.requested_plan))) {
    throw new HttpError(502, { message: 'Internal error. Request to Roboflow API failed.' });
  }
  // Any region string is passed on to the hosting platform as is (docs/protocol.md §2.1).
  if (request.requested_region !== undefined && request.requested_region !== null && typeof request.requested_region !== 'string') {
    throw validationError(['requested_region'], 'Input should be a valid string');
  }
  const processingTimeoutSec = processingTimeout(request, context);

  const imageInput = typeof workflow.image_input_name === 'string' ? workflow.image_input_name : 'image';
  const specification = workflow.workflow_specification;
  const workspace = workflow.workspace_name;
  const workflowId = workflow.workflow_id;
  let label: string;
  let spec: unknown;
  if (specification !== undefined && specification !== null) {
    // With workspace and id as well, the specification wins (the service fetches only when it has none).
    spec = specification;
    label = 'inline';
  } else {
    if (typeof workspace !== 'string' || !workspace || typeof workflowId !== 'string' || !workflowId) {
      throw configurationError("Either 'workflow_specification' or both 'workspace_name' and 'workflow_id' must be provided");
    }
    const builtin = context.behaviour.unknownWorkflow ? undefined : findBuiltin(workflowId);
    if (!builtin) {
      throw new HttpError(404, {
        message: `Requested Roboflow resource not found. Make sure that workspace, project or model you referred in request exists. (This local server knows the workflows: ${BUILTIN_WORKFLOWS.map((w) => w.id).join(', ')})`,
        error_type: 'RoboflowAPINotNotFoundError',
      });
    }
    spec = builtin.specification;
    label = `${workspace}/${workflowId}`;
  }
  let compiled: CompiledWorkflow;
  try {
    compiled = compileWorkflow(spec, imageInput);
  } catch (error) {
    if (error instanceof ModelNotFoundError) {
      throw new HttpError(404, {
        message: `Requested Roboflow resource not found. Make sure that workspace, project or model you referred in request exists. (${error.message})`,
        error_type: 'RoboflowAPINotNotFoundError',
      });
    }
    if (!(error instanceof WorkflowDefinitionError)) throw error;
    throw new HttpError(400, {
      message: error.message,
      error_type: 'WorkflowSyntaxError',
      context: 'workflow_compilation | specification_parsing',
      inner_error_type: 'WorkflowDefinitionError',
      inner_error_message: error.message,
      blocks_errors: [],
    });
  }

  const available = compiled.outputs.map((output) => output.name);
  // The hosted service checks output names before it answers; a self-hosted server
  // only once the workflow runs, so a bad name gives per-frame errors there.
  const checkNames = !context.behaviour.selfHosted;
  const dataOutput = stringList(request.data_output, 'data_output')?.filter((name) => name !== '') ?? null;
  if (checkNames && dataOutput && dataOutput.length > 0 && !(dataOutput.length === 1 && dataOutput[0] === '*')) {
    const invalid = dataOutput.filter((name) => !available.includes(name));
    if (invalid.length > 0) throw configurationError(`Invalid data_output fields: ${pyList(invalid)}. Available workflow outputs: ${pyList(available)}`);
  }
  const streamList = stringList(request.stream_output, 'stream_output');
  let streamOutput: WorkerConfig['streamOutput'];
  if (streamList === null) streamOutput = 'auto';
  else {
    const named = streamList.filter((name) => name !== '');
    streamOutput = named[0] ?? null;
    if (checkNames && streamOutput && !available.includes(streamOutput)) {
      throw configurationError(`Invalid stream_output field: '${streamOutput}'. Available workflow outputs: ${pyList(available)}`);
    }
  }

  const rtspUrl = request.rtsp_url;
  const mjpegUrl = request.mjpeg_url;
  let remoteSource: WorkerConfig['remoteSource'];
  if (typeof rtspUrl === 'string' && rtspUrl) {
    if (!/^rtsps?:\/\//i.test(rtspUrl)) throw validationError(['rtsp_url'], 'rtsp_url must start with rtsp:// or rtsps://');
    remoteSource = { kind: 'rtsp', url: rtspUrl };
  } else if (typeof mjpegUrl === 'string' && mjpegUrl) {
    if (!/^https?:\/\//i.test(mjpegUrl)) throw validationError(['mjpeg_url'], 'mjpeg_url must start with http:// or https://');
    remoteSource = { kind: 'mjpeg', url: mjpegUrl };
  }
  if (remoteSource) {
    registerUrlPassword(remoteSource.url);
    if (context.behaviour.noPull) {
      // What a hosted worker says about a camera on a private network it cannot reach.
      throw new HttpError(400, {
        message:
          `Failed to open stream ${redact(remoteSource.url)}: this server cannot reach the camera from its network ` + "(started with --no-pull). Send the camera's frames from your machine instead.",
      });
    }
  }

  const parameters = typeof workflow.workflows_parameters === 'object' && workflow.workflows_parameters !== null ? (workflow.workflows_parameters as Record<string, unknown>) : {};
  return {
    offer: { sdp: offer.sdp, type: 'offer' },
    config: {
      workflowLabel: label,
      workflow: { specification: spec, imageInput },
      parameters,
      dataOutput,
      streamOutput,
      realtime: request.webrtc_realtime_processing !== false,
      declaredFps: typeof request.declared_fps === 'number' ? request.declared_fps : null,
      processingTimeoutSec,
      workflowVersionId: typeof workflow.workflow_version_id === 'string' && label !== 'inline' ? workflow.workflow_version_id : null,
      sinksDisabled: workflow.disable_sinks === true,
      selfHosted: context.behaviour.selfHosted,
      ...(remoteSource ? { remoteSource } : {}),
    },
  };
}

/**
 * Seconds until the session ends with `timeout_reached`: the request's
 * processing_timeout (absent: 3600; null: the service maximum), capped by the
 * server's own session timeout (--session-timeout, for tests).
 */
function processingTimeout(request: Record<string, unknown>, context: ServerContext): number {
  const raw = request.processing_timeout;
  let seconds: number;
  if (raw === undefined) seconds = DEFAULT_PROCESSING_TIMEOUT_S;
  else if (raw === null) seconds = MAX_PROCESSING_TIMEOUT_S;
  else {
    const value = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw validationError(['processing_timeout'], 'Input should be a valid integer');
    if (!Number.isInteger(value)) throw validationError(['processing_timeout'], 'Input should be a valid integer, got a number with a fractional part');
    if (value === 0) throw new HttpError(500, { message: 'Processing timeout is 0, skipping processing' });
    // Beyond the service maximum a session would outlive any hosted worker (and a timer's range).
    seconds = Math.min(Math.max(0, value), MAX_PROCESSING_TIMEOUT_S);
  }
  const cap = context.behaviour.sessionTimeoutSec;
  return cap > 0 ? Math.min(seconds, cap) : seconds;
}

/** The streaming endpoints: start a worker, terminate a pipeline, TURN config. */
export function addWebrtcRoutes(router: Router, context: ServerContext, sessions: SessionRegistry, host: WorkerHost, pipelines?: PipelineManager): void {
  router.add('POST', '/initialise_webrtc_worker', 'initialise_webrtc_worker', async (req, res, _params, url) => {
    injectFault(context, 'initialise_webrtc_worker');
    const body = await readJson(req);
    const { config, offer } = parseRequest(body, context, requestKey(req, url, body));
    if (sessions.activeCount >= context.behaviour.streamLimit) {
      throw new HttpError(429, { message: `You have reached the maximum of ${context.behaviour.streamLimit} concurrent streams.`, error_type: 'WorkspaceStreamQuotaError' });
    }
    const id = randomUUID();
    const session = host.create({ ...config, id, dataDir: context.dataDir }, (ended, summary) => sessions.release(ended, summary));
    sessions.add(session);
    // A client that gives up before the answer never connects: end its worker at once.
    res.on('close', () => {
      if (!res.writableFinished) session.end('the client went away before the answer');
    });
    let answer: RTCSessionDescriptionInit;
    try {
      answer = await session.negotiate(offer);
    } catch (error) {
      session.end(`could not start: ${(error as Error).message}`);
      if (config.remoteSource) {
        // ffmpeg's own words say why (refused, 401, 404, an option this ffmpeg lacks); never the password.
        throw new HttpError(504, {
          message: redact(`The worker could not open the ${config.remoteSource.kind.toUpperCase()} source ${config.remoteSource.url}: ${(error as Error).message}`),
        });
      }
      throw error;
    }
    context.log(`session ${id} started: ${config.workflowLabel}, realtime ${config.realtime}${config.remoteSource ? `, ${config.remoteSource.kind}` : ''}`);
    sendJson(res, 200, {
      status: 'success',
      sdp: answer.sdp,
      type: answer.type,
      context: { request_id: null, pipeline_id: context.behaviour.pipelineIds ? id : null },
    });
  });

  router.add('POST', '/inference_pipelines/:id/terminate', 'terminate', (req, res, params, url) => {
    injectFault(context, 'terminate');
    // With the stream API on (a self-hosted server), terminate checks no key and ends pipelines too (docs/protocol.md §7.3).
    const pipeline = pipelines ? terminatePipelineRoute(context, pipelines, params.id) : undefined;
    if (pipeline) {
      sendJson(res, 200, pipeline);
      return;
    }
    if (!context.behaviour.streamApi) checkKey(context, requestKey(req, url));
    const session = sessions.get(params.id);
    if (!session && context.behaviour.streamApi) throw unknownPipelineOnTerminate('N/A');
    if (!session) throw new HttpError(404, { message: `Pipeline ${params.id} not found`, error_type: 'ProcessesManagerNotFoundError' });
    session.end('terminated by the client');
    sendJson(res, 200, { status: 'success', context: { request_id: randomUUID(), pipeline_id: params.id } });
  });

  router.add('GET', '/webrtc_turn_config', 'webrtc_turn_config', (req, res, _params, url) => {
    injectFault(context, 'webrtc_turn_config');
    checkKey(context, requestKey(req, url));
    // The shape Roboflow's API answers with (an object, docs/protocol.md §2.3). Nothing listens
    // there: clients of a local server connect directly on loopback and need no TURN.
    sendJson(res, 200, { iceServers: [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'local', credential: 'local-turn-credential' }] });
  });
}
