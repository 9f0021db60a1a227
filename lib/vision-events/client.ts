import type { RoboflowConnection } from '../config';
import { RoboflowError } from '../errors';
import { FormData, HttpClient } from '../http/client';
import { MIME_TYPES, imageType } from '../image';
import type { Logger } from '../logger';
import type { VisionEvent } from './builder';

export const MAX_BATCH = 100;

export interface UseCase {
  id: string;
  name: string;
}

export interface EventQuery {
  useCaseId: string;
  startTime?: string;
  endTime?: string;
  limit?: number;
  cursor?: string;
  eventType?: string;
  deviceId?: string;
  streamId?: string;
}

export interface VisionEventsClientOptions {
  connection: RoboflowConnection;
  http?: HttpClient;
  logger?: Logger;
}

function listFrom(body: unknown, ...keys: string[]): unknown[] {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    for (const key of keys) {
      const value = (body as Record<string, unknown>)[key];
      if (Array.isArray(value)) return value;
    }
  }
  throw new RoboflowError('protocol', 'Unexpected answer: expected a list');
}

/**
 * Roboflow Vision Events (docs/protocol.md §5). The key travels as a Bearer token only.
 * Event ids are UUIDs chosen client-side, so retrying a create never duplicates.
 */
export class VisionEventsClient {
  private readonly connection: RoboflowConnection;
  private readonly http: HttpClient;
  private readonly ownsHttp: boolean;
  private useCaseCache: UseCase[] | undefined;

  constructor(options: VisionEventsClientOptions) {
    this.connection = options.connection;
    this.ownsHttp = options.http === undefined;
    this.http = options.http ?? new HttpClient({ apiKey: options.connection.apiKey, logger: options.logger });
  }

  private url(path: string): string {
    return `${this.connection.apiUrl}/vision-events${path}`;
  }

  async create(event: VisionEvent, signal?: AbortSignal): Promise<{ eventId: string }> {
    const response = await this.http.request<{ eventId?: string }>({ method: 'POST', url: this.url(''), auth: 'bearer', json: event, operation: 'vision-events', signal });
    return { eventId: response.body?.eventId ?? event.eventId };
  }

  /** Creates events in requests of at most 100. Returns every created id, in order. */
  async createBatch(events: VisionEvent[], signal?: AbortSignal): Promise<{ created: number; eventIds: string[] }> {
    const eventIds: string[] = [];
    for (let start = 0; start < events.length; start += MAX_BATCH) {
      const part = events.slice(start, start + MAX_BATCH);
      const response = await this.http.request<{ created?: number; eventIds?: string[] }>({
        method: 'POST',
        url: this.url('/batch'),
        auth: 'bearer',
        json: { events: part },
        operation: 'vision-events',
        signal,
      });
      eventIds.push(...(response.body?.eventIds ?? part.map((event) => event.eventId)));
    }
    return { created: eventIds.length, eventIds };
  }

  /** Uploads an image to attach to events (`images[].sourceId`). */
  async uploadImage(data: Uint8Array, options: { name?: string; metadata?: Record<string, unknown>; contentType?: string; signal?: AbortSignal } = {}): Promise<{ sourceId: string; url?: string }> {
    if (!(data instanceof Uint8Array) || data.byteLength === 0) throw new RoboflowError('invalid-input', 'Vision event image is empty');
    const type = imageType(data) ?? 'jpeg';
    const contentType = options.contentType ?? MIME_TYPES[type];
    const response = await this.http.request<{ sourceId?: string; url?: string }>({
      method: 'POST',
      url: this.url('/upload'),
      auth: 'bearer',
      body: () => {
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(data)], { type: contentType }), options.name ?? `image.${type === 'jpeg' ? 'jpg' : type}`);
        if (options.name) form.append('name', options.name);
        if (options.metadata) form.append('metadata', JSON.stringify(options.metadata));
        return form;
      },
      operation: 'vision-events-upload',
      timeoutMs: 60_000,
      signal: options.signal,
    });
    if (typeof response.body?.sourceId !== 'string') throw new RoboflowError('protocol', 'Image upload answered without a sourceId');
    return { sourceId: response.body.sourceId, ...(response.body.url ? { url: response.body.url } : {}) };
  }

  async listUseCases(signal?: AbortSignal): Promise<UseCase[]> {
    const response = await this.http.request({ method: 'GET', url: this.url('/use-cases'), auth: 'bearer', operation: 'vision-events', signal });
    // `{useCases, lookbackDays}` today; older answers named the list `solutions`.
    const list = listFrom(response.body, 'useCases', 'solutions', 'data', 'items').filter((item): item is UseCase => !!item && typeof (item as UseCase).id === 'string');
    this.useCaseCache = list;
    return list;
  }

  async createUseCase(name: string, signal?: AbortSignal): Promise<UseCase> {
    const response = await this.http.request<UseCase>({ method: 'POST', url: this.url('/use-cases'), auth: 'bearer', json: { name }, operation: 'vision-events', signal });
    if (!response.body || typeof response.body.id !== 'string') throw new RoboflowError('protocol', 'Creating the use case returned no id');
    this.useCaseCache = undefined;
    return response.body;
  }

  /**
   * The id of a use case given by id or by name; with `create`, a missing one is made.
   * Names are matched case-insensitively.
   */
  async resolveUseCase(idOrName: string, options: { create?: boolean; signal?: AbortSignal } = {}): Promise<string> {
    const wanted = idOrName.trim();
    if (!wanted) throw new RoboflowError('invalid-input', 'Vision event: a use case is required');
    const find = (list: UseCase[]): UseCase | undefined => list.find((useCase) => useCase.id === wanted) ?? list.find((useCase) => useCase.name?.toLowerCase() === wanted.toLowerCase());
    const found = find(this.useCaseCache ?? []) ?? find(await this.listUseCases(options.signal));
    if (found) return found.id;
    if (!options.create) throw new RoboflowError('not-found', `Vision Events use case "${wanted}" does not exist: create it in Roboflow, or allow creating it`);
    return (await this.createUseCase(wanted, options.signal)).id;
  }

  async query(query: EventQuery, signal?: AbortSignal): Promise<{ events: VisionEvent[]; nextCursor: string | null; hasMore: boolean }> {
    const response = await this.http.request<{ events?: VisionEvent[]; nextCursor?: string | null; hasMore?: boolean }>({
      method: 'POST',
      url: this.url('/query'),
      auth: 'bearer',
      json: query,
      operation: 'vision-events',
      signal,
    });
    return { events: response.body?.events ?? [], nextCursor: response.body?.nextCursor ?? null, hasMore: response.body?.hasMore ?? false };
  }

  async close(): Promise<void> {
    if (this.ownsHttp) await this.http.close();
  }
}
