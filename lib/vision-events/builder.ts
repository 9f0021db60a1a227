import { randomUUID } from 'node:crypto';
import { RoboflowError } from '../errors';
import { imageType, type ImageType } from '../image';

export const EVENT_TYPES = ['quality_check', 'inventory_count', 'safety_alert', 'custom', 'operator_feedback'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type MetadataValue = string | number | boolean;

export interface ObjectDetection {
  class: string;
  x: number;
  y: number;
  width: number;
  height: number;
  confidence: number;
}

export interface EventImage {
  sourceId: string;
  inputSourceId?: string;
  label?: string;
  objectDetections?: ObjectDetection[];
  classifications?: unknown[];
}

/** A Vision Event in the REST API's shape. */
export interface VisionEvent {
  eventId: string;
  eventType: EventType;
  useCaseId: string;
  timestamp: string;
  eventData?: Record<string, unknown>;
  deviceId?: string;
  streamId?: string;
  workflowId?: string;
  images?: EventImage[];
  /** Which of `images` the dashboard shows: 0 whenever there are images (Roboflow's own block does the same). */
  displayImagePosition?: number;
  customMetadata?: Record<string, MetadataValue>;
}

/**
 * What callers give: the REST fields, or the simple form `{use_case, timestamp,
 * metadata}` some recipes use (it is not an API; it is mapped here).
 */
export interface EventInput {
  eventId?: string;
  eventType?: string;
  useCaseId?: string;
  use_case?: string;
  timestamp?: string | number | Date;
  eventData?: Record<string, unknown>;
  deviceId?: string;
  streamId?: string;
  workflowId?: string;
  images?: EventImage[];
  customMetadata?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

const METADATA_KEY = /^[a-zA-Z0-9_ -]+$/;
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

function invalid(message: string): never {
  throw new RoboflowError('invalid-input', `Vision event: ${message}`);
}

/**
 * Makes custom metadata the API accepts: at most 100 flat keys of letters, digits,
 * space, `_` and `-` (100 characters at most); values strings (1,000 characters at
 * most), numbers or booleans. Nested values are stored as JSON text; null/undefined
 * are left out. Anything else is a clear error, never silently cut.
 */
export function toCustomMetadata(value: Record<string, unknown> | undefined): Record<string, MetadataValue> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) invalid('metadata must be an object of keys and values');
  const out: Record<string, MetadataValue> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (raw === undefined || raw === null) continue;
    if (key.length > 100) invalid(`metadata key "${key.slice(0, 30)}…" is longer than 100 characters`);
    if (!METADATA_KEY.test(key)) invalid(`metadata key "${key}" may only contain letters, digits, spaces, "_" and "-"`);
    let entry: MetadataValue;
    if (typeof raw === 'number') {
      if (!Number.isFinite(raw)) invalid(`metadata "${key}" is not a finite number`);
      entry = raw;
    } else if (typeof raw === 'boolean' || typeof raw === 'string') entry = raw;
    else if (raw instanceof Date) entry = raw.toISOString();
    else entry = JSON.stringify(raw);
    if (typeof entry === 'string' && entry.length > 1000) invalid(`metadata "${key}" is ${entry.length} characters long; at most 1000 are allowed`);
    out[key] = entry;
  }
  const count = Object.keys(out).length;
  if (count > 100) invalid(`metadata has ${count} keys; at most 100 are allowed`);
  return count > 0 ? out : undefined;
}

function toTimestamp(value: EventInput['timestamp']): string {
  if (value === undefined) return new Date().toISOString();
  const date = value instanceof Date ? value : typeof value === 'number' ? new Date(value) : new Date(value);
  if (Number.isNaN(date.getTime())) invalid(`timestamp "${String(value)}" is not a date`);
  return date.toISOString();
}

function optionalText(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') invalid(`${field} must be text`);
  if (value.length > max) invalid(`${field} is longer than ${max} characters`);
  return value;
}

/** Builds a valid REST event (new UUID v4 id unless given, `custom` type unless given). */
export function buildEvent(input: EventInput): VisionEvent {
  const useCaseId = optionalText(input.useCaseId ?? input.use_case, 'use case', 256) ?? invalid('a use case is required');
  const eventType = (input.eventType ?? 'custom') as EventType;
  if (!EVENT_TYPES.includes(eventType)) invalid(`unknown event type "${String(input.eventType)}": use ${EVENT_TYPES.join(', ')}`);
  const eventId = input.eventId ?? randomUUID();
  if (!UUID_V4.test(eventId)) invalid(`eventId "${eventId}" is not a UUID v4`);
  const event: VisionEvent = { eventId, eventType, useCaseId, timestamp: toTimestamp(input.timestamp) };
  if (input.eventData !== undefined) {
    if (typeof input.eventData !== 'object' || input.eventData === null || Array.isArray(input.eventData)) invalid('eventData must be an object');
    event.eventData = input.eventData;
  }
  const deviceId = optionalText(input.deviceId, 'deviceId', 256);
  const streamId = optionalText(input.streamId, 'streamId', 256);
  const workflowId = optionalText(input.workflowId, 'workflowId', 256);
  if (deviceId) event.deviceId = deviceId;
  if (streamId) event.streamId = streamId;
  if (workflowId) event.workflowId = workflowId;
  if (input.images && input.images.length > 0) {
    event.images = input.images;
    event.displayImagePosition = 0;
  }
  const metadata = toCustomMetadata(input.customMetadata ?? input.metadata);
  if (metadata) event.customMetadata = metadata;
  return event;
}

