import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { backoffDelay, sleep, type BackoffOptions } from '../backoff';
import { RoboflowError, toRoboflowError } from '../errors';
import { TypedEmitter } from '../events';
import { safeLogger, type Logger } from '../logger';
import { JsonFile, fields } from '../persist';
import { EVENT_TYPES, checkEventImage, type ObjectDetection, type VisionEvent } from './builder';
import { MAX_BATCH, type VisionEventsClient } from './client';
import { DeadLetterFile, type DeadLetterLimits } from './dead-letter';
import { deliverEvents, isEventFault } from './deliver';

/** One event waiting to be delivered, with the image to upload and attach first. */
interface OutboxEntry {
  event: VisionEvent;
  /** File holding the image still to upload (durable outboxes). */
  imageFile?: string;
  detections?: ObjectDetection[];
  queuedAt: number;
  /** Size of the image once read (kept in the dead-letter record; the image itself is not). */
  imageBytes?: number;
}

export interface OutboxOptions {
  client: VisionEventsClient;
  /** Where the queue survives restarts. Without one, the queue lives in memory. */
  directory?: string;
  /** Events held at most; beyond it the oldest are dropped (and reported). Default 10,000. */
  maxEntries?: number;
  /** Events per request (at most 100). */
  batchSize?: number;
  /**
   * Under load, how long to let a partly filled batch fill up before sending it (ms).
   * The first event after a quiet spell goes at once; only back-to-back batches wait,
   * so a steady stream of events goes in full batches. Default 100.
   */
  lingerMs?: number;
  retry?: Partial<BackoffOptions>;
  /** Bounds of the dead-letter file (default 1,000 events, 10 MiB). */
  deadLetter?: DeadLetterLimits;
  logger?: Logger;
  /**
   * Told what the user should hear about once, as it happens (a queue file that was
   * unusable and set aside when opening). Default: the logger's warn.
   */
  onWarning?: (message: string) => void;
}

export interface OutboxEvents {
  /** Delivered (the ids are the events' own: a retry never duplicates). */
  sent: [{ eventIds: string[]; requests: number }];
  /**
   * The service refused an event for good (a 4xx a retry cannot change: invalid, image
   * too large, ...): it left the queue, which goes on with the events behind it, and is
   * kept in the dead-letter file (`deadLetters` events there now) when there is one.
   */
  rejected: [{ eventId: string; error: RoboflowError; deadLetters: number; file?: string }];
  /** Delivery failed for a reason that may pass; the queue waits and tries again. */
  retrying: [{ pending: number; delayMs: number; error: RoboflowError }];
  /** The queue was full: the oldest events were dropped. */
  dropped: [{ eventIds: string[]; reason: string }];
  error: [RoboflowError];
}

/** Checks one queue entry read back, field by field; after it, the entry is what this version writes. */
function checkEntry(entry: Record<string, unknown>, what: string, images: string): asserts entry is Record<string, unknown> & OutboxEntry {
  const event = fields.object(entry.event, `${what}: event`);
  fields.text(event.eventId, `${what}: event.eventId`, { nonEmpty: true });
  if (!(EVENT_TYPES as readonly unknown[]).includes(event.eventType)) throw new Error(`${what}: event.eventType is not one of ${EVENT_TYPES.join(', ')}`);
  fields.text(event.useCaseId, `${what}: event.useCaseId`, { nonEmpty: true });
  fields.text(event.timestamp, `${what}: event.timestamp`, { nonEmpty: true });
  for (const key of ['deviceId', 'streamId', 'workflowId']) fields.text(event[key], `${what}: event.${key}`, { optional: true });
  if (event.eventData !== undefined) fields.object(event.eventData, `${what}: event.eventData`);
  if (event.customMetadata !== undefined) fields.object(event.customMetadata, `${what}: event.customMetadata`);
  if (event.images !== undefined) {
    fields.array(event.images, `${what}: event.images`).forEach((item, n) => {
      const image = fields.object(item, `${what}: image ${n + 1}`);
      const source = fields.text(image.sourceId, `${what}: image ${n + 1} sourceId`, { optional: true });
      const input = fields.text(image.inputSourceId, `${what}: image ${n + 1} inputSourceId`, { optional: true });
      if (source === undefined && input === undefined) throw new Error(`${what}: image ${n + 1} has neither sourceId nor inputSourceId`);
    });
  }
  const imageFile = fields.text(entry.imageFile, `${what}: imageFile`, { optional: true });
  // Only our own image folder: a queue file never makes us upload some other file.
  if (imageFile !== undefined && dirname(resolve(imageFile)) !== images) throw new Error(`${what}: imageFile is outside ${images}`);
  if (entry.detections !== undefined) fields.array(entry.detections, `${what}: detections`).forEach((d, n) => fields.object(d, `${what}: detection ${n + 1}`));
  fields.number(entry.queuedAt, `${what}: queuedAt`);
}

