import { randomUUID } from 'node:crypto';
import { checkKey, injectFault, requestKey, type ServerContext } from '../context';
import { HttpError, readJson, sendJson, type Router } from '../http';
import { BUILTIN_WORKFLOWS, findBuiltin } from '../workflows/builtins';
import { WorkflowDefinitionError, compileWorkflow, type CompiledWorkflow } from '../workflows/engine';
import type { SessionRegistry } from '../webrtc/registry';
import { WorkerSession, type WorkerConfig } from '../webrtc/worker';

const PLANS = ['webrtc-gpu-small', 'webrtc-gpu-medium', 'webrtc-gpu-large'];
const REGIONS = ['us', 'eu', 'ap'];

/** Python's repr of a list of strings, as the hosted server prints them in messages. */
const pyList = (names: string[]): string => `[${names.map((name) => `'${name}'`).join(', ')}]`;

function validationError(field: string[], message: string): HttpError {
  return new HttpError(422, { detail: [{ type: 'value_error', loc: ['body', ...field], msg: message }] });
}

function stringList(value: unknown, field: string): string[] | null {
  if (value === null || value === undefined) return null;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw validationError([field], 'Input should be a valid list of strings');
  return value as string[];
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
  if (typeof offer.sdp !== 'string' || offer.type !== 'offer') throw validationError(['webrtc_offer'], 'webrtc_offer needs sdp and type "offer"');
  const workflow = request.workflow_configuration as Record<string, unknown> | undefined;
  if (!workflow || typeof workflow !== 'object') throw validationError(['workflow_configuration'], 'Field required');
  if (workflow.type !== 'WorkflowConfiguration') throw validationError(['workflow_configuration', 'type'], "Input should be 'WorkflowConfiguration'");

  // A self-hosted server answers 400 for a missing key, 401 for a wrong one.
  checkKey(context, key, 400);

  if (request.requested_plan !== undefined && request.requested_plan !== null && !PLANS.includes(String(request.requested_plan))) {
    throw new HttpError(502, { message: 'Internal error. Request to Roboflow API failed.' });
  }
  if (request.requested_region !== undefined && request.requested_region !== null && !REGIONS.includes(String(request.requested_region))) {
    throw validationError(['requested_region'], `Input should be ${REGIONS.map((region) => `'${region}'`).join(', ')}`);
  }

  const imageInput = typeof workflow.image_input_name === 'string' ? workflow.image_input_name : 'image';
  const specification = workflow.workflow_specification;
  const workspace = workflow.workspace_name;
  const workflowId = workflow.workflow_id;
  let label: string;
  let spec: unknown;
  if (specification !== undefined && specification !== null) {
    if (workspace || workflowId) throw configurationError("Provide either 'workflow_specification' or 'workspace_name' + 'workflow_id', not both");
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
  const dataOutput = stringList(request.data_output, 'data_output')?.filter((name) => name !== '') ?? null;
  if (dataOutput && dataOutput.length > 0 && !(dataOutput.length === 1 && dataOutput[0] === '*')) {
    const invalid = dataOutput.filter((name) => !available.includes(name));
    if (invalid.length > 0) throw configurationError(`Invalid data_output fields: ${pyList(invalid)}. Available workflow outputs: ${pyList(available)}`);
  }
  const streamList = stringList(request.stream_output, 'stream_output');
  let streamOutput: WorkerConfig['streamOutput'];
  if (streamList === null) streamOutput = 'auto';
  else {
    const named = streamList.filter((name) => name !== '');
    streamOutput = named[0] ?? null;
    if (streamOutput && !available.includes(streamOutput)) {
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

  const parameters = typeof workflow.workflows_parameters === 'object' && workflow.workflows_parameters !== null ? (workflow.workflows_parameters as Record<string, unknown>) : {};
  const timeout = typeof request.processing_timeout === 'number' && request.processing_timeout > 0 ? request.processing_timeout : null;
  return {
    offer: { sdp: offer.sdp, type: 'offer' },
    config: {
      workflowLabel: label,
      compiled,
      parameters,
      dataOutput,
      streamOutput,
      realtime: request.webrtc_realtime_processing !== false,
      declaredFps: typeof request.declared_fps === 'number' ? request.declared_fps : null,
      processingTimeoutSec: timeout,
      ...(remoteSource ? { remoteSource } : {}),
    },
  };
}

/** The streaming endpoints: start a worker, terminate a pipeline, TURN config. */
export function addWebrtcRoutes(router: Router, context: ServerContext, sessions: SessionRegistry): void {
  router.add('POST', '/initialise_webrtc_worker', 'initialise_webrtc_worker', async (req, res, _params, url) => {
    injectFault(context, 'initialise_webrtc_worker');
    const body = await readJson(req);
    const { config, offer } = parseRequest(body, context, requestKey(req, url, body));
    if (sessions.activeCount >= context.behaviour.streamLimit) {
      throw new HttpError(429, { message: `You have reached the maximum of ${context.behaviour.streamLimit} concurrent streams.`, error_type: 'WorkspaceStreamQuotaError' });
    }
    const id = randomUUID();
    const session = new WorkerSession({ ...config, id, dataDir: context.dataDir }, () => context.behaviour, context.log, (ended) => sessions.release(ended));
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
        throw new HttpError(504, { message: `The worker could not open the ${config.remoteSource.kind.toUpperCase()} source: ${(error as Error).message}` });
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
    checkKey(context, requestKey(req, url));
    const session = sessions.get(params.id);
    if (!session) throw new HttpError(404, { message: `Pipeline ${params.id} not found`, error_type: 'ProcessesManagerNotFoundError' });
    session.end('terminated by the client');
    sendJson(res, 200, { status: 'success', context: { request_id: randomUUID(), pipeline_id: params.id } });
  });

  router.add('GET', '/webrtc_turn_config', 'webrtc_turn_config', (req, res, _params, url) => {
    injectFault(context, 'webrtc_turn_config');
    checkKey(context, requestKey(req, url));
    // The shape Roboflow's API answers with. Nothing listens there: clients of a local
    // server connect directly on loopback and need no TURN.
    sendJson(res, 200, [{ urls: ['turn:127.0.0.1:3478?transport=udp'], username: 'local', credential: 'local-turn-credential' }]);
  });
}
