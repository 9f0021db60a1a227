import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';
import {
  DEFAULT_PROCESSING_TIMEOUT_S,
  RoboflowError,
  checkModelRef,
  isModelRef,
  isModelTaskType,
  parseZonesAndLines,
  type CameraLogin,
  type ModelRef,
  type ObjectEventsOptions,
  type WorkflowRef,
} from '../../../lib';
import { jsonObject, nameList } from '../shared/parse';
import { readBudget, type BudgetSettings } from './budget';
import { readLocalCapture, readMotionGate, type CameraReader, type LocalCapture, type MotionGate } from './camera-settings';
import { readPipeline, usesPipeline, type PipelineSettings, type PipelineSourceKind } from './pipeline-settings';

/**
 * `rtsp`: a network camera URL (RTSP; read on this host also RTMP and HLS); `device`: a
 * USB/V4L2 camera; `replay`: a video file played on this host as a live camera. Both of
 * the last two are always read on this host. `serverFile` and `serverDevice` (and `rtsp`)
 * for a self-hosted pipeline: the Inference server opens them.
 */
export type SourceKind = 'rtsp' | 'mjpeg' | 'device' | 'replay' | 'file' | 'videoUrl' | Exclude<PipelineSourceKind, 'rtsp'>;

/** Set in "Object Events" mode: which events to emit, and how to follow the objects. */
export interface ObjectSettings {
  events: Set<string>;
  field: string;
  options: ObjectEventsOptions;
}

/** Everything the trigger needs from the node's parameters, validated. */
export interface TriggerSettings {
  source: SourceKind;
  /** Camera URL (without a login), device, file path, or video URL. */
  target: string;
  /** Who opens a live camera; files and video URLs are uploaded (`server`). */
  reader: CameraReader;
  /** Set when this host reads the camera. */
  local?: LocalCapture;
  /** A session only on motion (local reading only). */
  gate?: MotionGate;
  /** A daily limit on streamed minutes (live sources only). */
  budget?: BudgetSettings;
  workflow: WorkflowRef;
  dataOutputs: string[];
  onlyDetections: boolean;
  throttleMs: number;
  imageInput: string;
  parameters: Record<string, unknown>;
  realtime?: boolean;
  manualItems: number;
  /** Seconds a session may run (null: the service maximum). */
  processingTimeout: number | null;
  disableSinks: boolean;
  /** From the optional Camera Login credential; put into the URL at connect time only. */
  cameraLogin?: CameraLogin;
  objects?: ObjectSettings;
  /** Set when a self-hosted Inference server runs the workflow as a pipeline (no WebRTC). */
  pipeline?: PipelineSettings;
}

/**
 * Each version changed a default for new nodes; n8n saves only values that differ from
 * a default, so a node keeps the defaults of the version it was saved with. Version 2:
 * only frames with detections, at most one item a second. Version 3: a camera is read on
 * this n8n host (before, Roboflow's server pulled it).
 */
export const V1_DEFAULTS = { emit: 'frames', throttleSeconds: 0, capture: 'server' } as const;
export const V2_DEFAULTS = { emit: 'detections', throttleSeconds: 1, capture: 'server' } as const;
export const V3_DEFAULTS = { emit: 'detections', throttleSeconds: 1, capture: 'local' } as const;

function defaultsFor(version: number): { emit: string; throttleSeconds: number; capture: CameraReader } {
  return version >= 3 ? V3_DEFAULTS : version >= 2 ? V2_DEFAULTS : V1_DEFAULTS;
}

/** A camera (or a file played as one): never "complete"; sessions are renewed. */
export function isLiveSource(source: SourceKind): boolean {
  return source === 'rtsp' || source === 'mjpeg' || source === 'device' || source === 'replay' || source === 'serverDevice';
}

/** A video that ends: uploaded, downloaded, or a file the self-hosted server reads. */
export function isFileSource(source: SourceKind): boolean {
  return source === 'file' || source === 'videoUrl' || source === 'serverFile';
}

