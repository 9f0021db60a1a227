import type { RoboflowConnection } from '../config';
import { RoboflowError, isRoboflowError } from '../errors';
import type { HttpClient } from '../http/client';

/**
 * Streaming a trained model without a workflow, as Roboflow's Python SDK does it
 * (docs/protocol.md §8): the model's task type is read from the API, and a one-step
 * workflow wrapping the model in Roboflow's generic model block is streamed like any
 * inline workflow. Its outputs are `predictions` and `image`.
 */

/** The task types a generic model block exists for, and that block (as the Python SDK maps them). */
export const MODEL_TASK_BLOCKS = {
  'object-detection': 'roboflow_core/roboflow_object_detection_model@v2',
  'instance-segmentation': 'roboflow_core/roboflow_instance_segmentation_model@v2',
  classification: 'roboflow_core/roboflow_classification_model@v2',
  'multi-label-classification': 'roboflow_core/roboflow_multi_label_classification_model@v2',
  'keypoint-detection': 'roboflow_core/roboflow_keypoint_detection_model@v2',
  'semantic-segmentation': 'roboflow_core/roboflow_semantic_segmentation_model@v2',
} as const;

export type ModelTaskType = keyof typeof MODEL_TASK_BLOCKS;

/** Blocks with a `confidence` field (the semantic segmentation block has a confidence mode instead). */
const HAS_CONFIDENCE: ReadonlySet<ModelTaskType> = new Set(['object-detection', 'instance-segmentation', 'classification', 'multi-label-classification', 'keypoint-detection']);
/** Blocks with a `class_filter` field. */
const HAS_CLASS_FILTER: ReadonlySet<ModelTaskType> = new Set(['object-detection', 'instance-segmentation', 'keypoint-detection']);

/**
 * A trained model to stream instead of a workflow: `project/version` (or an alias the
 * service resolves, e.g. `rfdetr-nano`). `confidence` (0..1) and `classes` become the
 * model block's `confidence` and `class_filter`. `taskType` skips the look-up (a
 * self-hosted server that cannot reach Roboflow's API).
 */
export interface ModelRef {
  model: string;
  confidence?: number;
  classes?: string[];
  taskType?: ModelTaskType;
}

/** A workflow the server can run as it is: a saved one or an inline specification. */
export type ResolvedWorkflowRef = { workspace: string; workflowId: string; versionId?: string } | { specification: Record<string, unknown> };

export function isModelRef(value: unknown): value is ModelRef {
  return typeof value === 'object' && value !== null && typeof (value as ModelRef).model === 'string';
}

export function isModelTaskType(value: unknown): value is ModelTaskType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(MODEL_TASK_BLOCKS, value);
}

/** Checks what a user typed; throws a RoboflowError saying what to fix. */
export function checkModelRef(ref: ModelRef): void {
  const id = typeof ref.model === 'string' ? ref.model.trim() : '';
  if (!id || /\s/.test(id) || id.startsWith('/') || id.endsWith('/')) {
    throw new RoboflowError('invalid-input', `Invalid model id "${String(ref.model)}": use project/version, e.g. my-project/3`);
  }
  if (ref.confidence !== undefined && (typeof ref.confidence !== 'number' || !Number.isFinite(ref.confidence) || ref.confidence < 0 || ref.confidence > 1)) {
    throw new RoboflowError('invalid-input', `The model's confidence must be a number from 0 to 1 (got ${String(ref.confidence)})`);
  }
  if (ref.classes !== undefined && (!Array.isArray(ref.classes) || !ref.classes.every((name) => typeof name === 'string' && name.trim() !== ''))) {
    throw new RoboflowError('invalid-input', "The model's classes must be a list of class names");
  }
  if (ref.taskType !== undefined && !isModelTaskType(ref.taskType)) {
    throw new RoboflowError('invalid-input', `Unknown model task type "${String(ref.taskType)}": use one of ${Object.keys(MODEL_TASK_BLOCKS).join(', ')}`);
  }
}

