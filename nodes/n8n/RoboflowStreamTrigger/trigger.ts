import type { ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';
import type { CameraLogin, RoboflowConnection } from '../../../lib';
import { connectionOf } from '../shared/connection';
import { nodeError } from '../shared/errors';
import { FIRST_OUTCOME_MS, runActive } from './active';
import { DEFAULT_BUDGET_CLOCK, TriggerBudget, budgetMemory, budgetStore, type BudgetClock, type BudgetMemory } from './budget';
import { failedStarts, type FailureMemory } from './failure-memory';
import { MANUAL_TIMEOUT_MS, runManual } from './manual';
import { engineLoggerOf, loggerOf, openStream, type OpenStream } from './open-stream';
import { PipelineMemory } from './pipeline-memory';
import { readSettings, usesCameraLogin, type TriggerSettings } from './settings';
import { n8nShutdown, type ShutdownSignal } from './shutdown';

/** What the trigger is built from; the fast tests replace the stream and the clocks. */
export interface StreamTriggerDependencies {
  openStream: OpenStream;
  failures: FailureMemory;
  firstOutcomeMs: number;
  manualTimeoutMs: number;
  now: () => number;
  budgetMemory: BudgetMemory;
  /** The budget's clock (local midnight starts a new day) and how often it counts. */
  budgetClock: BudgetClock;
  /** Tells a closeFunction called by n8n's shutdown from one called by a deactivation. */
  shutdown: ShutdownSignal;
}

export const defaultDependencies: StreamTriggerDependencies = {
  openStream,
  failures: failedStarts,
  firstOutcomeMs: FIRST_OUTCOME_MS,
  manualTimeoutMs: MANUAL_TIMEOUT_MS,
  now: Date.now,
  budgetMemory,
  budgetClock: DEFAULT_BUDGET_CLOCK,
  shutdown: n8nShutdown,
};

/**
 * The trigger's budget over its static data and the process memory. Static data is
 * n8n's per workflow and per node name (`node:<name>`): so is the key.
 */
function budgetOf(context: ITriggerFunctions, settings: TriggerSettings, logger: ReturnType<typeof loggerOf>, deps: StreamTriggerDependencies): TriggerBudget | undefined {
  if (!settings.budget) return undefined;
  const node = context.getNode();
  const key = `${context.getWorkflow().id ?? ''}\u0000${node.name}`;
  return new TriggerBudget({
    settings: settings.budget,
    key,
    streamId: node.id,
    store: budgetStore(context.getWorkflowStaticData('node'), deps.budgetMemory, key),
    memory: deps.budgetMemory,
    clock: deps.budgetClock,
    logger,
  });
}

/**
 * The Stream Trigger's body: settings and credentials read and checked (a mistake fails
 * the activation or the test run with what to fix), then one of two paths: "Test step"
 * (runManual) or the published workflow (runActive).
 */
export async function runStreamTrigger(context: ITriggerFunctions, dependencies: Partial<StreamTriggerDependencies> = {}): Promise<ITriggerResponse> {
  const deps = { ...defaultDependencies, ...dependencies };
  const node = context.getNode();
  let settings: TriggerSettings;
  let connection: RoboflowConnection;
  try {
    const cameraLogin = usesCameraLogin(context) ? await context.getCredentials<CameraLogin>('roboflowCameraLoginApi') : undefined;
    connection = await connectionOf(context);
    settings = readSettings(context, cameraLogin, connection.plan);
  } catch (error) {
    throw nodeError(node, error);
  }
  const logger = loggerOf(context);
  const budget = budgetOf(context, settings, logger, deps);
  // The engine's own notes go to debug; the trigger logs what the user must know.
  const openWithEngineLog: OpenStream = (given, connected, _logger, resume) => deps.openStream(given, connected, engineLoggerOf(logger), resume);
  // A test run starts a pipeline of its own and terminates it: it never re-attaches.
  if (context.getMode() === 'manual') return runManual(context, settings, connection, logger, { openStream: openWithEngineLog, timeoutMs: deps.manualTimeoutMs, budget });
  const pipelineMemory = settings.pipeline ? new PipelineMemory(context.getWorkflowStaticData('node'), logger) : undefined;
  return runActive(context, settings, connection, logger, { ...deps, openStream: openWithEngineLog, budget, pipelineMemory });
}
