import type { INodeExecutionData, ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';
import { RoboflowError, toRoboflowError, type Logger, type ResilientState, type RoboflowConnection, type StreamResult } from '../../../lib';
import { nodeError } from '../shared/errors';
import { fingerprintOf, rememberedMessage, type FailureMemory } from './failure-memory';
import { FrameFilter, completionItem, frameItem } from './items';
import { ObjectEventEmitter } from './object-event-emitter';
import { once, type OpenStream, type StreamHandle } from './open-stream';
import { isLiveSource, type TriggerSettings } from './settings';

/**
 * How long activation waits for the first session's outcome. A refusal (bad key,
 * unknown workflow, bad outputs) comes back within a second or two and fails the
 * activation itself, so n8n shows it; a hosted cold start can take up to 90 s, and a
 * start still pending after this long has clearly not failed fast: activation returns
 * and a later refusal is reported once with emitError.
 */
export const FIRST_OUTCOME_MS = 25_000;

type FirstOutcome = { kind: 'streaming' | 'retrying' | 'pending' } | { kind: 'failed'; error: RoboflowError };

export interface ActiveOptions {
  openStream: OpenStream;
  failures: FailureMemory;
  firstOutcomeMs: number;
  now: () => number;
}

/**
 * One activation's stream: one execution per wanted frame (or object event), the
 * completion item after a file, and a fatal failure reported to n8n once, after which
 * it stops. A live camera's sessions are renewed by the engine (ResilientStream) when
 * the service ends them; the trigger only logs it.
 */
class ActiveRun {
  private results = 0;
  private lastError: RoboflowError | undefined;
  private reported = false;
  private closed = false;
  private settleFirst: ((outcome: FirstOutcome) => void) | undefined;
  private readonly filter: FrameFilter;
  private readonly objects: ObjectEventEmitter | undefined;
  private readonly live: boolean;

  constructor(
    private readonly context: ITriggerFunctions,
    private readonly settings: TriggerSettings,
    private readonly handle: StreamHandle,
    logger: Logger,
    private readonly hooks: { streaming(): void; fatal(error: RoboflowError): void },
  ) {
    this.live = isLiveSource(settings.source);
    this.filter = new FrameFilter(settings.onlyDetections, settings.throttleMs);
    // One execution per event: a workflow runs once per arriving person, not once per frame.
    this.objects = settings.objects ? new ObjectEventEmitter(settings.objects, !this.live, (items) => items.forEach((item) => this.emit(item)), logger) : undefined;
    const { stream } = handle;
    stream.on('result', (result) => this.onResult(result));
    stream.on('complete', ({ reason }) => this.onComplete(reason));
    stream.on('error', (error) => {
      this.lastError = error;
      logger.warn(`Roboflow stream: ${error.message}`);
    });
    stream.on('reconnecting', ({ attempt, delayMs, error }) => {
      logger.warn(`Roboflow stream reconnecting (${attempt}, in ${delayMs} ms): ${error.message}`);
      this.settleFirst?.({ kind: 'retrying' });
    });
    stream.on('renewing', ({ renewals }) => logger.info(`Roboflow stream: the session reached its processing timeout; renewed (${renewals})`));
    stream.on('state', (state) => this.onState(state));
  }

  /** Starts the stream; resolves with the first outcome, or `pending` after `boundMs`. */
  start(boundMs: number): Promise<FirstOutcome> {
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

  readonly close = once(async () => {
    this.closed = true;
    this.objects?.close();
    await this.handle.close();
  });

  private emit(item: INodeExecutionData): void {
    if (!this.closed) this.context.emit([[item]]);
  }

  private onResult(result: StreamResult): void {
    this.results++;
    if (this.objects) this.objects.result(result);
    else if (this.filter.accepts(result)) this.emit(frameItem(result, this.settings.workflow));
  }

  private onComplete(reason: string | null): void {
    // Only files complete: the engine renews a live source's sessions itself.
    this.objects?.end();
    this.emit(completionItem(this.results, reason));
  }

  private onState(state: ResilientState): void {
    if (state === 'streaming') {
      this.hooks.streaming();
      this.settleFirst?.({ kind: 'streaming' });
    } else if (state === 'complete') {
      this.settleFirst?.({ kind: 'streaming' });
    } else if (state === 'failed') {
      const error = this.lastError ?? new RoboflowError('network', 'The stream failed');
      if (this.settleFirst) this.settleFirst({ kind: 'failed', error });
      else this.fatal(error);
    }
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
 * outcome (bounded): a start refused for a reason a retry cannot fix fails the
 * activation with our message; a transient failure or a slow start lets it succeed and
 * the engine keeps retrying. Failed starts are remembered (FailureMemory) so n8n's own
 * retries of the activation cost no server call until the backoff allows one.
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
    handle = await options.openStream(settings, connection, logger);
  } catch (error) {
    throw failedStart(error);
  }
  const run = new ActiveRun(context, settings, handle, logger, {
    streaming: () => options.failures.forget(key),
    fatal: (error) => void options.failures.record(key, fingerprint, error, options.now()),
  });
  const first = await run.start(options.firstOutcomeMs);
  if (first.kind === 'failed') {
    await run.close();
    throw failedStart(first.error);
  }
  if (first.kind === 'pending') logger.info(`Roboflow stream: no answer yet after ${options.firstOutcomeMs / 1000} s; the trigger stays active and reports a later failure`);
  return { closeFunction: run.close };
}
