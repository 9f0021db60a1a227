import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';
import {
  AlertPolicy,
  ObjectEvents,
  RoboflowError,
  describeEvent,
  describeObject,
  detectionsIn,
  parseZonesAndLines,
  renderSnapshot,
  toImageBuffer,
  videoTimeMs,
  type Anchor,
  type Detection,
  type ObjectEvent,
  type ObjectState,
  type TimeFormat,
} from '../../../lib';
import type { Translate } from '../common/i18n';
import { nameList } from '../common/properties';
import type { Send } from '../common/register';
import { showStatus } from '../common/status';

export interface ObjectsProperties {
  name: string;
  /** Where the detections are in msg.payload (default "predictions"). */
  predictions: string;
  anchor: Anchor;
  /** "arrival": times are when results arrive (live sources); "video": the frame's time in the video (files, deterministic). */
  clock: 'arrival' | 'video';
  /** Seconds unseen before an object has left. */
  leaveAfter: number | string;
  /** Seconds between update events of an object (0: none). */
  updateEvery: number | string;
  classes: string;
  minConfidence: number | string;
  /** JSON: {"zones": [{name, polygon}], "lines": [{name, from, to}]}. */
  areas: string;
  alertClasses: string;
  /** A number, or JSON {"person": 0.8, "*": 0.5}. */
  alertConfidence: string;
  /** Seconds present before an alert. */
  alertDwell: number | string;
  alertZones: string;
  /** Alerts per minute at most (0: no cap). */
  alertRate: number | string;
  snapshot: boolean | string;
  version: number;
}

function seconds(value: number | string, fallback: number): number {
  const n = Number(value);
  return value === '' || !Number.isFinite(n) || n < 0 ? fallback : n;
}

function confidenceRule(text: string): number | Record<string, number> | undefined {
  if (!text || !String(text).trim()) return undefined;
  const n = Number(text);
  if (Number.isFinite(n)) return n;
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && Object.values(value).every((v) => typeof v === 'number')) return value as Record<string, number>;
  } catch {
    // Reported below.
  }
  throw new RoboflowError('invalid-input', 'Alert confidence must be a number or JSON such as {"person": 0.8, "*": 0.5}');
}

/** A workflow image output in the results ({type: "base64", value}), rendered by the workflow with its boxes. */
function renderedImage(payload: unknown): Buffer | undefined {
  if (!payload || typeof payload !== 'object') return undefined;
  for (const value of Object.values(payload as Record<string, unknown>)) {
    if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'base64' && typeof (value as { value?: unknown }).value === 'string') {
      return toImageBuffer(value);
    }
  }
  return undefined;
}

function placeOf(name: string, box: { x: number; y: number }): string {
  return `${name}|${box.x}|${box.y}`;
}

/** A frame's detections by class and centre (the first of each): finding an alert's own box costs one lookup. */
function indexDetections(detections: readonly Detection[]): Map<string, Detection> {
  const index = new Map<string, Detection>();
  for (const detection of detections) {
    const key = placeOf(detection.class, detection);
    if (!index.has(key)) index.set(key, detection);
  }
  return index;
}

/**
 * Maps a Roboflow Objects node onto the engine's objects module: results messages of a
 * Roboflow Stream node in, alerts (with a snapshot), object events and counts out.
 * Processed video frames (the Stream node's second output, wired in too) are kept as the
 * picture for the next alert.
 */
export class ObjectsController {
  private readonly objects: ObjectEvents;
  private readonly policy: AlertPolicy;
  private readonly snapshot: boolean;
  private readonly field: string;
  private latestFrame: Buffer | undefined;
  private lastCounts = '';
  private readonly ticker: NodeJS.Timeout | undefined;
  private send: Send = (msg) => this.node.send(msg);
  private alerts = 0;
  private lastTime = 0;
  private warnedTooMany = false;

