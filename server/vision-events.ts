/**
 * Vision Events validation and storage for the local server, following the rules in
 * docs/protocol.md §5. The timestamp window is this server's own choice (documented in the
 * README): at most 30 days old and at most one hour ahead.
 */

export const EVENT_TYPES = ['quality_check', 'inventory_count', 'safety_alert', 'custom', 'operator_feedback'] as const;

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const METADATA_KEY = /^[a-zA-Z0-9_ -]+$/;
const MAX_AGE_MS = 30 * 24 * 3600 * 1000;
const MAX_AHEAD_MS = 3600 * 1000;
const TOP_LEVEL = new Set(['eventId', 'eventType', 'useCaseId', 'timestamp', 'eventData', 'deviceId', 'streamId', 'workflowId', 'images', 'customMetadata', 'displayImagePosition']);

export interface StoredEvent {
  eventId: string;
  eventType: string;
  useCaseId: string;
  timestamp: string;
  [field: string]: unknown;
}

export interface UseCase {
  id: string;
  name: string;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function optionalString(record: Record<string, unknown>, key: string, path: string, max = 1000): string | undefined {
  const value = record[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') return `${path}${key} must be a string`;
  if (value.length > max) return `${path}${key} must be at most ${max} characters`;
  return undefined;
}

function checkEventData(type: string, data: unknown): string | undefined {
  if (data === undefined) return type === 'operator_feedback' ? 'eventData is required for operator_feedback' : undefined;
  if (!isObject(data)) return 'eventData must be an object';
  const oneOf = (key: string, values: string[], required = false): string | undefined => {
    const value = data[key];
    if (value === undefined) return required ? `eventData.${key} is required for ${type}` : undefined;
    return values.includes(value as string) ? undefined : `eventData.${key} must be one of ${values.join(', ')}`;
  };
  switch (type) {
    case 'quality_check':
      return oneOf('result', ['pass', 'fail'], true) ?? optionalString(data, 'externalId', 'eventData.');
    case 'inventory_count': {
      const count = data.itemCount;
      if (count !== undefined && (typeof count !== 'number' || count < 0 || !Number.isFinite(count))) return 'eventData.itemCount must be a number >= 0';
      return optionalString(data, 'location', 'eventData.') ?? optionalString(data, 'itemType', 'eventData.');
    }
    case 'safety_alert':
      return oneOf('severity', ['low', 'medium', 'high']) ?? optionalString(data, 'alertType', 'eventData.') ?? optionalString(data, 'description', 'eventData.');
    case 'custom':
      return undefined;
    case 'operator_feedback':
      if (typeof data.relatedEventId !== 'string' || !UUID_V4.test(data.relatedEventId)) return 'eventData.relatedEventId must be the UUID of an earlier event';
      return oneOf('feedback', ['correct', 'incorrect', 'inconclusive'], true);
    default:
      return undefined;
  }
}

function checkMetadata(metadata: unknown): string | undefined {
  if (metadata === undefined) return undefined;
  if (!isObject(metadata)) return 'customMetadata must be an object';
  const keys = Object.keys(metadata);
  if (keys.length > 100) return `customMetadata has ${keys.length} keys; at most 100 are allowed`;
  for (const key of keys) {
    if (key.length > 100) return `customMetadata key "${key.slice(0, 20)}…" is longer than 100 characters`;
    if (!METADATA_KEY.test(key)) return `customMetadata key "${key}" may only contain letters, digits, spaces, "_" and "-"`;
    const value = metadata[key];
    if (typeof value === 'string') {
      if (value.length > 1000) return `customMetadata.${key} is longer than 1000 characters`;
    } else if (typeof value === 'number') {
      if (!Number.isFinite(value)) return `customMetadata.${key} must be a finite number`;
    } else if (typeof value !== 'boolean') {
      return `customMetadata.${key} must be a string, number or boolean (flat values only)`;
    }
  }
  return undefined;
}

function checkImages(images: unknown, sourceExists: (id: string) => boolean): string | undefined {
  if (images === undefined) return undefined;
  if (!Array.isArray(images)) return 'images must be a list';
  for (const [index, image] of images.entries()) {
    if (!isObject(image)) return `images[${index}] must be an object`;
    // Roboflow's own block sends the display image as sourceId and the input as
    // inputSourceId; either may be alone (docs/protocol.md §5.4, §5.8).
    if (image.sourceId === undefined && image.inputSourceId === undefined) return `images[${index}] needs a sourceId or an inputSourceId`;
    if (image.sourceId !== undefined && (typeof image.sourceId !== 'string' || !sourceExists(image.sourceId))) return `images[${index}].sourceId must name an uploaded image`;
    if (image.inputSourceId !== undefined && (typeof image.inputSourceId !== 'string' || !sourceExists(image.inputSourceId))) {
      return `images[${index}].inputSourceId must name an uploaded image`;
    }
    if (image.objectDetections !== undefined) {
      if (!Array.isArray(image.objectDetections)) return `images[${index}].objectDetections must be a list`;
      for (const [d, detection] of image.objectDetections.entries()) {
        if (!isObject(detection) || typeof detection.class !== 'string') return `images[${index}].objectDetections[${d}].class must be a string`;
        for (const field of ['x', 'y', 'width', 'height', 'confidence']) {
          if (typeof detection[field] !== 'number') return `images[${index}].objectDetections[${d}].${field} must be a number`;
        }
      }
    }
  }
  return undefined;
}

/** Which of the event's images to show first (Roboflow's block sends 0 with an image). */
function checkDisplayPosition(position: unknown, images: unknown): string | undefined {
  if (position === undefined) return undefined;
  if (typeof position !== 'number' || !Number.isInteger(position) || position < 0) return 'displayImagePosition must be a whole number >= 0';
  const count = Array.isArray(images) ? images.length : 0;
  if (position >= count) return `displayImagePosition ${position} is past the event's ${count} image(s)`;
  return undefined;
}

/** The first thing wrong with an event, or undefined when it is valid. */
export function validateEvent(event: unknown, useCaseExists: (id: string) => boolean, sourceExists: (id: string) => boolean, now = Date.now()): string | undefined {
  if (!isObject(event)) return 'an event must be a JSON object';
  for (const key of Object.keys(event)) if (!TOP_LEVEL.has(key)) return `unknown field "${key}"`;
  if (typeof event.eventId !== 'string' || !UUID_V4.test(event.eventId)) return 'eventId must be a UUID v4';
  if (!(EVENT_TYPES as readonly unknown[]).includes(event.eventType)) return `eventType must be one of ${EVENT_TYPES.join(', ')}`;
  if (typeof event.useCaseId !== 'string' || !event.useCaseId) return 'useCaseId is required';
  if (event.useCaseId.length > 256) return 'useCaseId must be at most 256 characters';
  if (!useCaseExists(event.useCaseId)) return `use case "${event.useCaseId}" does not exist in this workspace`;
  if (typeof event.timestamp !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(event.timestamp) || Number.isNaN(Date.parse(event.timestamp))) {
    return 'timestamp must be an ISO 8601 date-time';
  }
  const time = Date.parse(event.timestamp);
  if (time < now - MAX_AGE_MS) return 'timestamp is more than 30 days in the past';
  if (time > now + MAX_AHEAD_MS) return 'timestamp is more than 1 hour in the future';
  return (
    checkEventData(event.eventType as string, event.eventData) ??
    optionalString(event, 'deviceId', '', 256) ??
    optionalString(event, 'streamId', '', 256) ??
    optionalString(event, 'workflowId', '', 256) ??
    checkImages(event.images, sourceExists) ??
    checkDisplayPosition(event.displayImagePosition, event.images) ??
    checkMetadata(event.customMetadata)
  );
}

/** A use case id from its name: lower case, dashes. */
export function useCaseId(name: string): string {
  return (
    name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'use-case'
  );
}

export class VisionEventStore {
  readonly events = new Map<string, StoredEvent>();
  readonly useCases = new Map<string, UseCase>();
  readonly images = new Map<string, { data: Buffer; contentType: string; name?: string; metadata?: unknown }>();
  /** Calls that created events (single or batch): benchmarks count requests per event. */
  requests = 0;

  constructor(seedUseCases: string[]) {
    for (const name of seedUseCases) this.addUseCase(name);
  }

  addUseCase(name: string): UseCase {
    const id = useCaseId(name);
    const existing = this.useCases.get(id);
    if (existing) return existing;
    const useCase = { id, name: name.trim() };
    this.useCases.set(id, useCase);
    return useCase;
  }

  validate(event: unknown): string | undefined {
    return validateEvent(
      event,
      (id) => this.useCases.has(id),
      (id) => this.images.has(id),
    );
  }

  /** Stores an event; a repeated eventId overwrites (retries are safe). */
  put(event: StoredEvent): void {
    this.events.set(event.eventId, event);
  }

  query(filter: { useCaseId: string; startTime?: string; endTime?: string; eventType?: string; deviceId?: string; streamId?: string }): StoredEvent[] {
    const start = filter.startTime ? Date.parse(filter.startTime) : -Infinity;
    const end = filter.endTime ? Date.parse(filter.endTime) : Infinity;
    return [...this.events.values()]
      .filter((event) => event.useCaseId === filter.useCaseId)
      .filter((event) => {
        const time = Date.parse(event.timestamp);
        return time >= start && time <= end;
      })
      .filter((event) => !filter.eventType || event.eventType === filter.eventType)
      .filter((event) => !filter.deviceId || event.deviceId === filter.deviceId)
      .filter((event) => !filter.streamId || event.streamId === filter.streamId)
      .sort((a, b) => Date.parse(a.timestamp) - Date.parse(b.timestamp) || a.eventId.localeCompare(b.eventId));
  }
}