/**
 * Maps workflow detections onto the event's `objectDetections`. Accepts a detections
 * object (`{image, predictions: [...]}`) or a bare list of predictions.
 */
export function toObjectDetections(predictions: unknown): ObjectDetection[] {
  const list = Array.isArray(predictions)
    ? predictions
    : predictions && typeof predictions === 'object' && Array.isArray((predictions as { predictions?: unknown }).predictions)
      ? (predictions as { predictions: unknown[] }).predictions
      : invalid('predictions must be a list of detections or a detections object with "predictions"');
  return list.map((item, index) => {
    if (!item || typeof item !== 'object') invalid(`prediction ${index} is not an object`);
    const record = item as Record<string, unknown>;
    const number = (field: string): number => {
      const value = record[field];
      if (typeof value !== 'number' || !Number.isFinite(value)) invalid(`prediction ${index} has no numeric ${field}`);
      return value;
    };
    const className = record.class ?? record.class_name;
    if (typeof className !== 'string') invalid(`prediction ${index} has no class`);
    return { class: className, x: number('x'), y: number('y'), width: number('width'), height: number('height'), confidence: number('confidence') };
  });
}

/**
 * Which payload fields are the event data of each event type (the rest is custom
 * metadata). `externalId` (your own reference: a part number, an order) belongs to the
 * event data of every type but operator feedback, as in Roboflow's own block.
 */
const EVENT_DATA_FIELDS: Record<EventType, string[]> = {
  quality_check: ['result', 'externalId'],
  inventory_count: ['location', 'itemCount', 'itemType', 'externalId'],
  safety_alert: ['alertType', 'severity', 'description', 'externalId'],
  custom: ['value', 'externalId'],
  operator_feedback: ['relatedEventId', 'feedback'],
};

/**
 * Splits a flow's payload object into the event's `eventData` (the fields the event
 * type defines, e.g. `severity` for a safety alert) and `customMetadata` (everything
 * else). A non-object payload becomes `{value: payload}`.
 */
export function splitPayload(eventType: EventType, payload: unknown): { eventData?: Record<string, unknown>; metadata?: Record<string, unknown> } {
  if (payload === undefined || payload === null) return {};
  if (typeof payload !== 'object' || Array.isArray(payload) || Buffer.isBuffer(payload)) {
    return eventType === 'custom' ? { eventData: { value: payload } } : { metadata: { value: typeof payload === 'object' ? JSON.stringify(payload) : payload } };
  }
  const fields = EVENT_DATA_FIELDS[eventType] ?? [];
  const eventData: Record<string, unknown> = {};
  const metadata: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload as Record<string, unknown>)) {
    if (fields.includes(key)) eventData[key] = value;
    else metadata[key] = value;
  }
  return {
    ...(Object.keys(eventData).length > 0 ? { eventData } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
}

/** The largest image the Vision Events API takes (its upload refuses more with a 400). */
export const MAX_EVENT_IMAGE_BYTES = 20 * 1024 * 1024;

/**
 * Checks an image before it is queued, so a message that can never be delivered is
 * refused at once rather than retried: JPEG, PNG or WebP (by its first bytes), at most
 * 20 MiB. Returns its type.
 */
export function checkEventImage(bytes: Uint8Array): ImageType {
  if (bytes.byteLength === 0) invalid('the image is empty');
  if (bytes.byteLength > MAX_EVENT_IMAGE_BYTES) {
    invalid(`the image is ${(bytes.byteLength / 1024 / 1024).toFixed(1)} MiB; Vision Events take at most 20 MiB: send a smaller or more compressed image`);
  }
  return imageType(bytes) ?? invalid('the image is not a JPEG, PNG or WebP image');
}

/**
 * An image as bytes, from what flows carry: a Buffer, a Roboflow base64 image
 * (`{type: "base64", value}`), a data URL or plain base64 text. JPEG, PNG or WebP, at
 * most 20 MiB (see checkEventImage).
 */
export function toImageBuffer(value: unknown): Buffer {
  let bytes: Buffer;
  if (Buffer.isBuffer(value)) bytes = value;
  else if (value instanceof Uint8Array) bytes = Buffer.from(value);
  else if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'base64' && typeof (value as { value?: unknown }).value === 'string') {
    bytes = Buffer.from((value as { value: string }).value, 'base64');
  } else if (typeof value === 'string') {
    const match = /^data:image\/[a-z+]+;base64,(.*)$/is.exec(value);
    bytes = Buffer.from(match ? match[1] : value, 'base64');
  } else {
    invalid('the image must be a Buffer, a base64 image object, or a data URL');
  }
  checkEventImage(bytes);
  return bytes;
}
