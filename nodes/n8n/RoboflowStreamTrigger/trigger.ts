import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IDataObject, INodeExecutionData, ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';
import {
  HttpClient,
  ObjectEvents,
  ResilientStream,
  RoboflowError,
  describeEvent,
  detectionsIn,
  parseZonesAndLines,
  videoTimeMs,
  type Logger,
  type ObjectEvent,
  type ObjectEventsOptions,
  type StreamResult,
  type StreamSource,
  type WorkflowRef,
} from '../../../lib';
import { connectionOf } from '../shared/connection';
import { nodeError } from '../shared/errors';
import { jsonObject, nameList } from '../shared/parse';

interface TriggerSettings {
  source: 'rtsp' | 'mjpeg' | 'file' | 'videoUrl';
  target: string;
  workflow: WorkflowRef;
  dataOutputs: string[];
  onlyDetections: boolean;
  throttleMs: number;
  imageInput: string;
  parameters: Record<string, unknown>;
  realtime?: boolean;
  manualItems: number;
  /** Set in "Object Events" mode: which events to emit, and how to follow the objects. */
  objects?: { events: Set<string>; field: string; options: ObjectEventsOptions };
}

/** How long "Test step" waits for the first analysed frames. */
const MANUAL_TIMEOUT_MS = 120_000;

function readSettings(context: ITriggerFunctions): TriggerSettings {
  const source = context.getNodeParameter('source') as TriggerSettings['source'];
  const target = String(context.getNodeParameter(source === 'file' ? 'filePath' : source === 'videoUrl' ? 'videoUrl' : 'url', '')).trim();
  if (!target) throw new RoboflowError('invalid-input', source === 'file' ? 'Set the video file path' : 'Set the URL');
  const mode = context.getNodeParameter('workflowMode') as 'saved' | 'specification';
  let workflow: WorkflowRef;
  if (mode === 'specification') {
    const specification = jsonObject(context.getNodeParameter('specification'), 'The workflow specification');
    if (!specification || Object.keys(specification).length === 0) throw new RoboflowError('invalid-input', 'Paste the workflow specification (JSON)');
    workflow = { specification };
  } else {
    const workspace = String(context.getNodeParameter('workspace', '')).trim();
    const workflowId = String(context.getNodeParameter('workflowId', '')).trim();
    if (!workspace || !workflowId) throw new RoboflowError('invalid-input', 'Set the workspace and the workflow ID');
    workflow = { workspace, workflowId };
  }
  const options = context.getNodeParameter('options', {}) as IDataObject;
  const realtime = options.realtime === 'realtime' ? true : options.realtime === 'every' ? false : undefined;
  return {
    source,
    target,
    workflow,
    dataOutputs: nameList(context.getNodeParameter('dataOutputs', '')),
    onlyDetections: context.getNodeParameter('emit', 'frames') === 'detections',
    throttleMs: Math.max(0, Number(options.throttleSeconds ?? 0)) * 1000,
    imageInput: String(options.imageInput ?? 'image') || 'image',
    parameters: jsonObject(options.parameters, 'Parameters') ?? {},
    ...(realtime === undefined ? {} : { realtime }),
    manualItems: Math.max(1, Number(options.manualItems ?? 1)),
    ...(context.getNodeParameter('emit', 'frames') === 'objects' ? { objects: objectSettings(context) } : {}),
  };
}

