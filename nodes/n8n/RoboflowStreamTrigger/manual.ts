import type { INodeExecutionData, ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';
import { RoboflowError, redact, type CameraInfo, type Logger, type RoboflowConnection } from '../../../lib';
import { describeOpen } from './active';
import { nodeError } from '../shared/errors';
import type { TriggerBudget } from './budget';
import { FrameFilter, completionItem, frameItem, pipelineItemStats, type PipelineItemStats } from './items';
import { ObjectEventEmitter } from './object-event-emitter';
import type { OpenStream, StreamHandle } from './open-stream';
import { isFileSource, type TriggerSettings } from './settings';

/**
 * How long "Test step" waits for its frames at most: a hosted cold start can take up
 * to 90 s before the first frame. Any error the engine reports ends the wait at once.
 */
export const MANUAL_TIMEOUT_MS = 120_000;

/** Why a test run got nothing: no frame at all, or frames that the node's settings skipped. */
function timedOut(results: number, settings: TriggerSettings, timeoutMs: number): RoboflowError {
  const seconds = timeoutMs / 1000;
  if (results === 0) return new RoboflowError('timeout', `No analysed frame within ${seconds} s`);
  const skipped = settings.objects ? 'no object event' : settings.onlyDetections ? 'none with detections' : 'none emitted';
  const hint = settings.objects
    ? 'check Detections Output and Classes'
    : settings.onlyDetections
      ? 'point the camera at something the workflow detects, or set Emit to Every Analysed Frame'
      : 'check the node settings';
  return new RoboflowError('timeout', `${results} frames analysed in ${seconds} s but ${skipped}: ${hint}`);
}

/**
 * Collects the first `manualItems` items of a started stream. Rejects with the first
 * error the engine reports (a refused start, a lost connection it would retry, a broken
 * result), as soon as it reports it: a test run shows the cause, not a timeout.
 */
function collect(handle: StreamHandle, settings: TriggerSettings, isFile: boolean, logger: Logger, timeoutMs: number, cancelled: AbortSignal): Promise<INodeExecutionData[]> {
  const { stream, camera, pipeline } = handle;
  const items: INodeExecutionData[] = [];
  const filter = new FrameFilter(settings.onlyDetections, settings.throttleMs);
  let results = 0;
  // The same `pipeline` field as the published trigger's items (null before the server's first report).
  let stats: PipelineItemStats | null = null;
  const onStats = (report: Parameters<typeof pipelineItemStats>[0]): void => {
    stats = pipelineItemStats(report);
  };
  const withStats = (item: INodeExecutionData): INodeExecutionData => {
    if (settings.pipeline?.includeStats) item.json.pipeline = stats;
    return item;
  };
  return new Promise<INodeExecutionData[]>((resolve, reject) => {
    const timer = setTimeout(() => finish(timedOut(results, settings, timeoutMs)), timeoutMs);
    let objects: ObjectEventEmitter | undefined;
    const finish = (error?: RoboflowError): void => {
      clearTimeout(timer);
      objects?.close();
      stream.off('result', onResult);
      stream.off('complete', onComplete);
      stream.off('error', onError);
      stream.off('reconnecting', onReconnecting);
      stream.off('state', onState);
      camera?.off('camera-lost', onCameraLost);
      camera?.off('camera-ended', onCameraEnded);
      camera?.off('camera-open', onCameraOpen);
      pipeline?.off('stats', onStats);
      cancelled.removeEventListener('abort', onCancel);
      if (error) reject(error);
      else resolve(items);
    };
    const add = (found: INodeExecutionData[]): void => {
      items.push(...found.slice(0, settings.manualItems - items.length));
      if (items.length >= settings.manualItems) finish();
    };
    if (settings.objects) objects = new ObjectEventEmitter(settings.objects, isFile, add, logger);
    const onResult = (result: Parameters<typeof frameItem>[0]): void => {
      results++;
      if (objects) objects.result(result);
      else if (filter.accepts(result)) add([withStats(frameItem(result, settings.workflow, settings.pipeline ? settings.dataOutputs : []))]);
    };
    const onComplete = ({ reason }: { reason: string | null }): void => {
      objects?.end();
      if (items.length < settings.manualItems) {
        items.push(completionItem(results, reason));
        finish();
      }
    };
    const onError = (error: RoboflowError): void => finish(error);
    const onReconnecting = ({ error }: { error: RoboflowError }): void => finish(error);
    const onState = (state: string): void => {
      // (A stream stopping is not the end: a gated session closes when the scene is quiet;
      // cancelling the test run ends the wait through `cancelled`.)
      if (state === 'failed') finish(new RoboflowError('network', 'The stream failed'));
    };
    // A camera read here: one that cannot be reached fails the test run at once (as the
    // active trigger would keep retrying); a file played without Loop may end first.
    const onCameraLost = ({ error }: { error: RoboflowError }): void => finish(error);
    const onCameraEnded = (): void => {
      if (items.length > 0) finish();
      else
        finish(
          new RoboflowError(
            'invalid-input',
            `The video file played to its end after ${results} analysed frames, before any item: ${results === 0 ? 'is it a video?' : 'check the node settings, or turn Loop on'}`,
          ),
        );
    };
    const onCameraOpen = (info: CameraInfo): void => {
      const next = settings.gate ? `the test run waits for motion (at most ${timeoutMs / 1000} s)` : 'starting the Roboflow session';
      logger.info(`Roboflow camera ${redact(settings.target)}: open, ${describeOpen(info)}; ${next}`);
    };
    const onCancel = (): void => finish(new RoboflowError('aborted', 'The test run was stopped'));
    cancelled.addEventListener('abort', onCancel);
    camera?.on('camera-lost', onCameraLost);
    camera?.on('camera-ended', onCameraEnded);
    camera?.on('camera-open', onCameraOpen);
    pipeline?.on('stats', onStats);
    stream.on('result', onResult);
    stream.on('complete', onComplete);
    stream.on('error', onError);
    stream.on('reconnecting', onReconnecting);
    stream.on('state', onState);
    stream.start();
  });
}

/**
 * "Test step": the first analysed frames (or object events) as one emit, then the
 * stream is closed. Failures fail the run with the engine's message; everything opened
 * is closed on every path (n8n does not call closeFunction after a failed test run).
 */
export function runManual(
  context: ITriggerFunctions,
  settings: TriggerSettings,
  connection: RoboflowConnection,
  logger: Logger,
  options: { openStream: OpenStream; timeoutMs: number; budget?: TriggerBudget },
): ITriggerResponse {
  const node = context.getNode();
  let handle: StreamHandle | undefined;
  let closed = false;
  // n8n may call this while the test run is still starting (it was cancelled).
  const cancel = new AbortController();
  const close = async (): Promise<void> => {
    closed = true;
    cancel.abort();
    await handle?.close();
  };
  const isFile = isFileSource(settings.source);
  const manualTriggerFunction = async (): Promise<void> => {
    let items: INodeExecutionData[];
    const { budget } = options;
    try {
      if (budget) {
        // Read, not counted: n8n never saves a manual run's static data. A spent budget
        // still stops the test, so that it says why the published trigger is quiet.
        await budget.read();
        if (budget.exhausted)
          throw new RoboflowError('aborted', `Daily stream budget reached (${budget.describe()}): no Roboflow session until midnight (local time); raise Daily Limit on the trigger to test now`);
      }
      handle = await options.openStream(settings, connection, logger);
      if (closed) throw new RoboflowError('aborted', 'The test run was stopped');
      items = await collect(handle, settings, isFile, logger, options.timeoutMs, cancel.signal);
    } catch (error) {
      await close();
      throw nodeError(node, error);
    }
    await close();
    // The same item shape as the published trigger's, so expressions built on the test output hold.
    if (budget) for (const item of items) item.json.stats = budget.stats();
    // In a manual run only the first emit counts: everything at once.
    context.emit([items]);
  };
  return { closeFunction: close, manualTriggerFunction };
}
