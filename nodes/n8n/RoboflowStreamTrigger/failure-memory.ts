import { createHash } from 'node:crypto';
import { DEFAULT_RECONNECT, RoboflowError, reconnectDelay, type ReconnectPolicy, type RoboflowConnection } from '../../../lib';
import type { TriggerSettings } from './settings';

/**
 * Backoff between real start attempts of a trigger whose start failed for good (bad
 * key, unknown workflow, bad outputs or specification, invalid input): the engine's
 * reconnect delay, from 5 s up to 5 minutes. The user has to change something; until
 * then a retry only costs a request (and, on the hosted service, counts towards limits).
 */
export const FAILED_START_POLICY: ReconnectPolicy = { ...DEFAULT_RECONNECT, initialMs: 5_000, maxMs: 5 * 60_000 };

interface Failure {
  fingerprint: string;
  error: RoboflowError;
  failures: number;
  /** No new start attempt before this time (ms since the epoch). */
  retryAt: number;
  lastAt: number;
}

/** What a refused activation tells the user: the original cause, and when we try again. */
export interface RememberedFailure {
  error: RoboflowError;
  failures: number;
  retryInMs: number;
}

/**
 * What a trigger remembers of failed starts, per workflow and node, across the
 * trigger() calls n8n makes: n8n 2.41 retries a failed activation up to 5 times in
 * 15 s, re-registers a trigger that reported an error, and its publication reconciler
 * re-adds missing triggers every 10 s. Whatever n8n does, one (workflow, node) with
 * unchanged settings makes at most one real start per backoff step; changed settings
 * (a fixed workflow ID, another key) start afresh. Bounded in size and in age.
 */
export class FailureMemory {
  private readonly entries = new Map<string, Failure>();

  constructor(
    private readonly policy: ReconnectPolicy = FAILED_START_POLICY,
    private readonly limits = { entries: 500, forgetAfterMs: 60 * 60_000 },
    private readonly random: () => number = Math.random,
  ) {}

  /** The remembered failure when a start with these settings must wait; undefined when it may go ahead. */
  blocked(key: string, fingerprint: string, now: number): RememberedFailure | undefined {
    const entry = this.entries.get(key);
    if (entry?.fingerprint !== fingerprint || now >= entry.retryAt) return undefined;
    return { error: entry.error, failures: entry.failures, retryInMs: entry.retryAt - now };
  }

  /** Records a failed start; returns how long until the next attempt may be made. */
  record(key: string, fingerprint: string, error: RoboflowError, now: number): RememberedFailure {
    this.prune(now);
    const previous = this.entries.get(key);
    const failures = previous?.fingerprint === fingerprint ? previous.failures + 1 : 1;
    const delay = reconnectDelay(failures, error, this.policy, this.random);
    this.entries.delete(key); // Re-inserted last: the Map's order is the age order.
    this.entries.set(key, { fingerprint, error, failures, retryAt: now + delay, lastAt: now });
    return { error, failures, retryInMs: delay };
  }

  /** A session streamed: the next failure starts from the first backoff step. */
  forget(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.lastAt > this.limits.forgetAfterMs) this.entries.delete(key);
    }
    while (this.entries.size >= this.limits.entries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

/** One memory for the whole n8n process: n8n makes a new node context per activation. */
export const failedStarts = new FailureMemory();

/** The settings and connection a start depends on, as a hash (the API key never kept as such). */
export function fingerprintOf(settings: TriggerSettings, connection: RoboflowConnection): string {
  const plain = {
    ...settings,
    objects: settings.objects ? { ...settings.objects, events: [...settings.objects.events].sort() } : undefined,
  };
  return createHash('sha256')
    .update(JSON.stringify([plain, connection]))
    .digest('hex');
}

/** The message of an activation refused from memory: the cause, and when we try again. */
export function rememberedMessage(remembered: RememberedFailure): RoboflowError {
  const seconds = Math.max(1, Math.ceil(remembered.retryInMs / 1000));
  return new RoboflowError(remembered.error.code, `${remembered.error.message} (not retried: the last start with these settings failed; next attempt in ${seconds} s, or at once after a change)`, {
    ...(remembered.error.status !== undefined ? { status: remembered.error.status } : {}),
    ...(remembered.error.detail ? { detail: remembered.error.detail } : {}),
  });
}
