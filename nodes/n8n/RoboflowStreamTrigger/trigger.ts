import type { ITriggerFunctions, ITriggerResponse } from 'n8n-workflow';
import type { CameraLogin, RoboflowConnection } from '../../../lib';
import { connectionOf } from '../shared/connection';
import { nodeError } from '../shared/errors';
import { FIRST_OUTCOME_MS, runActive } from './active';
import { failedStarts, type FailureMemory } from './failure-memory';
import { MANUAL_TIMEOUT_MS, runManual } from './manual';
import { loggerOf, openStream, type OpenStream } from './open-stream';
import { readSettings, usesCameraLogin, type TriggerSettings } from './settings';

/** What the trigger is built from; the fast tests replace the stream and the clock. */
export interface StreamTriggerDependencies {
  openStream: OpenStream;
  failures: FailureMemory;
  firstOutcomeMs: number;
  manualTimeoutMs: number;
  now: () => number;
}

export const defaultDependencies: StreamTriggerDependencies = {
  openStream,
  failures: failedStarts,
  firstOutcomeMs: FIRST_OUTCOME_MS,
  manualTimeoutMs: MANUAL_TIMEOUT_MS,
  now: Date.now,
};

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
    settings = readSettings(context, cameraLogin);
    connection = await connectionOf(context);
  } catch (error) {
    throw nodeError(node, error);
  }
  const logger = loggerOf(context);
  if (context.getMode() === 'manual') return runManual(context, settings, connection, logger, { openStream: deps.openStream, timeoutMs: deps.manualTimeoutMs });
  return runActive(context, settings, connection, logger, deps);
}
