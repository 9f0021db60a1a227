import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { injectFault, type ServerContext } from '../context';
import { HttpError, readJson, sendJson, type Router } from '../http';
import { VisionEventStore, type StoredEvent } from '../vision-events';

const MAX_IMAGE_BYTES = 20 * 1024 * 1024;

/** Vision Events take the key only as a Bearer token, never in the URL. */
function checkBearer(context: ServerContext, req: IncomingMessage): void {
  const header = req.headers.authorization;
  const key = header && /^Bearer\s+/i.test(header) ? header.replace(/^Bearer\s+/i, '').trim() : undefined;
  if (!key || key !== context.apiKey || context.behaviour.rejectKey) {
    throw new HttpError(401, { error: 'unauthorized', message: 'A valid API key is required as "Authorization: Bearer <key>"' });
  }
}

function validation(message: string, details?: unknown): HttpError {
  return new HttpError(400, { error: 'validation', message, ...(details ? { details } : {}) });
}

interface UploadedImage {
  data: Buffer;
  contentType: string;
  name?: string;
  metadata?: unknown;
}

function readMultipart(req: IncomingMessage): Promise<UploadedImage> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 10 } });
    } catch {
      reject(validation('Expected multipart/form-data with a "file" part'));
      return;
    }
    let file: Buffer | undefined;
    let contentType = 'application/octet-stream';
    let tooBig = false;
    const fields: Record<string, string> = {};
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => (tooBig = true));
      stream.on('end', () => {
        if (field === 'file') {
          file = Buffer.concat(chunks);
          contentType = info.mimeType;
        }
      });
    });
    parser.on('field', (name, value) => (fields[name] = value));
    parser.on('error', (error) => reject(validation(`Malformed multipart body: ${(error as Error).message}`)));
    parser.on('close', () => {
      if (tooBig) {
        reject(validation(`The image is larger than ${MAX_IMAGE_BYTES} bytes`));
        return;
      }
      if (!file || file.byteLength === 0) {
        reject(validation('The "file" part is missing or empty'));
        return;
      }
      let metadata: unknown;
      if (fields.metadata !== undefined) {
        try {
          metadata = JSON.parse(fields.metadata);
        } catch {
          reject(validation('"metadata" must be a JSON string'));
          return;
        }
      }
      resolve({ data: file, contentType, name: fields.name, metadata });
    });
    req.pipe(parser);
  });
}

export function addVisionEventRoutes(router: Router, context: ServerContext, store: VisionEventStore): void {
  router.add('POST', '/vision-events', 'vision_events', async (req, res) => {
    injectFault(context, 'vision_events');
    checkBearer(context, req);
    const event = await readJson(req, 1024 * 1024);
    const problem = store.validate(event);
    if (problem) throw validation(problem);
    store.requests++;
    store.put(event as StoredEvent);
    sendJson(res, 201, { eventId: (event as StoredEvent).eventId, created: true });
  });

  router.add('POST', '/vision-events/batch', 'vision_events_batch', async (req, res) => {
    injectFault(context, 'vision_events_batch');
    checkBearer(context, req);
    const body = await readJson(req, 32 * 1024 * 1024);
    const events = body && typeof body === 'object' ? (body as { events?: unknown }).events : undefined;
    if (!Array.isArray(events) || events.length === 0) throw validation('"events" must be a non-empty list');
    if (events.length > 100) throw validation(`A batch holds at most 100 events; got ${events.length}`);
    const details = events.flatMap((event, index) => {
      const message = store.validate(event);
      return message ? [{ index, message }] : [];
    });
    if (details.length > 0) throw validation(`${details.length} of ${events.length} events are invalid; first: [${details[0].index}] ${details[0].message}`, details);
    store.requests++;
    for (const event of events) store.put(event as StoredEvent);
    sendJson(res, 201, { created: events.length, eventIds: events.map((event) => (event as StoredEvent).eventId) });
  });

  router.add('POST', '/vision-events/upload', 'vision_events_upload', async (req, res) => {
    injectFault(context, 'vision_events_upload');
    checkBearer(context, req);
    const image = await readMultipart(req);
    const isJpeg = image.data[0] === 0xff && image.data[1] === 0xd8;
    const isPng = image.data.subarray(0, 4).toString('hex') === '89504e47';
    if (!isJpeg && !isPng) throw validation('The file must be a JPEG or PNG image');
    const sourceId = randomUUID();
    store.images.set(sourceId, { ...image, contentType: isJpeg ? 'image/jpeg' : 'image/png' });
    sendJson(res, 201, { sourceId, url: `${context.baseUrl()}/local/vision-events/images/${sourceId}` });
  });

  router.add('GET', '/vision-events/use-cases', 'use_cases', (req, res) => {
    injectFault(context, 'use_cases');
    checkBearer(context, req);
    sendJson(res, 200, [...store.useCases.values()]);
  });

  router.add('POST', '/vision-events/use-cases', 'use_cases', async (req, res) => {
    injectFault(context, 'use_cases');
    checkBearer(context, req);
    const body = await readJson(req);
    const name = body && typeof body === 'object' ? (body as { name?: unknown }).name : undefined;
    if (typeof name !== 'string' || !name.trim() || name.length > 256) throw validation('"name" must be a string of 1 to 256 characters');
    sendJson(res, 201, store.addUseCase(name));
  });

  router.add('POST', '/vision-events/query', 'query', async (req, res) => {
    injectFault(context, 'query');
    checkBearer(context, req);
    const body = (await readJson(req)) as Record<string, unknown> | undefined;
    if (!body || typeof body.useCaseId !== 'string') throw validation('"useCaseId" is required');
    const limit = typeof body.limit === 'number' ? Math.min(1000, Math.max(1, Math.floor(body.limit))) : 50;
    const offset = typeof body.cursor === 'string' ? Number(Buffer.from(body.cursor, 'base64url').toString('utf8')) || 0 : 0;
    const matches = store.query({
      useCaseId: body.useCaseId,
      startTime: typeof body.startTime === 'string' ? body.startTime : undefined,
      endTime: typeof body.endTime === 'string' ? body.endTime : undefined,
      eventType: typeof body.eventType === 'string' ? body.eventType : undefined,
      deviceId: typeof body.deviceId === 'string' ? body.deviceId : undefined,
      streamId: typeof body.streamId === 'string' ? body.streamId : undefined,
    });
    const page = matches.slice(offset, offset + limit);
    const hasMore = offset + limit < matches.length;
    sendJson(res, 200, { events: page, nextCursor: hasMore ? Buffer.from(String(offset + limit)).toString('base64url') : null, hasMore });
  });

  router.add('GET', '/local/vision-events/images/:id', 'vision_event_image', (_req, res, params) => {
    const image = store.images.get(params.id);
    if (!image) throw new HttpError(404, { error: 'not_found', message: 'No such image' });
    res.writeHead(200, { 'content-type': image.contentType, 'content-length': image.data.byteLength });
    res.end(image.data);
  });

  router.add('GET', '/local/vision-events', 'local_vision_events', (_req, res) => {
    sendJson(res, 200, { events: [...store.events.values()], requests: store.requests, images: store.images.size, useCases: [...store.useCases.values()] });
  });
}