/** A network camera, which either this host or Roboflow's server may open. */
function isNetworkCamera(source: SourceKind): boolean {
  return source === 'rtsp' || source === 'mjpeg';
}

/** Who opens the source: device and replay always here; files are uploaded; a network camera as the node says. */
function readerOf(context: ITriggerFunctions, source: SourceKind, fallback: CameraReader): CameraReader {
  if (source === 'device' || source === 'replay') return 'local';
  if (!isNetworkCamera(source)) return 'server';
  const reader = String(context.getNodeParameter('capture', fallback));
  if (reader !== 'local' && reader !== 'server') throw new RoboflowError('invalid-input', `Read the Camera On must be this n8n host or Roboflow's server (got ${reader})`);
  return reader;
}

function targetParameter(source: SourceKind): string {
  if (source === 'file' || source === 'replay') return 'filePath';
  if (source === 'videoUrl') return 'videoUrl';
  if (source === 'device') return 'devicePath';
  return 'url';
}

function missingTarget(source: SourceKind): string {
  if (source === 'file' || source === 'replay') return 'Set the video file path';
  if (source === 'device') return 'Set the camera device, e.g. /dev/video0';
  return 'Set the URL';
}

/** Trained Model: `project/version`, with the Model Options (confidence, classes, task type). */
function readModel(context: ITriggerFunctions): ModelRef {
  const model = String(context.getNodeParameter('model', '')).trim();
  if (!model) throw new RoboflowError('invalid-input', 'Set the model as project/version, e.g. my-project/3');
  const options = context.getNodeParameter('modelOptions', {}) as IDataObject;
  const classes = nameList(options.classes ?? '');
  const taskType = String(options.taskType ?? 'auto');
  if (taskType !== 'auto' && !isModelTaskType(taskType)) throw new RoboflowError('invalid-input', `Unknown model task type "${taskType}"`);
  const ref: ModelRef = {
    model,
    ...(options.confidence === undefined ? {} : { confidence: Number(options.confidence) }),
    ...(classes.length > 0 ? { classes } : {}),
    ...(isModelTaskType(taskType) ? { taskType } : {}),
  };
  checkModelRef(ref);
  return ref;
}

function readWorkflow(context: ITriggerFunctions, options: IDataObject): WorkflowRef {
  const mode = context.getNodeParameter('workflowMode');
  if (mode === 'model') return readModel(context);
  if (mode === 'specification') {
    const specification = jsonObject(context.getNodeParameter('specification'), 'The workflow specification');
    if (!specification || Object.keys(specification).length === 0) throw new RoboflowError('invalid-input', 'Paste the workflow specification (JSON)');
    return { specification };
  }
  const workspace = String(context.getNodeParameter('workspace', '')).trim();
  const workflowId = String(context.getNodeParameter('workflowId', '')).trim();
  if (!workspace || !workflowId) throw new RoboflowError('invalid-input', 'Set the workspace and the workflow ID');
  const versionId = String(options.workflowVersionId ?? '').trim();
  return { workspace, workflowId, ...(versionId ? { versionId } : {}) };
}

function readProcessingTimeout(options: IDataObject): number | null {
  const value = options.processingTimeout === undefined ? DEFAULT_PROCESSING_TIMEOUT_S : Number(options.processingTimeout);
  if (!Number.isFinite(value) || value < 0) throw new RoboflowError('invalid-input', `Processing Timeout must be 0 or more seconds (got ${String(options.processingTimeout)})`);
  return value === 0 ? null : Math.round(value);
}

