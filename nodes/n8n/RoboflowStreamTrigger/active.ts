import type { INodeExecutionData, ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';
import {
  RoboflowError,
  redact,
  toRoboflowError,
  type CameraInfo,
  type GateNote,
  type Logger,
  type PipelineHandle,
  type ResilientState,
  type RoboflowConnection,
  type StreamResult,
} from '../../../lib';
import { nodeError } from '../shared/errors';
import type { TriggerBudget } from './budget';
import { fingerprintOf, rememberedMessage, type FailureMemory } from './failure-memory';
import { FrameFilter, completionItem, describePipelineStats, frameItem, pipelineItemStats, type PipelineItemStats } from './items';
import { ObjectEventEmitter } from './object-event-emitter';
import { type OpenStream, type StreamHandle, type TriggerCamera, type TriggerPipeline } from './open-stream';
import { OutageLog } from './outage-log';
import type { PipelineMemory } from './pipeline-memory';
import { isLiveSource, type TriggerSettings } from './settings';
import type { ShutdownSignal } from './shutdown';

/**
 * How long activation waits for the first session's outcome. A refusal (bad key,
 * unknown workflow, bad outputs) comes back within a second or two and fails the
 * activation itself, so n8n shows it; a hosted cold start can take up to 90 s, and a
 * start still pending after this long has clearly not failed fast: activation returns
 * and a later refusal is reported once with emitError.
 */
export const FIRST_OUTCOME_MS = 25_000;

/** `waiting`: nothing started, by design (the day's budget is spent). */
type FirstOutcome = { kind: 'streaming' | 'retrying' | 'pending' | 'waiting' } | { kind: 'failed'; error: RoboflowError };

export interface ActiveOptions {
  openStream: OpenStream;
  failures: FailureMemory;
  firstOutcomeMs: number;
  now: () => number;
  /** The trigger's daily budget (not opened yet), when it has a Daily Limit. */
  budget?: TriggerBudget;
  /** A self-hosted pipeline's handle in the workflow's static data. */
  pipelineMemory?: PipelineMemory;
  /** Whether n8n is shutting down when it closes the trigger (a pipeline is then left running). */
  shutdown: ShutdownSignal;
}

/** "1920x1080 → 1280x720 at up to 10 fps (decoding: none)": what the camera gives and what is sent. */
export function describeOpen(info: CameraInfo): string {
  const sizes = info.input ? `${info.input.width}x${info.input.height} → ${info.output.width}x${info.output.height}` : `${info.output.width}x${info.output.height}`;
  return `${sizes} at up to ${info.fps} fps (decoding: ${info.hwaccel})`;
}

/**
 * One activation's stream: one execution per wanted frame (or object event), the
 * completion item after a file, and a fatal failure reported to n8n once, after which
 * it stops. A live camera's sessions are renewed by the engine (ResilientStream) when
 * the service ends them; the trigger only logs it. n8n's only status surfaces for a
 * trigger are its log and its errors: outages are logged once each, a camera read here
 * says when it opens, the motion gate when a session opens and closes, the budget at
 * 80 % and at the limit.
 */
class ActiveRun {
  private results = 0;
  private lastError: RoboflowError | undefined;
  private reported = false;
  private closed = false;
  private cameraFailed = false;
  /** The day's budget is spent: no session until it is available again. */
  private pausedForBudget = false;
  private settleFirst: ((outcome: FirstOutcome) => void) | undefined;
  private readonly filter: FrameFilter;
  private readonly objects: ObjectEventEmitter | undefined;
  private readonly live: boolean;
  private readonly sessionOutage: OutageLog;
  /** The server's latest report (self-hosted pipeline). */
  private pipelineStats: PipelineItemStats | null = null;

  constructor(
    private readonly context: ITriggerFunctions,
    private readonly settings: TriggerSettings,
    private readonly handle: StreamHandle,
    private readonly logger: Logger,
    private readonly hooks: { streaming(): void; fatal(error: RoboflowError): void },
    private readonly budget: TriggerBudget | undefined,
    private readonly pipelineMemory?: PipelineMemory,
  ) {
    this.live = isLiveSource(settings.source);
    this.filter = new FrameFilter(settings.onlyDetections, settings.throttleMs);
    this.sessionOutage = new OutageLog(logger, 'Roboflow stream');
    // One execution per event: a workflow runs once per arriving person, not once per frame.
    this.objects = settings.objects ? new ObjectEventEmitter(settings.objects, !this.live, (items) => items.forEach((item) => this.emit(item)), logger) : undefined;
    const { stream } = handle;
    stream.on('result', (result) => this.onResult(result));
    stream.on('complete', ({ reason }) => this.onComplete(reason));
    stream.on('error', (error) => {
      this.lastError = error;
      logger.warn(`Roboflow stream: ${error.message}`);
      // A camera that cannot be opened for good says so after its state changed.
      if (this.cameraFailed) this.failed(error);
    });
    stream.on('reconnecting', ({ attempt, delayMs, error }) => {
      this.sessionOutage.failed(attempt, delayMs, error.message, 'reconnecting');
      this.settleFirst?.({ kind: 'retrying' });
    });
    stream.on('renewing', ({ renewals }) => logger.info(`Roboflow stream: the session reached its processing timeout; renewed (${renewals})`));
    stream.on('state', (state) => this.onState(state));
    if (handle.camera) this.wireCamera(handle.camera);
    if (handle.pipeline) this.wirePipeline(handle.pipeline);
    if (budget) this.wireBudget(budget);
  }

  /** Starts the stream; resolves with the first outcome, or `pending` after `boundMs`. */
  start(boundMs: number): Promise<FirstOutcome> {
    if (this.budget?.exhausted) {
      this.pausedForBudget = true;
      this.logger.warn(`Roboflow stream: daily budget reached (${this.budget.describe()}): no Roboflow session until midnight (local time); raise Daily Limit on the trigger to go on today`);
      return Promise.resolve({ kind: 'waiting' });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settleFirst?.({ kind: 'pending' }), boundMs);
      this.settleFirst = (outcome) => {
        clearTimeout(timer);
        this.settleFirst = undefined;
        resolve(outcome);
      };
      this.handle.stream.start();
    });
  }

  private ending: Promise<void> | undefined;

  /** Ends everything this run started, once; a self-hosted pipeline is terminated. */
  readonly close = (): Promise<void> => (this.ending ??= this.end(false));

  /**
   * n8n's closeFunction. A self-hosted pipeline is left running on the server when n8n
   * itself is shutting down and its handle is in n8n's database, so that n8n re-attaches
   * to it when it starts again; on any other close (unpublished, saved, re-added after an
   * error) it is terminated.
   */
  readonly deactivate = (shutdown: ShutdownSignal): Promise<void> => (this.ending ??= this.end(this.keepForRestart(shutdown)));

  private keepForRestart(shutdown: ShutdownSignal): boolean {
    const pipeline = this.handle.pipeline;
    if (!pipeline || !this.handle.detach || !shutdown.shuttingDown()) return false;
    const id = pipeline.handle?.pipelineId;
    if (this.pipelineMemory?.isSaved(id)) return true;
    if (id)
      this.logger.info(
        `Roboflow pipeline ${id}: n8n is shutting down, but this pipeline is not in n8n's database yet (no item since it started): terminating it rather than leaving one that nothing re-attaches to`,
      );
    return false;
  }

  private async end(detach: boolean): Promise<void> {
    this.closed = true;
    this.objects?.close();
    const id = this.handle.pipeline?.handle?.pipelineId;
    if (detach && this.handle.detach) {
      await this.handle.detach();
      const timeout = this.settings.pipeline?.consumptionTimeout;
      this.logger.info(
        `Roboflow pipeline ${id}: n8n is shutting down; the pipeline keeps running on the server and is re-attached when n8n starts again (${timeout ? `the server ends it after ${timeout} s unread` : 'it runs until terminated'})`,
      );
    } else {
      await this.handle.close();
    }
    await this.budget?.close();
  }

  private emit(item: INodeExecutionData): void {
    if (this.closed) return;
    // Small on purpose: three numbers, and only when the trigger has a Daily Limit.
    if (this.budget) item.json.stats = this.budget.stats();
    if (this.settings.pipeline?.includeStats) item.json.pipeline = this.pipelineStats;
    this.context.emit([[item]]);
    // n8n has written the static data before it runs the execution.
    this.pipelineMemory?.saved();
  }

  private onResult(result: StreamResult): void {
    this.results++;
    // A file has started well once a frame of it was read (see onState).
    this.settleFirst?.({ kind: 'streaming' });
    if (this.objects) this.objects.result(result);
    else if (this.filter.accepts(result)) this.emit(frameItem(result, this.settings.workflow, this.settings.pipeline ? this.settings.dataOutputs : []));
  }

  /** A self-hosted pipeline: its handle kept in static data, its report logged (and in items when asked). */
  private wirePipeline(pipeline: TriggerPipeline): void {
    pipeline.on('pipeline', ({ handle, attached }) => this.onPipeline(pipeline, handle, attached));
    pipeline.on('pipeline-ended', ({ pipelineId, reason }) => {
      this.pipelineMemory?.forget(pipelineId);
      if (reason !== 'stopped') this.logger.info(`Roboflow pipeline ${pipelineId} ended (${reason})`);
    });
    pipeline.on('stats', (stats) => {
      this.pipelineStats = pipelineItemStats(stats);
      this.logger.debug(describePipelineStats(stats));
    });
  }

  private onPipeline(pipeline: TriggerPipeline, handle: PipelineHandle, attached: boolean): void {
    this.pipelineMemory?.write(handle);
    this.logger.info(
      attached
        ? `Roboflow pipeline ${handle.pipelineId}: re-attached (it kept running on ${handle.serverUrl} since ${handle.startedAt})`
        : `Roboflow pipeline ${handle.pipelineId}: started on ${handle.serverUrl}`,
    );
    // A trigger has no input to resume it by: a pipeline paused by someone else is resumed.
    if (attached && pipeline.paused) {
      this.logger.info(`Roboflow pipeline ${handle.pipelineId} was paused on the server: resuming it`);
      pipeline.resume().catch((error: unknown) => this.logger.warn(`Roboflow pipeline ${handle.pipelineId}: resuming failed (${(error as Error).message})`));
    }
  }

  private onComplete(reason: string | null): void {
    // Only files complete: the engine renews a live source's sessions itself.
    this.objects?.end();
    this.emit(completionItem(this.results, reason));
  }

  private onState(state: ResilientState): void {
    this.budget?.running(state === 'streaming' || state === 'renewing');
    if (state === 'streaming') {
      this.sessionOutage.recovered('streaming again');
      this.hooks.streaming();
      // A file is uploaded as it streams: whether it is a video at all shows only with
      // its first result (or the server's answer that none could be read), a second or
      // two later; activation waits for that, so a file that is not a video fails it.
      if (this.live) this.settleFirst?.({ kind: 'streaming' });
    } else if (state === 'complete') {
      this.settleFirst?.({ kind: 'streaming' });
    } else if (state === 'failed') {
      this.failed(this.lastError ?? new RoboflowError('network', 'The stream failed'));
    }
  }

  /** Before activation returned: the activation fails with it. After: reported once. */
  private failed(error: RoboflowError): void {
    if (this.settleFirst) this.settleFirst({ kind: 'failed', error });
    else this.fatal(error);
  }

  /** The camera this host reads: open (once, and again after an outage), away (logged once), the gate's sessions. */
  private wireCamera(camera: TriggerCamera): void {
    const name = `Roboflow camera ${redact(this.settings.target)}`;
    const outage = new OutageLog(this.logger, name);
    let opened = false;
    let gate: GateNote['state'] | undefined;
    camera.on('camera-open', (info) => {
      if (outage.ongoing) outage.recovered(`open again, ${describeOpen(info)}`);
      else if (!opened) this.logger.info(`${name}: open, ${describeOpen(info)}; ${this.settings.gate ? 'watching for motion' : 'starting the Roboflow session'}`);
      opened = true;
      if (this.settings.gate) {
        // A gated camera that is open has started well: the session waits for motion.
        this.hooks.streaming();
        this.settleFirst?.({ kind: 'streaming' });
      }
    });
    camera.on('camera-lost', ({ attempt, delayMs, error }) => {
      outage.failed(attempt, delayMs, error.message, 'reopening it');
      this.settleFirst?.({ kind: 'retrying' });
    });
    camera.on('camera-ended', () => this.logger.info(`${name}: the video file played to its end (Loop is off): nothing more to analyse until the workflow is published again`));
    camera.on('camera-state', (state) => {
      if (state !== 'failed') return;
      this.cameraFailed = true;
      // The camera's fatal error (a wrong login, no device) is emitted just before its
      // state turns failed; the stream then only stops.
      if (this.lastError) this.failed(this.lastError);
    });
    camera.on('warning', (text) => this.logger.warn(`${name}: ${text}`));
    camera.on('gate', ({ state }) => {
      if (state === gate) return;
      if (state === 'open') this.logger.info(`${name}: motion: starting a Roboflow session`);
      else if (gate === 'open') this.logger.info(`${name}: quiet for ${Math.round((this.settings.gate?.quietMs ?? 0) / 1000)} s: the Roboflow session is closed (not billed); watching for motion`);
      gate = state;
    });
  }

  /** At the limit: the session stops (told once a day with emitError); after midnight it starts again. */
  private wireBudget(budget: TriggerBudget): void {
    budget.onExhausted((firstToday) => void this.budgetReached(budget, firstToday));
    budget.onAvailable(() => {
      if (this.closed || !this.pausedForBudget) return;
      this.pausedForBudget = false;
      this.logger.info(`Roboflow stream: the stream budget is available again (${budget.describe()}); starting`);
      this.handle.stream.start();
    });
  }

  private async budgetReached(budget: TriggerBudget, firstToday: boolean): Promise<void> {
    if (this.closed || this.pausedForBudget) return;
    this.pausedForBudget = true;
    const text = `Daily stream budget reached (${budget.describe()}): the Roboflow session is stopped until midnight (local time); raise Daily Limit on the trigger to go on today`;
    this.logger.warn(`Roboflow stream: ${text}`);
    this.settleFirst?.({ kind: 'waiting' });
    await this.handle.stream.stop();
    // Once a day, whatever n8n does with the trigger afterwards: its error workflow is
    // how a user learns that the camera is no longer analysed.
    if (firstToday && !this.closed) this.context.emitError(nodeError(this.context.getNode(), new RoboflowError('aborted', text)));
  }

  /** After activation: tell n8n once (it deactivates the trigger and retries it), then stop. */
  private fatal(error: RoboflowError): void {
    if (this.reported || this.closed) return;
    this.reported = true;
    this.hooks.fatal(error);
    this.context.emitError(nodeError(this.context.getNode(), error));
    void this.close();
  }
}