  constructor(
    private readonly node: Node,
    private readonly config: ObjectsProperties,
    private readonly t: Translate,
  ) {
    const areas = parseZonesAndLines(config.areas);
    this.field = config.predictions?.trim() || 'predictions';
    this.objects = new ObjectEvents({
      zones: areas.zones,
      lines: areas.lines,
      anchor: config.anchor === 'center' ? 'center' : 'bottom',
      leaveAfterMs: seconds(config.leaveAfter, 1) * 1000,
      updateEveryMs: seconds(config.updateEvery, 0) * 1000,
      classes: nameList(config.classes),
      minConfidence: seconds(config.minConfidence, 0),
    });
    const known = new Set(areas.zones.map((zone) => zone.name));
    const alertZones = nameList(config.alertZones);
    const unknown = alertZones.filter((zone) => !known.has(zone));
    if (unknown.length > 0) throw new RoboflowError('invalid-input', `Alert zones not defined in the zones: ${unknown.join(', ')}`);
    this.policy = new AlertPolicy({
      classes: nameList(config.alertClasses),
      minConfidence: confidenceRule(config.alertConfidence),
      minDwellMs: seconds(config.alertDwell, 0) * 1000,
      zones: alertZones,
      maxPerMinute: seconds(config.alertRate, 0) > 0 ? seconds(config.alertRate, 0) : undefined,
    });
    this.snapshot = config.snapshot !== false && config.snapshot !== 'false';
    // With live sources, objects must also leave when results stop coming.
    if (config.clock !== 'video') this.ticker = setInterval(() => void this.emit(this.objects.expire(Date.now()), [], Date.now()), 500);
    showStatus(this.node, 'idle', this.t('status.waiting'));
  }

  async handle(msg: NodeMessageInFlow, send: Send): Promise<void> {
    this.send = send;
    if (msg.topic === 'reset') {
      // Everyone is forgotten, alerts included: a workflow tracker id seen again alerts again.
      for (const event of this.objects.end()) if (event.type === 'leave') this.policy.forget(event.object.id);
      this.lastCounts = '';
      this.sendCounts(true);
      return;
    }
    // The Stream node's stats answer travels on the results output: not detections.
    if (msg.topic === 'stats') return;
    if (msg.topic === 'counts') {
      this.sendCounts(true);
      return;
    }
    // A processed video frame from the Stream node's second output: the next snapshot.
    if (Buffer.isBuffer(msg.payload)) {
      this.latestFrame = msg.payload;
      return;
    }
    if ((msg as { complete?: unknown }).complete === true) {
      await this.emit(this.objects.end(), [], this.lastTime, msg);
      return;
    }
    const now = this.timeOf(msg);
    this.lastTime = now;
    const given = (msg as { image?: unknown }).image;
    const picture = renderedImage(msg.payload) ?? (Buffer.isBuffer(given) ? given : undefined);
    if (picture) this.latestFrame = picture;
    const detections = this.detectionsOf(msg);
    const events = this.objects.update(detections.list, now);
    // Said once: a workflow returning thousands of boxes a frame is worth knowing about.
    if (this.objects.lastFrame.skipped > 0 && !this.warnedTooMany) {
      this.warnedTooMany = true;
      this.node.warn(this.t('warn.tooMany', { count: detections.list.length, max: this.objects.lastFrame.followed }));
    }
    await this.emit(events, detections.list, now, msg, detections.size);
  }

  close(): void {
    clearInterval(this.ticker);
  }

  /** The latest picture of the scene (for the editor's zone preview), if any came in. */
  get preview(): Buffer | undefined {
    return this.latestFrame;
  }

  private timeOf(msg: NodeMessageInFlow): number {
    if (this.config.clock !== 'video') return Date.now();
    const time = videoTimeMs((msg as { frame?: unknown }).frame);
    if (time === undefined) throw new RoboflowError('invalid-input', 'With the "video time" clock each message needs msg.frame (from a Roboflow Stream node)');
    return time;
  }

