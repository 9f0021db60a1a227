import { backoffDelay, type BackoffOptions } from '../backoff';
import type { ErrorCode, RoboflowError } from '../errors';

/** When and how fast a live stream reconnects. One policy for every live stream. */
export interface ReconnectPolicy extends BackoffOptions {
  /** Failed attempts in a row before giving up (Infinity: keep trying). */
  maxAttempts: number;
  /** Never retry sooner than this after "workspace stream limit reached". */
  streamLimitDelayMs: number;
  /** A session that stayed up this long starts the attempt count afresh. */
  stableAfterMs: number;
}

export const DEFAULT_RECONNECT: ReconnectPolicy = {
  initialMs: 1_000,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.3,
  maxAttempts: Number.POSITIVE_INFINITY,
  streamLimitDelayMs: 30_000,
  stableAfterMs: 30_000,
};

/** Errors a retry cannot fix: the user must change something first. */
const FATAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'missing-api-key',
  'invalid-api-key',
  'forbidden',
  'out-of-credits',
  'not-found',
  'key-paused',
  'bad-request',
  'invalid-workflow',
  'invalid-outputs',
  'invalid-input',
  'aborted',
]);

export function isFatal(error: RoboflowError): boolean {
  return FATAL.has(error.code);
}

/** Delay before reconnect attempt `attempt` (1-based) after `error`. */
export function reconnectDelay(attempt: number, error: RoboflowError, policy: ReconnectPolicy = DEFAULT_RECONNECT, random: () => number = Math.random): number {
  const delay = backoffDelay(attempt, policy, random);
  const floor = error.code === 'stream-limit' ? policy.streamLimitDelayMs : 0;
  return Math.max(delay, floor, error.retryAfterMs ?? 0);
}
