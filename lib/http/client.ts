import { createWriteStream } from 'node:fs';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, FormData, request, type Dispatcher } from 'undici';
import { DEFAULT_BACKOFF, backoffDelay, parseRetryAfter, sleep, type BackoffOptions } from '../backoff';
import { RoboflowError, errorFromResponse, errorFromTransport, type Operation } from '../errors';
import { safeLogger, type Logger } from '../logger';
import { redact } from '../redact';

/** How the API key travels for a given endpoint. */
export type AuthStyle = 'query' | 'bearer' | 'none';

export interface RetryPolicy extends BackoffOptions {
  /** Total tries, the first included. */
  attempts: number;
  /** 429 means "slow down": never retry one sooner than this. */
  min429DelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { ...DEFAULT_BACKOFF, attempts: 4, min429DelayMs: 5_000 };

export type RequestBody = string | Buffer | Uint8Array | Readable | FormData;

export interface RequestOptions {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute URL; query parameters are added from `query`. */
  url: string;
  query?: Record<string, string | number | boolean | undefined>;
  auth?: AuthStyle;
  /** A JSON body. */
  json?: unknown;
  /** Any other body, made afresh for each attempt (a stream cannot be replayed). */
  body?: () => RequestBody;
  headers?: Record<string, string>;
  /** Time allowed for the answer's headers, and between body bytes. */
  timeoutMs?: number;
  /** `false` for a single attempt. */
  retry?: Partial<RetryPolicy> | false;
  /** Names the call in error messages. */
  operation: Operation;
  signal?: AbortSignal;
  /** How to read a successful answer. */
  responseType?: 'json' | 'text' | 'none';
  /** Narrows which retryable errors this call retries (e.g. not a stream-limit 429). */
  retryIf?: (error: RoboflowError) => boolean;
  /** Called before each retry wait. */
  onRetry?: (info: { attempt: number; delayMs: number; error: RoboflowError }) => void;
}

export interface HttpResponse<T> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export interface HttpClientOptions {
  apiKey: string;
  logger?: Logger;
  /** A dispatcher of the caller's (tests, proxies); by default the client owns a keep-alive Agent. */
  dispatcher?: Dispatcher;
  userAgent?: string;
}

const USER_AGENT = 'visionflows-roboflow/0.1 (+node-red, n8n)';

/**
 * The one HTTP client of the engine: base URLs come from the connection, the key goes
 * where each endpoint wants it, failures become typed errors, and transient ones
 * (429, 5xx, network) are retried with backoff and jitter, honouring Retry-After.
 */
export class HttpClient {
  private readonly apiKey: string;
  private readonly logger: Logger;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly userAgent: string;
  private closed = false;

  constructor(options: HttpClientOptions) {
    this.apiKey = options.apiKey;
    this.logger = safeLogger(options.logger);
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: 10_000, connections: 16 });
    this.userAgent = options.userAgent ?? USER_AGENT;
  }

  /** Builds the full URL, with the key in the query string when the endpoint wants it there. */
  buildUrl(url: string, query: RequestOptions['query'] = {}, auth: AuthStyle = 'none'): string {
    const target = new URL(url);
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined) target.searchParams.set(key, String(value));
    }
    if (auth === 'query') target.searchParams.set('api_key', this.apiKey);
    return target.toString();
  }

  async request<T = unknown>(options: RequestOptions): Promise<HttpResponse<T>> {
    // A closed client is a node that was redeployed or deleted: whatever still calls it
    // must stop, not retry (undici's "The client is destroyed" would look transient).
    if (this.closed) throw closedError();
    const policy: RetryPolicy | undefined = options.retry === false ? undefined : { ...DEFAULT_RETRY, ...options.retry };
    const attempts = policy?.attempts ?? 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.once<T>(options);
      } catch (caught) {
        if (this.closed) throw closedError();
        const error = errorFromTransport(caught, options.url);
        const retry = error.retryable && (options.retryIf?.(error) ?? true);
        if (!policy || !retry || attempt >= attempts || options.signal?.aborted) throw error;
        let delayMs = Math.max(backoffDelay(attempt, policy), error.retryAfterMs ?? 0);
        if (error.status === 429) delayMs = Math.max(delayMs, policy.min429DelayMs);
        // Routine: the caller reports an outage if it lasts.
        this.logger.info(`${options.method} ${redact(options.url)} failed (${error.message}); retry ${attempt}/${attempts - 1} in ${delayMs} ms`);
        options.onRetry?.({ attempt, delayMs, error });
        await sleep(delayMs, options.signal).catch(() => {
          throw new RoboflowError('aborted', 'Request cancelled', { cause: error });
        });
      }
    }
  }

  private async once<T>(options: RequestOptions): Promise<HttpResponse<T>> {
    const auth = options.auth ?? 'none';
    const url = this.buildUrl(options.url, options.query, auth);
    const headers: Record<string, string> = { 'user-agent': this.userAgent, accept: 'application/json', ...options.headers };
    if (auth === 'bearer') headers.authorization = `Bearer ${this.apiKey}`;
    let body: RequestBody | undefined;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] = 'application/json';
    } else if (options.body) {
      body = options.body();
    }
    const timeout = options.timeoutMs ?? 30_000;
    this.logger.debug(`${options.method} ${redact(url)}`);
    const response = await request(url, {
      method: options.method,
      headers,
      body,
      dispatcher: this.dispatcher,
      headersTimeout: timeout,
      bodyTimeout: timeout,
      signal: options.signal,
    });
    const status = response.statusCode;
    if (status >= 200 && status < 300) {
      const type = options.responseType ?? 'json';
      if (type === 'none') {
        await response.body.dump();
        return { status, headers: response.headers, body: undefined as T };
      }
      const text = await response.body.text();
      if (type === 'text') return { status, headers: response.headers, body: text as T };
      if (text.trim() === '') return { status, headers: response.headers, body: undefined as T };
      try {
        return { status, headers: response.headers, body: JSON.parse(text) as T };
      } catch {
        throw new RoboflowError('protocol', `Unexpected answer from ${new URL(url).host}: not JSON (${text.slice(0, 80)})`, { status });
      }
    }
    const text = await response.body.text().catch(() => '');
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Plain-text error bodies are used as they are.
    }
    throw errorFromResponse(status, parsed, options.operation, parseRetryAfter(response.headers['retry-after']));
  }

  /** Streams a URL's body into a file (constant memory); returns the bytes written. No key is sent. */
  async download(url: string, path: string, options: { operation: Operation; signal?: AbortSignal; timeoutMs?: number }): Promise<number> {
    if (this.closed) throw closedError();
    let response: Awaited<ReturnType<typeof request>>;
    try {
      response = await request(url, {
        method: 'GET',
        headers: { 'user-agent': this.userAgent },
        dispatcher: this.dispatcher,
        headersTimeout: options.timeoutMs ?? 30_000,
        bodyTimeout: options.timeoutMs ?? 30_000,
        signal: options.signal,
      });
    } catch (error) {
      throw errorFromTransport(error, url);
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      await response.body.dump();
      throw errorFromResponse(response.statusCode, `could not download ${redact(url)}`, options.operation);
    }
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.byteLength;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(response.body, counter, createWriteStream(path));
    } catch (error) {
      throw errorFromTransport(error, url);
    }
    return bytes;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

function closedError(): RoboflowError {
  return new RoboflowError('aborted', 'The Roboflow connection was closed (its node was redeployed or deleted)');
}

export { FormData };