/** The one-step specification for a model (the Python SDK's, plus the confidence and class options). */
export function buildModelWorkflow(ref: ModelRef, taskType: ModelTaskType): Record<string, unknown> {
  const classes = ref.classes?.map((name) => name.trim()).filter(Boolean);
  if (ref.confidence !== undefined && !HAS_CONFIDENCE.has(taskType)) {
    throw new RoboflowError('invalid-input', `Model ${ref.model} is a ${taskType} model: it takes no confidence threshold; clear the confidence option`);
  }
  if (classes && classes.length > 0 && !HAS_CLASS_FILTER.has(taskType)) {
    throw new RoboflowError('invalid-input', `Model ${ref.model} is a ${taskType} model: a class filter applies to detection models only; clear the classes option`);
  }
  return {
    version: '1.0',
    inputs: [{ type: 'InferenceImage', name: 'image' }],
    steps: [
      {
        type: MODEL_TASK_BLOCKS[taskType],
        name: 'model',
        images: '$inputs.image',
        model_id: ref.model.trim(),
        ...(ref.confidence !== undefined ? { confidence: ref.confidence } : {}),
        ...(classes && classes.length > 0 ? { class_filter: classes } : {}),
      },
    ],
    outputs: [
      { type: 'JsonField', name: 'predictions', coordinates_system: 'own', selector: '$steps.model.predictions' },
      { type: 'JsonField', name: 'image', selector: '$inputs.image' },
    ],
  };
}

/** Task types already looked up, per connection (a config node keeps one connection object). */
const taskTypes = new WeakMap<RoboflowConnection, Map<string, Promise<ModelTaskType>>>();

/**
 * The model's task type from `GET {apiUrl}/models/v1/external/stat?modelId=…` (Bearer
 * key, never in the URL), remembered per connection; a failed look-up is not.
 */
export function lookupTaskType(http: HttpClient, connection: RoboflowConnection, modelId: string, signal?: AbortSignal): Promise<ModelTaskType> {
  let known = taskTypes.get(connection);
  if (!known) taskTypes.set(connection, (known = new Map<string, Promise<ModelTaskType>>()));
  const id = modelId.trim();
  const cached = known.get(id);
  if (cached) return cached;
  const lookup = fetchTaskType(http, connection, id, signal);
  known.set(id, lookup);
  lookup.catch(() => known.delete(id));
  return lookup;
}

async function fetchTaskType(http: HttpClient, connection: RoboflowConnection, modelId: string, signal?: AbortSignal): Promise<ModelTaskType> {
  let body: unknown;
  try {
    ({ body } = await http.request({
      method: 'GET',
      url: `${connection.apiUrl}/models/v1/external/stat`,
      query: { modelId },
      auth: 'bearer',
      operation: 'model-lookup',
      timeoutMs: 10_000,
      retry: { attempts: 3 },
      signal,
    }));
  } catch (error) {
    if (isRoboflowError(error) && error.code === 'not-found') {
      throw new RoboflowError('not-found', `Model ${modelId} not found (404): check the model id (project/version) and that this API key's workspace can use the model`, {
        status: 404,
        detail: error.detail,
        cause: error,
      });
    }
    throw error;
  }
  const metadata = body && typeof body === 'object' ? (body as { modelMetadata?: unknown }).modelMetadata : undefined;
  const taskType = metadata && typeof metadata === 'object' ? (metadata as { taskType?: unknown }).taskType : undefined;
  if (typeof taskType !== 'string') throw new RoboflowError('protocol', `The model look-up for ${modelId} gave no task type (modelMetadata.taskType)`);
  if (!isModelTaskType(taskType)) {
    throw new RoboflowError(
      'invalid-input',
      `Model ${modelId} is a ${taskType} model, which cannot be streamed by model id (supported: ${Object.keys(MODEL_TASK_BLOCKS).join(', ')}): stream a workflow that wraps it instead`,
    );
  }
  return taskType;
}

/** A workflow reference the server can run: a model id becomes its one-step specification. */
export async function resolveWorkflow(http: HttpClient, connection: RoboflowConnection, ref: ResolvedWorkflowRef | ModelRef, signal?: AbortSignal): Promise<ResolvedWorkflowRef> {
  if (!isModelRef(ref)) return ref;
  checkModelRef(ref);
  const taskType = ref.taskType ?? (await lookupTaskType(http, connection, ref.model, signal));
  return { specification: buildModelWorkflow(ref, taskType) };
}
