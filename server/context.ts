import type { IncomingMessage } from 'node:http';
import type { Behaviour } from './behaviour';
import { HttpError } from './http';

/** What every route module of the local server shares. */
export interface ServerContext {
  /** The one API key the server accepts. */
  readonly apiKey: string;
  /** Current behaviour; routes read it on every call, so run-time changes apply at once. */
  readonly behaviour: Behaviour;
  /** Where clients reach this server, e.g. http://127.0.0.1:9001. */
  baseUrl(): string;
  /** Scratch space for uploads, jobs and generated media. */
  readonly dataDir: string;
  /** A plain function (routes pass it on unbound). */
  readonly log: (line: string) => void;
}

/** The API key of a request: `api_key` in the query or JSON body, or a Bearer token. */
export function requestKey(req: IncomingMessage, url: URL, body?: unknown): string | undefined {
  const fromQuery = url.searchParams.get('api_key');
  if (fromQuery) return fromQuery;
  if (body && typeof body === 'object' && typeof (body as { api_key?: unknown }).api_key === 'string') {
    return (body as { api_key: string }).api_key;
  }
  const header = req.headers.authorization;
  if (header && /^Bearer\s+/i.test(header)) return header.replace(/^Bearer\s+/i, '').trim();
  return undefined;
}

const UNAUTHORIZED =
  'Unauthorized access to roboflow API - check API key and make sure the key is valid for workspace you use. ' +
  'Visit https://docs.roboflow.com/api-reference/authentication#retrieve-an-api-key to learn how to retrieve one.';

/** Throws the answer Roboflow gives for a missing or wrong key. */
export function checkKey(context: ServerContext, key: string | undefined, missingStatus = 401): void {
  if (!key) {
    throw new HttpError(missingStatus, {
      message: 'Required Roboflow API key is missing. Visit https://docs.roboflow.com/api-reference/authentication#retrieve-an-api-key to learn how to retrieve one.',
    });
  }
  if (key !== context.apiKey || context.behaviour.rejectKey) throw new HttpError(401, { message: UNAUTHORIZED });
}

/** Applies injected failures for a route (failNext, garbleNext, then the random error rate). */
export function injectFault(context: ServerContext, route: string): void {
  const rule = context.behaviour.failNext[route];
  if (rule && rule.count > 0) {
    rule.count--;
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- behaviour is the JSON of the control API: a spent rule disappears from it
    if (rule.count === 0) delete context.behaviour.failNext[route];
    const headers: Record<string, string> = rule.status === 429 || rule.status === 503 ? { 'retry-after': '1' } : {};
    throw new HttpError(rule.status, { message: rule.message ?? `Injected failure (${rule.status}) for ${route}` }, headers);
  }
  const garbled = context.behaviour.garbleNext[route];
  if (garbled && garbled > 0) {
    // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- as above
    if (garbled === 1) delete context.behaviour.garbleNext[route];
    else context.behaviour.garbleNext[route] = garbled - 1;
    throw new HttpError(200, {}, {}, '<html><body>Welcome to the captive portal</body></html>');
  }
  if (context.behaviour.errorRate > 0 && Math.random() < context.behaviour.errorRate) {
    throw new HttpError(503, { message: `Injected failure (503) for ${route}` }, { 'retry-after': '1' });
  }
}