/** Reads `outbox.json` back: exactly the entries this version writes, or an Error saying what is not. */
function readEntries(directory: string): (value: unknown) => OutboxEntry[] {
  const images = resolve(directory, 'images');
  return (value) =>
    fields.array(value, 'the queue').map((item, index) => {
      const what = `entry ${index + 1}`;
      const entry = fields.object(item, what);
      checkEntry(entry, what, images);
      return entry;
    });
}

const DEFAULT_RETRY: BackoffOptions = { initialMs: 1_000, maxMs: 60_000, factor: 2, jitter: 0.3 };

/**
 * A durable outbox for Vision Events: events are queued (on disk when a directory is
 * given), images uploaded and attached, and events sent in batches of up to 100, in
 * order. Failures that may pass (network, 5xx, 429) are retried with backoff forever;
 * key problems are reported and retried slowly (the user may fix the key). An event the
 * service refuses for good (a 4xx a retry cannot change, or an image it can never take)
 * is reported, moved to the dead-letter file beside the queue, and the queue goes on: one
 * bad event never blocks the ones behind it, before or after a restart. Nothing is lost
 * across restarts except what the bounds drop, which is reported.
 */
export class EventOutbox extends TypedEmitter<OutboxEvents> {
  private entries: OutboxEntry[] = [];
  private readonly memoryImages = new Map<string, Buffer>();
  private readonly file: JsonFile<OutboxEntry[]> | undefined;
  private readonly deadLetters: DeadLetterFile | undefined;
  private readonly options: OutboxOptions;
  private readonly logger: Logger;
  private readonly retry: BackoffOptions;
  private sending = false;
  private closed = false;
  private readonly abort = new AbortController();
  private failures = 0;
  private saveTimer: NodeJS.Timeout | undefined;
  /** Callers waiting for the next save (enqueue resolves once its event is on disk). */
  private saveWaiters: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  /** Wakes a lingering pump once a full batch is queued (or the outbox closes). */
  private batchFilled: (() => void) | undefined;

  private constructor(options: OutboxOptions) {
    const logger = safeLogger(options.logger);
    super((error) => logger.error(`Vision Events: ${(error as Error)?.message ?? String(error)}`));
    this.options = options;
    this.logger = logger;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    const directory = options.directory;
    this.file = directory
      ? new JsonFile<OutboxEntry[]>(join(directory, 'outbox.json'), {
          validate: readEntries(directory),
          logger: { ...logger, warn: options.onWarning ?? ((message) => logger.warn(message)) },
        })
      : undefined;
    this.deadLetters = directory ? new DeadLetterFile(join(directory, 'dead-letter.jsonl'), options.deadLetter) : undefined;
  }

  /** Opens an outbox, reloading what an earlier run left queued, and starts delivering it. */
  static async open(options: OutboxOptions): Promise<EventOutbox> {
    const outbox = new EventOutbox(options);
    if (options.directory) {
      await mkdir(join(options.directory, 'images'), { recursive: true });
      outbox.entries = (await outbox.file?.load()) ?? [];
      if (outbox.entries.length > 0) outbox.logger.info(`Resuming ${outbox.entries.length} queued Vision Events`);
    }
    void outbox.pump();
    return outbox;
  }

  get pending(): number {
    return this.entries.length;
  }