function readObjects(context: ITriggerFunctions): ObjectSettings {
  const events = new Set((context.getNodeParameter('objectEvents', ['enter']) as string[]).map(String));
  if (events.size === 0) throw new RoboflowError('invalid-input', 'Choose at least one object event to emit');
  const field = String(context.getNodeParameter('detectionsOutput', 'predictions')).trim() || 'predictions';
  const areas = parseZonesAndLines(context.getNodeParameter('zonesAndLines', ''));
  return {
    events,
    field,
    options: {
      ...areas,
      classes: nameList(context.getNodeParameter('objectClasses', '')),
      leaveAfterMs: Math.max(0, Number(context.getNodeParameter('leaveAfterSeconds', 1))) * 1000,
      updateEveryMs: events.has('update') ? 1000 : 0,
    },
  };
}

/**
 * Reads and validates the node's parameters; throws a RoboflowError that says what to
 * fix. `plan` (the credential's) converts a budget in credits into minutes.
 */
export function readSettings(context: ITriggerFunctions, cameraLogin?: CameraLogin, plan?: string): TriggerSettings {
  const version = Number(context.getNode().typeVersion ?? 1);
  const defaults = defaultsFor(version);
  const options = context.getNodeParameter('options', {}) as IDataObject;
  const emit = String(context.getNodeParameter('emit', defaults.emit));
  // Version 2 has the interval as a field of its own; version 1 kept it among the options.
  const throttleSeconds = Number(version >= 2 ? context.getNodeParameter('throttleSeconds', defaults.throttleSeconds) : (options.throttleSeconds ?? defaults.throttleSeconds));
  // Read where the fields stood before (source first), so the first mistake named is the same.
  const common = () => {
    const workflow = readWorkflow(context, options);
    return {
      workflow,
      // A model's one output is `predictions`.
      dataOutputs: isModelRef(workflow) ? [] : nameList(context.getNodeParameter('dataOutputs', '')),
      onlyDetections: emit === 'detections',
      throttleMs: Math.max(0, Number.isFinite(throttleSeconds) ? throttleSeconds : 0) * 1000,
      imageInput: String(options.imageInput ?? 'image') || 'image',
      parameters: jsonObject(options.parameters, 'Parameters') ?? {},
      manualItems: Math.max(1, Number(options.manualItems ?? 1)),
      disableSinks: options.disableSinks === true,
      ...(emit === 'objects' ? { objects: readObjects(context) } : {}),
    };
  };
  if (usesPipeline(context)) {
    // The server reads the video: no camera here, no WebRTC session to renew or to budget.
    const { kind, target, pipeline } = readPipeline(context, options, cameraLogin);
    return { source: kind, target, reader: 'server', ...common(), processingTimeout: null, pipeline };
  }
  const source = context.getNodeParameter('source') as SourceKind;
  const target = String(context.getNodeParameter(targetParameter(source), source === 'device' ? '/dev/video0' : '')).trim();
  if (!target) throw new RoboflowError('invalid-input', missingTarget(source));
  const reader = readerOf(context, source, defaults.capture);
  const gate = reader === 'local' ? readMotionGate(context) : undefined;
  const realtime = options.realtime === 'realtime' ? true : options.realtime === 'every' ? false : undefined;
  return {
    source,
    target,
    reader,
    ...(reader === 'local' ? { local: readLocalCapture(context, source === 'replay' && context.getNodeParameter('loop', true) !== false) } : {}),
    ...(gate ? { gate } : {}),
    ...(isLiveSource(source) ? budgetOf(context, plan) : {}),
    ...common(),
    ...(realtime === undefined ? {} : { realtime }),
    processingTimeout: readProcessingTimeout(options),
    ...(cameraLogin && isNetworkCamera(source) ? { cameraLogin } : {}),
  };
}

function budgetOf(context: ITriggerFunctions, plan: string | undefined): { budget?: BudgetSettings } {
  const budget = readBudget(context, plan);
  return budget ? { budget } : {};
}

/** Whether the node asks for the Camera Login credential. */
export function usesCameraLogin(context: ITriggerFunctions): boolean {
  const source = context.getNodeParameter('source') as SourceKind;
  return isNetworkCamera(source) && context.getNodeParameter('cameraAuth', 'none') === 'credential';
}

export { usesPipeline };
