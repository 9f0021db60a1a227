import { randomUUID } from 'node:crypto';
import type { ServerContext } from '../context';
import { injectFault } from '../context';
import { HttpError, readJson, sendJson, type Router } from '../http';
import { PipelineManager } from '../pipelines/manager';
import { BUILTIN_WORKFLOWS, findBuiltin } from '../workflows/builtins';
import { WorkflowDefinitionError, compileWorkflow, type CompiledWorkflow } from '../workflows/engine';
import { ModelNotFoundError } from '../workflows/models';

/**
 * The InferencePipeline API of a self-hosted server started with ENABLE_STREAM_API=True
 * (docs/protocol.md §7), served when the `streamApi` behaviour is on (the hosted service
 * has none: 404). No route checks a key; the key given at start goes to the pipeline,
 * which needs it only to fetch a saved workflow or a model. Errors answer as
 * Roboflow's pipeline manager does: `{message, error_type, inner_error_type}`.
 */

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validation(loc: string[], msg: string, type = 'missing'): HttpError {
  return new HttpError(422, { detail: [{ type, loc: ['body', ...loc], msg, input: null }] });
}

/** The pipeline manager's error, as the HTTP layer turns it into an answer. */
function managerError(status: number, errorType: string, className: string, details: string): HttpError {
  return new HttpError(status, {
    message: `Error with command handling raised by InferencePipeline Manager. Error type: ${errorType}. Details: ${details}`,
    error_type: className,
    inner_error_type: null,
  });
}

const notFound = (id: string): HttpError => managerError(404, 'not_found', 'ProcessesManagerNotFoundError', `Could not find InferencePipeline with id=${id}.`);
const invalidPayload = (details: string): HttpError => managerError(400, 'invalid_payload', 'ProcessesManagerInvalidPayload', details);
const operationError = (): HttpError => managerError(500, 'operation_error', 'ProcessesManagerOperationError', 'Cannot get pipeline status in the current state of InferencePipeline.');

const context = (pipelineId: string | null): Record<string, unknown> => ({ request_id: randomUUID(), pipeline_id: pipelineId });

/** A workflow that needs Roboflow's API (a saved one, or one running Roboflow models) needs the key. */
function needsKey(specification: unknown, saved: boolean): boolean {
  if (saved) return true;
  const steps = isRecord(specification) && Array.isArray(specification.steps) ? specification.steps : [];
  return steps.some((step) => isRecord(step) && typeof step.type === 'string' && step.type.startsWith('roboflow_core/'));
}