/**
 * The active (published) workflow's trigger. Activation waits for the first session's
 * outcome (bounded): a start refused for a reason a retry cannot fix (including a
 * camera this host cannot open for good: a wrong login, no ffmpeg, a missing device)
 * fails the activation with our message; a transient failure or a slow start lets it
 * succeed and the engine keeps retrying. Failed starts are remembered (FailureMemory) so
 * n8n's own retries of the activation cost no server call until the backoff allows one.
 */
export async function runActive(context: ITriggerFunctions, settings: TriggerSettings, connection: RoboflowConnection, logger: Logger, options: ActiveOptions): Promise<ITriggerResponse> {
  const node = context.getNode();
  const key = `${context.getWorkflow().id ?? ''}\u0000${node.id}`;
  const fingerprint = fingerprintOf(settings, connection);
  const remembered = options.failures.blocked(key, fingerprint, options.now());
  if (remembered) throw nodeError(node, rememberedMessage(remembered));
  const failedStart = (caught: unknown): Error => {
    const error = toRoboflowError(caught, 'invalid-input');
    const { retryInMs } = options.failures.record(key, fingerprint, error, options.now());
    logger.warn(`Roboflow stream: start failed (${error.message}); n8n's retries wait ${Math.ceil(retryInMs / 1000)} s before the next real attempt`);
    return nodeError(node, error);
  };

  let handle: StreamHandle;
  try {
    handle = await options.openStream(settings, connection, logger, options.pipelineMemory?.read());
  } catch (error) {
    throw failedStart(error);
  }
  const run = new ActiveRun(
    context,
    settings,
    handle,
    logger,
    {
      streaming: () => options.failures.forget(key),
      fatal: (error) => void options.failures.record(key, fingerprint, error, options.now()),
    },
    options.budget,
    options.pipelineMemory,
  );
  try {
    await options.budget?.open();
  } catch (error) {
    await run.close();
    throw nodeError(node, error);
  }
  const first = await run.start(options.firstOutcomeMs);
  if (first.kind === 'failed') {
    await run.close();
    throw failedStart(first.error);
  }
  if (first.kind === 'pending') logger.info(`Roboflow stream: no answer yet after ${options.firstOutcomeMs / 1000} s; the trigger stays active and reports a later failure`);
  // n8n writes the static data once the activation has finished.
  options.pipelineMemory?.saved();
  if (handle.pipeline) options.shutdown.watch();
  return { closeFunction: () => run.deactivate(options.shutdown) };
}