function objectSettings(context: ITriggerFunctions): NonNullable<TriggerSettings['objects']> {
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
 * Object events from the stream's results: files on the video's own clock (so times and
 * dwell are seconds into the video), cameras on the wall clock (objects also leave when
 * results stop coming, checked every half second).
 */
class ObjectEventEmitter {
  private readonly objects: ObjectEvents;
  private readonly ticker: NodeJS.Timeout | undefined;
  private warned = false;

  constructor(
    private readonly settings: NonNullable<TriggerSettings['objects']>,
    private readonly videoClock: boolean,
    private readonly emit: (items: INodeExecutionData[]) => void,
    private readonly logger: Logger,
  ) {
    this.objects = new ObjectEvents(settings.options);
    if (!videoClock) this.ticker = setInterval(() => this.send(this.objects.expire(Date.now())), 500);
  }

  result(result: StreamResult): void {
    const found = detectionsIn(result.data, this.settings.field);
    if (!found) {
      if (!this.warned) this.logger.warn(`Roboflow stream: no "${this.settings.field}" output in the results; set Detections Output to the workflow's detections`);
      this.warned = true;
      return;
    }
    const now = this.videoClock ? (videoTimeMs(result.metadata) ?? Date.now()) : Date.now();
    this.send(this.objects.update(found.detections, now));
  }

  /** The source ended: everyone still there leaves. */
  end(): void {
    this.send(this.objects.end());
  }

  close(): void {
    clearInterval(this.ticker);
  }

  private send(events: ObjectEvent[]): void {
    const items = events.filter((event) => this.settings.events.has(event.type)).map((event) => ({ json: describeEvent(event, this.videoClock ? 'video' : 'wall') as IDataObject }));
    if (items.length > 0) this.emit(items);
  }
}

/** True when a frame's outputs hold at least one prediction. */
export function hasDetections(data: Record<string, unknown> | null): boolean {
  if (!data) return false;
  return Object.values(data).some((value) => {
    const predictions = value && typeof value === 'object' ? (value as { predictions?: unknown }).predictions : undefined;
    return Array.isArray(predictions) && predictions.length > 0;
  });
}

/** One item per analysed frame: its outputs, plus `frame` (metadata) and `errors`. */
export function frameItem(result: StreamResult, workflow: WorkflowRef): INodeExecutionData {
  return {
    json: {
      ...(result.data ?? {}),
      frame: (result.metadata ?? null) as IDataObject | null,
      errors: result.errors,
      workflowId: 'workflowId' in workflow ? workflow.workflowId : 'specification',
    } as IDataObject,
  };
}

/**
 * The Stream Trigger's body: a ResilientStream while the workflow is active (one
 * execution per analysed frame, optionally only frames with detections, optionally
 * throttled), or, for "Test step", the first frames then a closed session.
 */
export async function runStreamTrigger(context: ITriggerFunctions): Promise<ITriggerResponse> {
  const node = context.getNode();
  let settings: TriggerSettings;
  let connection;
  try {
    settings = readSettings(context);
    connection = await connectionOf(context);
  } catch (error) {
    throw nodeError(node, error);
  }
  const logger: Logger = {
    debug: (message) => context.logger.debug(message),
    info: (message) => context.logger.info(message),
    warn: (message) => context.logger.warn(message),
    error: (message) => context.logger.error(message),
  };
  const http = new HttpClient({ apiKey: connection.apiKey, logger });
  let workDir: string | undefined;
  let lastEmitted = 0;

  const open = async (): Promise<ResilientStream> => {
    let source: StreamSource;
    if (settings.source === 'videoUrl') {
      workDir = await mkdtemp(join(tmpdir(), 'roboflow-n8n-'));
      const path = join(workDir, 'video');
      await http.download(settings.target, path, { operation: 'video-upload', timeoutMs: 120_000 });
      source = { kind: 'file', path };
    } else if (settings.source === 'file') source = { kind: 'file', path: settings.target };
    else source = { kind: settings.source, url: settings.target };
    return new ResilientStream({
      connection,
      http,
      workflow: settings.workflow,
      source,
      imageInput: settings.imageInput,
      dataOutputs: settings.dataOutputs.length > 0 ? settings.dataOutputs : ['*'],
      streamOutputs: [],
      parameters: settings.parameters,
      ...(settings.realtime === undefined ? {} : { realtime: settings.realtime }),
      logger,
    });
  };
  const wanted = (result: StreamResult): boolean => {
    if (settings.onlyDetections && !hasDetections(result.data)) return false;
    if (settings.throttleMs > 0 && Date.now() - lastEmitted < settings.throttleMs) return false;
    lastEmitted = Date.now();
    return true;
  };
  const completionItem = (frames: number, reason: string | null): INodeExecutionData => ({ json: { complete: true, frames, terminationReason: reason } });
  const cleanUp = async (stream: ResilientStream | undefined): Promise<void> => {
    await stream?.stop();
    await http.close();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  };

  if (context.getMode() === 'manual') {
    let stream: ResilientStream | undefined;
    const manualTriggerFunction = async (): Promise<void> => {
      stream = await open().catch((error: unknown) => {
        throw nodeError(node, error);
      });
      const running = stream;
      const items: INodeExecutionData[] = [];
      let results = 0;
      await new Promise<void>((resolve, reject) => {
        let lastError: RoboflowError | undefined;
        const timer = setTimeout(() => reject(nodeError(node, new RoboflowError('timeout', `No analysed frame within ${MANUAL_TIMEOUT_MS / 1000} s`))), MANUAL_TIMEOUT_MS);
        let finished = false;
        const finish = (): void => {
          if (finished) return;
          finished = true;
          clearTimeout(timer);
          // In a manual run only the first emit counts: send everything at once.
          context.emit([items]);
          resolve();
        };
        const objects = settings.objects
          ? new ObjectEventEmitter(settings.objects, isFile(settings), (events) => {
              if (items.length >= settings.manualItems) return;
              items.push(...events.slice(0, settings.manualItems - items.length));
              if (items.length >= settings.manualItems) finish();
            }, logger)
          : undefined;
        running.on('state', (state) => {
          if (state === 'stopped' || state === 'failed' || state === 'complete') objects?.close();
        });
        running.on('result', (result) => {
          results++;
          if (items.length >= settings.manualItems) return;
          if (objects) return objects.result(result);
          if (!wanted(result)) return;
          items.push(frameItem(result, settings.workflow));
          if (items.length >= settings.manualItems) finish();
        });
        running.on('complete', ({ reason }) => {
          objects?.end();
          if (finished) return;
          items.push(completionItem(results, reason));
          finish();
        });
        running.on('error', (error) => (lastError = error));
        running.on('state', (state) => {
          if (state === 'failed') {
            clearTimeout(timer);
            reject(nodeError(node, lastError ?? new RoboflowError('network', 'The stream failed')));
          }
        });
        running.start();
      }).finally(() => running.stop());
    };
    return { closeFunction: () => cleanUp(stream), manualTriggerFunction };
  }

  const stream = await open().catch((error: unknown) => {
    throw nodeError(node, error);
  });
  let results = 0;
  let lastError: RoboflowError | undefined;
  // One execution per event: a workflow runs once per arriving person, not once per frame.
  const objects = settings.objects ? new ObjectEventEmitter(settings.objects, isFile(settings), (items) => items.forEach((item) => context.emit([[item]])), logger) : undefined;
  stream.on('result', (result) => {
    results++;
    if (objects) objects.result(result);
    else if (wanted(result)) context.emit([[frameItem(result, settings.workflow)]]);
  });
  stream.on('complete', ({ reason }) => {
    objects?.end();
    context.emit([[completionItem(results, reason)]]);
  });
  stream.on('error', (error) => {
    lastError = error;
    logger.warn(`Roboflow stream: ${error.message}`);
  });
  stream.on('reconnecting', ({ attempt, error }) => logger.warn(`Roboflow stream reconnecting (${attempt}): ${error.message}`));
  stream.on('state', (state) => {
    // A failure a retry cannot fix (bad key, unknown workflow): n8n deactivates the
    // workflow, runs the error workflow, and retries the activation with backoff.
    if (state === 'failed') context.emitError(nodeError(node, lastError ?? new RoboflowError('network', 'The stream failed')));
  });
  stream.start();
  return {
    closeFunction: async () => {
      objects?.close();
      await cleanUp(stream);
    },
  };
}

function isFile(settings: TriggerSettings): boolean {
  return settings.source === 'file' || settings.source === 'videoUrl';
}