export function addPipelineRoutes(router: Router, server: ServerContext, cameraFiles: () => string[]): { manager: PipelineManager } {
  const manager = new PipelineManager(cameraFiles, server.log);

  /** The routes exist only with the stream API on (ENABLE_STREAM_API=True); the hosted service answers 404. */
  const enabled = (route: string): void => {
    if (!server.behaviour.streamApi) throw new HttpError(404, { detail: 'Not Found' });
    injectFault(server, route);
  };
  const existing = (id: string) =>
    manager.get(id) ??
    (() => {
      throw notFound(id);
    })();

  router.add('GET', '/inference_pipelines/list', 'pipelines_list', (_req, res) => {
    enabled('pipelines_list');
    sendJson(res, 200, { status: 'success', context: context(null), pipelines: manager.ids() });
  });

  router.add('POST', '/inference_pipelines/initialise', 'pipelines_initialise', async (req, res) => {
    enabled('pipelines_initialise');
    const body = await readJson(req);
    if (!isRecord(body)) throw validation([], 'Input should be a valid dictionary', 'dict_type');
    const video = body.video_configuration;
    if (!isRecord(video)) throw validation(['video_configuration'], 'Field required');
    if (video.type !== 'VideoConfiguration') throw validation(['video_configuration', 'type'], "Input should be 'VideoConfiguration'", 'literal_error');
    let reference = video.video_reference;
    if (Array.isArray(reference)) {
      if (reference.length !== 1) throw invalidPayload('This local server runs one video source per pipeline');
      reference = reference[0];
    }
    if (typeof reference !== 'string' && !(typeof reference === 'number' && Number.isInteger(reference)))
      throw validation(['video_configuration', 'video_reference'], 'Input should be a valid string or integer', 'union_tag_invalid');
    const processing = body.processing_configuration;
    if (!isRecord(processing)) throw validation(['processing_configuration'], 'Field required');
    if (processing.type !== 'WorkflowConfiguration') throw validation(['processing_configuration', 'type'], "Input should be 'WorkflowConfiguration'", 'literal_error');
    const sink = body.sink_configuration;
    if (sink !== undefined && (!isRecord(sink) || sink.type !== 'MemorySinkConfiguration'))
      throw validation(['sink_configuration', 'type'], "Input should be 'MemorySinkConfiguration'", 'literal_error');
    const bufferSize = isRecord(sink) && sink.results_buffer_size !== undefined ? sink.results_buffer_size : 64;
    if (typeof bufferSize !== 'number' || !Number.isInteger(bufferSize) || bufferSize < 1)
      throw validation(['sink_configuration', 'results_buffer_size'], 'Input should be a valid integer', 'int_type');
    const timeout = body.consumption_timeout ?? null;
    if (timeout !== null && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0)) throw validation(['consumption_timeout'], 'Input should be a valid number', 'float_type');
    const maxFps = video.max_fps ?? undefined;
    if (maxFps !== undefined && (typeof maxFps !== 'number' || !(maxFps > 0))) throw validation(['video_configuration', 'max_fps'], 'Input should be a valid number', 'float_type');

    const saved = typeof processing.workspace_name === 'string' && typeof processing.workflow_id === 'string' && !processing.workflow_specification;
    let specification: unknown = processing.workflow_specification;
    if (!specification && !saved) throw invalidPayload('Could not decode InferencePipeline initialisation command payload.');
    // The pipeline fetches a saved workflow (and any model) from Roboflow with the key it was given.
    if (needsKey(specification, saved)) {
      const key = typeof body.api_key === 'string' ? body.api_key : undefined;
      if (!key) throw invalidPayload('Could not decode InferencePipeline initialisation command payload.');
      if (key !== server.apiKey || server.behaviour.rejectKey) {
        throw new HttpError(401, {
          message: 'Unauthorized access to roboflow API - check API key and make sure the key is valid for workspace you use.',
          error_type: 'ProcessesManagerAuthorisationError',
          inner_error_type: null,
        });
      }
    }
    if (saved) {
      const builtin = server.behaviour.unknownWorkflow ? undefined : findBuiltin(String(processing.workflow_id));
      if (!builtin) {
        throw managerError(
          404,
          'not_found',
          'ProcessesManagerNotFoundError',
          `Requested Roboflow resources (models / workflows etc.) not available or wrong API key used. (This local server knows the workflows: ${BUILTIN_WORKFLOWS.map((w) => w.id).join(', ')})`,
        );
      }
      specification = builtin.specification;
    }
    const imageInput = typeof processing.image_input_name === 'string' ? processing.image_input_name : 'image';
    let compiled: CompiledWorkflow;
    try {
      compiled = compileWorkflow(specification, imageInput);
    } catch (error) {
      if (error instanceof ModelNotFoundError)
        throw managerError(404, 'not_found', 'ProcessesManagerNotFoundError', `Requested Roboflow resources (models / workflows etc.) not available or wrong API key used. (${error.message})`);
      if (error instanceof WorkflowDefinitionError) throw invalidPayload(`Provided workflow configuration is not valid. (${error.message})`);
      throw error;
    }
    const parameters = isRecord(processing.workflows_parameters) ? processing.workflows_parameters : {};
    const pipeline = manager.start({ compiled, parameters, source: manager.resolveSource(reference), maxFps, resultsBufferSize: bufferSize, consumptionTimeoutSec: timeout });
    sendJson(res, 200, { status: 'success', context: context(pipeline.config.id) });
  });

  router.add('GET', '/inference_pipelines/:id/status', 'pipelines_status', (_req, res, params) => {
    enabled('pipelines_status');
    sendJson(res, 200, { status: 'success', context: context(params.id), report: existing(params.id).report() });
  });

  router.add('POST', '/inference_pipelines/:id/pause', 'pipelines_pause', (_req, res, params) => {
    enabled('pipelines_pause');
    if (!existing(params.id).mute()) throw operationError();
    sendJson(res, 200, { status: 'success', context: context(params.id) });
  });

  router.add('POST', '/inference_pipelines/:id/resume', 'pipelines_resume', (_req, res, params) => {
    enabled('pipelines_resume');
    if (!existing(params.id).resume()) throw operationError();
    sendJson(res, 200, { status: 'success', context: context(params.id) });
  });

  router.add('GET', '/inference_pipelines/:id/consume', 'pipelines_consume', async (req, res, params) => {
    enabled('pipelines_consume');
    const body = await readJson(req);
    const excluded = isRecord(body) && Array.isArray(body.excluded_fields) ? body.excluded_fields.filter((name): name is string => typeof name === 'string') : [];
    const result = await existing(params.id).consume(excluded);
    sendJson(res, 200, { status: 'success', context: context(params.id), ...result });
  });

  return { manager };
}

/**
 * Terminate for the stream API, shared with the WebRTC terminate route: a pipeline is
 * ended without a key check; an id the manager does not know gives the manager's
 * KeyError answer (400). Returns false when the stream API is off.
 */
export function terminatePipelineRoute(server: ServerContext, manager: PipelineManager, id: string): Record<string, unknown> | undefined {
  if (!server.behaviour.streamApi) return undefined;
  const pipeline = manager.get(id);
  if (!pipeline) return undefined;
  pipeline.terminate('terminated by the client');
  return { status: 'success', context: context(id) };
}

export { invalidPayload as unknownPipelineOnTerminate };
