import type { Node, NodeAPI, NodeMessage, NodeMessageInFlow } from 'node-red';
import {
  EVENT_TYPES,
  EventOutbox,
  RoboflowError,
  VisionEventsClient,
  buildEvent,
  readImageSize,
  splitPayload,
  toImageBuffer,
  toObjectDetections,
  toRoboflowError,
  type EventType,
  type VisionEvent,
} from '../../../lib';
import { configNode } from '../common/config';
import type { Translate } from '../common/i18n';
import { asBoolean, evaluate } from '../common/properties';
import type { Send } from '../common/register';
import { reportError, engineLogger } from '../common/report';
import { showStatus } from '../common/status';
import { nodeStorageDir } from '../common/storage';

export interface VisionEventProperties {
  name: string;
  roboflow: string;
  useCase: string;
  useCaseType: string;
  eventType: string;
  deviceId: string;
  streamId: string;
  /** Seconds during which further messages are dropped after an event (0: none). */
  cooldown: number | string;
  /** Create the use case when it does not exist yet. */
  createUseCase: boolean | string;
  version: number;
}

/** How long the message of a queued event is kept to report a late rejection against it. */
const KEEP_MESSAGES = 1_000;

/**
 * Maps a Vision Event node onto the engine: each message becomes an event (payload
 * split into event data and metadata, msg.image uploaded and attached with
 * msg.predictions as its detections), rate-limited by the cooldown, delivered through a
 * durable outbox in the user directory (batched under load, retried through outages,
 * kept across restarts). The message goes on at once with msg.eventId: the id is chosen
 * here, so it is final even while delivery is pending.
 */