  private detectionsOf(msg: NodeMessageInFlow): { list: Detection[]; size?: { width: number; height: number } } {
    const found = detectionsIn(msg.payload, this.field);
    if (!found) throw new RoboflowError('invalid-input', `No detections in msg.payload.${this.field}: wire a Roboflow Stream node whose data outputs include "${this.field}"`);
    return { list: found.detections, size: found.imageSize };
  }

  private async emit(events: ObjectEvent[], detections: Detection[], now: number, msg?: NodeMessageInFlow, size?: { width: number; height: number }): Promise<void> {
    const send = this.send;
    for (const event of events) {
      if (event.type === 'leave') this.policy.forget(event.object.id);
      send([null, { topic: event.type, payload: this.eventPayload(event) }, null]);
    }
    const decision = this.policy.check(this.objects.objects(), now);
    const byPlace = decision.alerts.length > 0 ? indexDetections(detections) : new Map<string, Detection>();
    for (const object of decision.alerts) {
      this.alerts++;
      const alert: NodeMessage = { topic: 'alert', payload: this.alertPayload(object), object: this.describe(object), predictions: { image: size, predictions: [this.detectionOf(object, byPlace)] } };
      if (this.snapshot && msg) {
        const image = await this.snapshotFor(object, msg, detections, byPlace, size);
        if (image) alert.image = image;
      }
      send([alert, null, null]);
    }
    this.sendCounts(false);
  }

  private sendCounts(always: boolean): void {
    const counts = this.objects.counts();
    const text = JSON.stringify(counts);
    const zones = Object.entries(counts.zones).map(([name, zone]) => `${name}: ${zone.count}`);
    showStatus(this.node, counts.objects > 0 ? 'live' : 'idle', this.t('status.counts', { objects: counts.objects, alerts: this.alerts }) + (zones.length ? ` · ${zones.join(', ')}` : ''));
    if (!always && text === this.lastCounts) return;
    this.lastCounts = text;
    this.send([null, null, { topic: 'counts', payload: counts }]);
  }

  private async snapshotFor(
    object: ObjectState,
    msg: NodeMessageInFlow,
    detections: Detection[],
    byPlace: Map<string, Detection>,
    size?: { width: number; height: number },
  ): Promise<Buffer | undefined> {
    const rendered = renderedImage(msg.payload);
    const given = (msg as { image?: unknown }).image;
    const image = rendered ?? (Buffer.isBuffer(given) ? given : this.latestFrame);
    if (!image) return undefined;
    const boxes = detections.map((detection) => ({ box: detection, label: `${detection.class} ${detection.confidence.toFixed(2)}`, highlight: false }));
    const mine = this.detectionOf(object, byPlace);
    const drawn = [...boxes.filter((b) => b.box !== mine), { box: mine, label: `${object.class} ${object.confidence.toFixed(2)}`, highlight: true }];
    const snapshot = await renderSnapshot(image, drawn, { draw: !rendered, sourceSize: size });
    return snapshot.jpeg;
  }

  /** The detection of this frame that is the object (its last box). */
  private detectionOf(object: ObjectState, byPlace: Map<string, Detection>): Detection {
    return byPlace.get(placeOf(object.class, object.box)) ?? { ...object.box, class: object.class, confidence: object.confidence };
  }

  private describe(object: ObjectState): Record<string, unknown> {
    return describeObject(object, this.timeFormat);
  }

  private eventPayload(event: ObjectEvent): Record<string, unknown> {
    return describeEvent(event, this.timeFormat);
  }

  private get timeFormat(): TimeFormat {
    return this.config.clock === 'video' ? 'video' : 'wall';
  }

  /** Shaped for the Vision Event node: alertType and description become a safety alert's event data, the rest custom metadata. */
  private alertPayload(object: ObjectState): Record<string, unknown> {
    const where = object.zones.length > 0 ? ` in ${object.zones.join(', ')}` : '';
    return {
      alertType: object.class,
      description: `${object.class}${where}`,
      objectId: object.id,
      class: object.class,
      confidence: Math.round(object.maxConfidence * 1000) / 1000,
      zones: object.zones.join(', '),
      dwell: object.dwellMs / 1000,
    };
  }
}