  /**
   * Queues an event (and its image); delivery happens in the background. With a
   * directory, resolves once the event is on disk: a crash after that loses nothing.
   */
  async enqueue(event: VisionEvent, image?: Buffer, detections?: ObjectDetection[]): Promise<void> {
    if (this.closed) throw new RoboflowError('invalid-input', 'The Vision Events queue is closed');
    // Refused now, not after retries: the service would never take it.
    if (image) checkEventImage(image);
    const entry: OutboxEntry = { event, queuedAt: Date.now(), ...(detections && detections.length > 0 ? { detections } : {}) };
    if (image) {
      if (this.options.directory) {
        entry.imageFile = join(this.options.directory, 'images', `${event.eventId}.img`);
        await writeFile(entry.imageFile, image);
      } else {
        this.memoryImages.set(event.eventId, image);
      }
    }
    this.entries.push(entry);
    const max = this.options.maxEntries ?? 10_000;
    if (this.entries.length > max) {
      const dropped = this.entries.splice(0, this.entries.length - max);
      for (const old of dropped) await this.forgetImage(old);
      this.logger.warn(`Vision Events queue full (${max}): dropped the ${dropped.length} oldest`);
      this.emit('dropped', { eventIds: dropped.map((old) => old.event.eventId), reason: `queue full (${max})` });
    }
    const saved = this.scheduleSave();
    if (this.entries.length >= this.batchLimit()) this.batchFilled?.();
    void this.pump();
    await saved;
  }

