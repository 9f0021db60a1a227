import type { IDataObject, ITriggerFunctions } from 'n8n-workflow';
import { DEFAULT_PROCESSING_TIMEOUT_S, RoboflowError, parseZonesAndLines, type ObjectEventsOptions, type WorkflowRef, type CameraLogin } from '../../../lib';
import { jsonObject, nameList } from '../shared/parse';

export type SourceKind = 'rtsp' | 'mjpeg' | 'file' | 'videoUrl';

/** Set in "Object Events" mode: which events to emit, and how to follow the objects. */
export interface ObjectSettings {
  events: Set<string>;
  field: string;
  options: ObjectEventsOptions;
}

/** Everything the trigger needs from the node's parameters, validated. */
export interface TriggerSettings {
  source: SourceKind;
  /** Camera URL (without a login), file path, or video URL. */
  target: string;
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
}

/**
 * Version 2 changed defaults for new nodes (only frames with detections, at most one
 * item a second); n8n saves only values that differ from a default, so version 1 nodes
 * keep the defaults they were saved with.
 */
export const V1_DEFAULTS = { emit: 'frames', throttleSeconds: 0 } as const;
export const V2_DEFAULTS = { emit: 'detections', throttleSeconds: 1 } as const;

function defaultsFor(version: number): { emit: string; throttleSeconds: number } {
  return version >= 2 ? V2_DEFAULTS : V1_DEFAULTS;
}

export function isLiveSource(source: SourceKind): boolean {
  return source === 'rtsp' || source === 'mjpeg';
}

function readWorkflow(context: ITriggerFunctions, options: IDataObject): WorkflowRef {
  if (context.getNodeParameter('workflowMode') === 'specification') {
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

/** Reads and validates the node's parameters; throws a RoboflowError that says what to fix. */
export function readSettings(context: ITriggerFunctions, cameraLogin?: CameraLogin): TriggerSettings {
  const version = Number(context.getNode().typeVersion ?? 1);
  const defaults = defaultsFor(version);
  const source = context.getNodeParameter('source') as SourceKind;
  const target = String(context.getNodeParameter(source === 'file' ? 'filePath' : source === 'videoUrl' ? 'videoUrl' : 'url', '')).trim();
  if (!target) throw new RoboflowError('invalid-input', source === 'file' ? 'Set the video file path' : 'Set the URL');
  const options = context.getNodeParameter('options', {}) as IDataObject;
  const realtime = options.realtime === 'realtime' ? true : options.realtime === 'every' ? false : undefined;
  const emit = String(context.getNodeParameter('emit', defaults.emit));
  // Version 2 has the interval as a field of its own; version 1 kept it among the options.
  const throttleSeconds = Number(version >= 2 ? context.getNodeParameter('throttleSeconds', defaults.throttleSeconds) : (options.throttleSeconds ?? defaults.throttleSeconds));
  return {
    source,
    target,
    workflow: readWorkflow(context, options),
    dataOutputs: nameList(context.getNodeParameter('dataOutputs', '')),
    onlyDetections: emit === 'detections',
    throttleMs: Math.max(0, Number.isFinite(throttleSeconds) ? throttleSeconds : 0) * 1000,
    imageInput: String(options.imageInput ?? 'image') || 'image',
    parameters: jsonObject(options.parameters, 'Parameters') ?? {},
    ...(realtime === undefined ? {} : { realtime }),
    manualItems: Math.max(1, Number(options.manualItems ?? 1)),
    processingTimeout: readProcessingTimeout(options),
    disableSinks: options.disableSinks === true,
    ...(cameraLogin && isLiveSource(source) ? { cameraLogin } : {}),
    ...(emit === 'objects' ? { objects: readObjects(context) } : {}),
  };
}

/** Whether the node asks for the Camera Login credential. */
export function usesCameraLogin(context: ITriggerFunctions): boolean {
  const source = context.getNodeParameter('source') as SourceKind;
  return isLiveSource(source) && context.getNodeParameter('cameraAuth', 'none') === 'credential';
}