export class VisionEventController {
  private outbox: EventOutbox | undefined;
  private opening: Promise<EventOutbox> | undefined;
  private lastAccepted = 0;
  private sent = 0;
  private readonly useCases = new Map<string, string>();
  private readonly messages = new Map<string, NodeMessage>();
  private warnedNoImage = false;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    private readonly config: VisionEventProperties,
    private readonly t: Translate,
  ) {}

  /** Opens the outbox now, so events queued by an earlier run are delivered without waiting for a message. */
  async init(): Promise<void> {
    try {
      await this.open();
    } catch (error) {
      reportError(this.node, error);
    }
  }

  private client(): VisionEventsClient {
    const config = configNode(this.RED, this.config.roboflow);
    return new VisionEventsClient({ connection: config.connection(), http: config.http() });
  }

  private open(): Promise<EventOutbox> {
    this.opening ??= EventOutbox.open({
      client: this.client(),
      directory: nodeStorageDir(this.RED, 'vision-events', this.node.id),
      // Outages are told once by the events below, not at every retry.
      logger: engineLogger(this.node, { quiet: true }),
      onWarning: (message) => this.node.warn(message),
    }).then((outbox) => {
      this.wire(outbox);
      this.outbox = outbox;
      if (outbox.pending > 0) showStatus(this.node, 'busy', this.t('status.queued', { pending: outbox.pending }));
      return outbox;
    });
    this.opening.catch(() => (this.opening = undefined));
    return this.opening;
  }

  private wire(outbox: EventOutbox): void {
    outbox.on('sent', ({ eventIds }) => {
      stalled = false;
      this.sent += eventIds.length;
      for (const id of eventIds) this.messages.delete(id);
      if (outbox.pending === 0) showStatus(this.node, 'live', this.t('status.sent', { count: this.sent }));
      else showStatus(this.node, 'busy', this.t('status.queued', { pending: outbox.pending }));
    });
    // Events stay queued whatever the failure. Say why delivery stalls once per outage,
    // not at every retry: an error when the user must act (a revoked key), else a warning.
    let stalled = false;
    outbox.on('retrying', ({ pending, error }) => {
      showStatus(this.node, error.retryable ? 'retrying' : 'error', this.t('status.retrying', { pending }));
      if (!stalled) {
        if (error.retryable) this.node.warn(this.t('warn.retrying', { pending, reason: error.message }));
        else reportError(this.node, error);
      }
      stalled = true;
    });
    // Refused for good: the error goes to Catch with its message (or its id after a
    // restart), the event to the dead-letter file, and the queue goes on.
    outbox.on('rejected', ({ eventId, error, deadLetters, file }) => {
      const msg = this.messages.get(eventId) ?? { eventId };
      this.messages.delete(eventId);
      reportError(this.node, new RoboflowError(error.code, this.t('error.rejected', { eventId, reason: error.message }), { status: error.status }), msg);
      if (file) this.node.warn(this.t('warn.deadLetter', { count: deadLetters, file }));
    });
    outbox.on('dropped', ({ eventIds, reason }) => this.node.warn(this.t('warn.dropped', { count: eventIds.length, reason })));
  }

  async handle(msg: NodeMessageInFlow, send: Send): Promise<void> {
    const cooldownMs = Math.max(0, Number(this.config.cooldown ?? 1) || 0) * 1000;
    const now = Date.now();
    if (cooldownMs > 0 && now - this.lastAccepted < cooldownMs) {
      showStatus(this.node, 'idle', this.t('status.cooldown'));
      return;
    }
    // Claim the cooldown slot now: messages arriving while this one is being queued are
    // inside it. A message that fails gives the slot back.
    const previousAccepted = this.lastAccepted;
    this.lastAccepted = now;
    let eventId: string | undefined;
    try {
      const event = await this.build(msg);
      const image = msg.image === undefined || msg.image === null ? undefined : toImageBuffer(msg.image);
      const detections = msg.predictions === undefined || msg.predictions === null ? undefined : toObjectDetections(msg.predictions);
      if (detections && !image && !this.warnedNoImage) {
        this.warnedNoImage = true;
        this.node.warn(this.t('warn.predictionsWithoutImage'));
      }
      // The header only (nothing is decoded): an image larger than the decoding cap is refused now.
      if (image) await readImageSize(image);
      const outbox = await this.open();
      // Known before it is queued: delivery starts at once and may be refused at once.
      eventId = event.eventId;
      this.messages.set(eventId, msg);
      if (this.messages.size > KEEP_MESSAGES) this.messages.delete(this.messages.keys().next().value as string);
      // Resolves once the event is on disk: the message goes on only when a crash can no longer lose it.
      await outbox.enqueue(event, image, image ? detections : undefined);
      send({ ...msg, eventId });
    } catch (error) {
      // A message that fails gives its cooldown slot back; registerNode reports it.
      this.lastAccepted = previousAccepted;
      if (eventId) this.messages.delete(eventId);
      throw error;
    }
  }

  private async build(msg: NodeMessageInFlow): Promise<VisionEvent> {
    const eventType = String(msg.eventType ?? this.config.eventType ?? 'custom') as EventType;
    if (!EVENT_TYPES.includes(eventType)) throw new RoboflowError('invalid-input', this.t('error.eventType', { type: eventType, types: EVENT_TYPES.join(', ') }));
    const useCase = msg.useCase ?? (await evaluate(this.RED, this.node, this.config.useCase, this.config.useCaseType, msg));
    if (typeof useCase !== 'string' || !useCase.trim()) throw new RoboflowError('invalid-input', this.t('error.noUseCase'));
    const { eventData, metadata } = splitPayload(eventType, msg.payload);
    return buildEvent({
      eventType,
      useCaseId: await this.resolveUseCase(useCase.trim()),
      timestamp: (msg.timestamp as string | number | undefined) ?? undefined,
      eventData: (msg.eventData as Record<string, unknown> | undefined) ?? eventData,
      metadata,
      deviceId: (msg.deviceId as string | undefined) ?? this.config.deviceId,
      streamId: (msg.streamId as string | undefined) ?? this.config.streamId,
      workflowId: (msg.workflowId as string | undefined) ?? (msg.frame && typeof msg.topic === 'string' ? msg.topic : undefined),
      ...(typeof msg.eventId === 'string' ? { eventId: msg.eventId } : {}),
    });
  }

  /** A use case id from a name or id, looked up once; offline, the text is taken as the id. */
  private async resolveUseCase(nameOrId: string): Promise<string> {
    const known = this.useCases.get(nameOrId);
    if (known) return known;
    try {
      const id = await this.client().resolveUseCase(nameOrId, { create: asBoolean(this.config.createUseCase, false) });
      this.useCases.set(nameOrId, id);
      return id;
    } catch (caught) {
      const error = toRoboflowError(caught);
      if (!error.retryable) throw error;
      this.node.warn(this.t('warn.useCaseOffline', { useCase: nameOrId }));
      return nameOrId;
    }
  }

  async close(removed: boolean): Promise<void> {
    const outbox = this.outbox ?? (await this.opening?.catch(() => undefined));
    await outbox?.close({ discard: removed });
  }
}