  /** Resolves once the queue is empty (or after `timeoutMs`, rejecting). */
  drained(timeoutMs = 30_000): Promise<void> {
    if (this.entries.length === 0 && !this.sending) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.entries.length} events still queued after ${timeoutMs} ms`)), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops delivering and saves what is left for the next run. `discard` also deletes it. */
  async close(options: { discard?: boolean } = {}): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.batchFilled?.();
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    while (this.sending) await sleep(10);
    if (options.discard) {
      for (const entry of this.entries) await this.forgetImage(entry);
      if (this.entries.length > 0) this.logger.warn(`Discarded ${this.entries.length} undelivered Vision Events`);
      this.entries = [];
      await this.file?.remove();
    } else {
      await this.file?.save(this.entries);
    }
    this.releaseSaveWaiters();
  }

  /**
   * Saves the queue soon; resolves once a save that includes the current entries is done.
   * Bursts are coalesced (group commit): one write per 50 ms at most, however many events.
   */
  private scheduleSave(): Promise<void> {
    if (!this.file) return Promise.resolve();
    const saved = new Promise<void>((resolve) => this.saveWaiters.push(resolve));
    this.saveTimer ??= setTimeout(() => {
      this.saveTimer = undefined;
      const waiters = this.takeSaveWaiters();
      void this.file
        ?.save(this.entries)
        .catch((error: unknown) => this.logger.error(`Could not save the Vision Events queue: ${(error as Error).message}`))
        .finally(() => waiters.forEach((resolve) => resolve()));
    }, 50);
    return saved;
  }

  private takeSaveWaiters(): Array<() => void> {
    const waiters = this.saveWaiters;
    this.saveWaiters = [];
    return waiters;
  }

  private releaseSaveWaiters(): void {
    this.takeSaveWaiters().forEach((resolve) => resolve());
  }

  private async forgetImage(entry: OutboxEntry): Promise<void> {
    this.memoryImages.delete(entry.event.eventId);
    if (entry.imageFile) await rm(entry.imageFile, { force: true });
  }

  /** Uploads the entry's image (once) and attaches it to the event. */
  private async attachImage(entry: OutboxEntry): Promise<void> {
    const image = entry.imageFile ? await readFile(entry.imageFile).catch(() => undefined) : this.memoryImages.get(entry.event.eventId);
    if (!image) {
      if (entry.imageFile) {
        this.logger.warn(`Image for event ${entry.event.eventId} is gone; sending the event without it`);
        entry.imageFile = undefined;
      }
      return;
    }
    // An image queued by an older version (or changed on disk) that the service can never take.
    entry.imageBytes = image.byteLength;
    checkEventImage(image);
    const { sourceId } = await this.options.client.uploadImage(image, { signal: this.abort.signal });
    entry.event.images = [{ sourceId, ...(entry.detections ? { objectDetections: entry.detections } : {}) }, ...(entry.event.images ?? [])];
    // The uploaded image is the one to show (first in the list), as Roboflow's own block says.
    entry.event.displayImagePosition = 0;
    await this.forgetImage(entry);
    entry.imageFile = undefined;
    void this.scheduleSave();
  }

  private remove(batch: OutboxEntry[]): void {
    const done = new Set(batch);
    this.entries = this.entries.filter((entry) => !done.has(entry));
    void this.scheduleSave();
  }

  /** An event the service will never take: out of the queue, into the dead-letter file, reported. */
  private async bury(entry: OutboxEntry, error: RoboflowError): Promise<void> {
    this.remove([entry]);
    await this.forgetImage(entry);
    let deadLetters = 0;
    try {
      deadLetters = (await this.deadLetters?.add(entry.event, error, entry.imageBytes)) ?? 0;
    } catch (caught) {
      this.logger.error(`Could not write the dead-letter file: ${(caught as Error).message}`);
    }
    this.emit('rejected', { eventId: entry.event.eventId, error, deadLetters, ...(this.deadLetters ? { file: this.deadLetters.path } : {}) });
  }

  private async pump(): Promise<void> {
    if (this.sending || this.closed) return;
    this.sending = true;
    try {
      while (!this.closed && this.entries.length > 0) {
        const batch = this.entries.slice(0, this.batchLimit());
        try {
          const ready: OutboxEntry[] = [];
          for (const entry of batch) {
            try {
              await this.attachImage(entry);
              ready.push(entry);
            } catch (caught) {
              const error = toRoboflowError(caught, 'network');
              if (!isEventFault(error)) throw error;
              const refused = error.status === undefined ? error : new RoboflowError(error.code, `Image upload refused: ${error.message}`, { status: error.status });
              await this.bury(entry, refused);
            }
          }
          // One outcome per event, in order.
          const outcomes =
            ready.length > 0
              ? await deliverEvents(
                  this.options.client,
                  ready.map((entry) => entry.event),
                  this.abort.signal,
                )
              : [];
          this.remove(ready.filter((_, index) => outcomes[index].ok));
          const sent = outcomes.filter((outcome) => outcome.ok).map((outcome) => outcome.eventId);
          if (sent.length > 0) this.emit('sent', { eventIds: sent, requests: 1 });
          for (const [index, outcome] of outcomes.entries()) if (!outcome.ok) await this.bury(ready[index], outcome.error);
          this.failures = 0;
          // Busy: give the next batch a moment to fill rather than send a few events per request.
          if (this.entries.length > 0 && this.entries.length < this.batchLimit()) await this.lingerForBatch();
        } catch (caught) {
          if (this.closed) break;
          if (!(await this.waitAfter(toRoboflowError(caught, 'network')))) break;
        }
      }
    } finally {
      this.sending = false;
      if (this.entries.length === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  private batchLimit(): number {
    return Math.max(1, Math.min(MAX_BATCH, this.options.batchSize ?? MAX_BATCH));
  }

  private lingerForBatch(): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        if (this.batchFilled === wake) this.batchFilled = undefined;
        resolve();
      };
      const timer = setTimeout(wake, this.options.lingerMs ?? 100);
      this.batchFilled = wake;
    });
  }

  /** Reports a failure and waits before the next try; false when closing cut the wait short. */
  private async waitAfter(error: RoboflowError): Promise<boolean> {
    this.failures++;
    const delayMs = backoffDelay(this.failures, this.retry);
    if (!error.retryable) this.emit('error', error);
    this.emit('retrying', { pending: this.entries.length, delayMs, error });
    this.logger.warn(`Vision Events: ${error.message}; ${this.entries.length} queued, retrying in ${Math.round(delayMs / 1000)} s`);
    try {
      await sleep(delayMs, this.abort.signal);
      return true;
    } catch {
      return false;
    }
  }
}
