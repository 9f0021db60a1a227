import { redact } from './redact';

/**
 * Stable error codes. Nodes switch on these (status text, retry or not); users see
 * the message, which always says what to do next.
 */
export type ErrorCode =
  | 'missing-api-key'
  | 'invalid-api-key'
  | 'forbidden'
  | 'out-of-credits'
  | 'not-found'
  | 'key-paused'
  | 'stream-limit'
  | 'rate-limited'
  | 'bad-request'
  | 'invalid-workflow'
  | 'invalid-outputs'
  | 'server-error'
  | 'bad-gateway'
  | 'unavailable'
  | 'gateway-timeout'
  | 'timeout'
  | 'network'
  | 'webrtc'
  | 'protocol'
  | 'invalid-input'
  | 'job-failed'
  /** A live source's session was completed by the server (the camera or track ended). */
  | 'source-ended'
  /** A camera read on this machine (local capture) went away or could not be opened. */
  | 'camera'
  | 'aborted';

export interface RoboflowErrorOptions {
  status?: number;
  /** The server's own words, already redacted. */
  detail?: string;
  retryable?: boolean;
  /** Server-requested wait before retrying (Retry-After), in milliseconds. */
  retryAfterMs?: number;
  cause?: unknown;
}

/** Every error the engine raises. The message is safe to show: secrets are redacted. */
export class RoboflowError extends Error {
  readonly code: ErrorCode;
  readonly status?: number;
  readonly detail?: string;
  readonly retryable: boolean;
  readonly retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, options: RoboflowErrorOptions = {}) {
    super(redact(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RoboflowError';
    this.code = code;
    this.status = options.status;
    this.detail = options.detail === undefined ? undefined : redact(options.detail);
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export function isRoboflowError(value: unknown): value is RoboflowError {
  return value instanceof RoboflowError;
}

/** What the failed call was for, so messages can name the thing to check. */
export type Operation =
  | 'stream'
  | 'terminate'
  | 'turn-config'
  | 'video-upload'
  | 'video-job'
  | 'vision-events'
  | 'vision-events-upload'
  | 'check-key'
  /** Single-image workflow and model inference over HTTP (docs/protocol.md §6). */
  | 'inference'
  /** A model's task type from the model registry (docs/protocol.md §8). */
  | 'model-lookup'
  /** Workflow jobs over the Batch Processing API (docs/protocol.md §4). */
  | 'batch-job'
  /** A self-hosted server's InferencePipeline API (docs/protocol.md §7). */
  | 'pipeline';

const notFoundHints: Record<Operation, string> = {
  stream: 'check the workspace name and workflow id',
  terminate: 'the session had already ended',
  'turn-config': 'the API URL may be wrong',
  'video-upload': 'check the API URL',
  'video-job': 'check the job id, workspace and workflow (or model) id',
  'vision-events': 'check the use case id (it must exist in the workspace)',
  'vision-events-upload': 'check the API URL',
  'check-key': 'check the API URL',
  inference: 'check the workspace and workflow id, or the model id (project/version), and the server URL',
  'model-lookup': 'check the model id (project/version) and the API URL',
  'batch-job': 'check the workspace, the workflow id and the job id',
  pipeline: 'the pipeline is not on this server (it ended, or the server restarted)',
};

/** Pulls a human message out of the error bodies Roboflow's services send. */
export function messageFromBody(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim().slice(0, 500) || undefined;
  if (body === null || typeof body !== 'object') return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ['message', 'error_message', 'detail', 'error', 'status']) {
    const value = record[key];
    if (typeof value === 'string' && value.trim() !== '') {
      const extra = typeof record.details === 'string' ? `: ${record.details}` : '';
      return (value + extra).slice(0, 500);
    }
    // FastAPI validation errors: {"detail": [{"loc": [...], "msg": "..."}]}
    if (Array.isArray(value) && value.length > 0) {
      return value
        .map((item) => {
          if (item && typeof item === 'object') {
            const entry = item as Record<string, unknown>;
            const loc = Array.isArray(entry.loc) ? entry.loc.join('.') : '';
            return `${loc ? `${loc}: ` : ''}${String(entry.msg ?? JSON.stringify(item))}`;
          }
          return String(item);
        })
        .join('; ')
        .slice(0, 500);
    }
  }
  return undefined;
}

function errorType(body: unknown): string | undefined {
  if (body && typeof body === 'object' && typeof (body as Record<string, unknown>).error_type === 'string') {
    return (body as Record<string, string>).error_type;
  }
  return undefined;
}

function withDetail(summary: string, detail: string | undefined): string {
  return detail ? `${summary} (${detail})` : summary;
}

/**
 * Maps an unsuccessful HTTP answer to a typed error whose message tells the user what
 * to do. `retryAfterMs` carries the server's Retry-After when it sent one.
 */
export function errorFromResponse(status: number, body: unknown, operation: Operation, retryAfterMs?: number): RoboflowError {
  const detail = messageFromBody(body);
  const type = errorType(body);
  const base = { status, detail, retryAfterMs };
  switch (status) {
    case 400: {
      if (type === 'WorkflowSyntaxError' || /workflow/i.test(type ?? '')) {
        return new RoboflowError('invalid-workflow', withDetail('Workflow rejected (400): fix the workflow definition', detail), base);
      }
      if (type === 'WebRTCConfigurationError' || /data_output|stream_output/.test(detail ?? '')) {
        return new RoboflowError('invalid-outputs', `Output names rejected (400): ${detail ?? 'check the data and stream outputs'}`, base);
      }
      if (/api key/i.test(detail ?? '') && /missing/i.test(detail ?? '')) {
        return new RoboflowError('missing-api-key', 'API key missing (400): set the API key in the Roboflow credentials', base);
      }
      return new RoboflowError('bad-request', `Request rejected (400): ${detail ?? 'the server did not say why'}`, base);
    }
    case 422:
      return new RoboflowError('bad-request', `Request rejected (422): ${detail ?? 'invalid request body'}`, base);
    case 401:
      return new RoboflowError('invalid-api-key', 'API key rejected (401): check the API key in the Roboflow credentials', base);
    case 402:
      // Roboflow's plan gate for Batch Processing answers 402 too (docs/protocol.md §4.6).
      if (/not enabled for this workspace|upgrade your plan/i.test(detail ?? '')) {
        return new RoboflowError('forbidden', withDetail("Not available on this workspace's plan (402)", detail), base);
      }
      return new RoboflowError('out-of-credits', 'Out of Roboflow credits (402): add credits or change plan in the Roboflow dashboard', base);
    case 403:
      return new RoboflowError(
        'forbidden',
        operation.startsWith('vision-events')
          ? 'API key not allowed (403): the key needs the vision-events:write scope'
          : 'API key not allowed (403): the key lacks access to this workspace or feature',
        base,
      );
    case 404:
      return new RoboflowError('not-found', withDetail(`Not found (404): ${notFoundHints[operation]}`, detail), base);
    case 423:
      return new RoboflowError('key-paused', 'API key usage is paused (423): resume it in the Roboflow dashboard', base);
    case 429: {
      const limit = /maximum of (\d+) concurrent stream/i.exec(detail ?? '');
      if (limit || type === 'WorkspaceStreamQuotaError') {
        const n = limit ? limit[1] : '10';
        return new RoboflowError('stream-limit', `Workspace stream limit reached (${n}): stop another stream; a crashed session frees its slot after 60 s`, { ...base, retryable: true });
      }
      return new RoboflowError('rate-limited', 'Rate limited (429): too many requests, retrying later', { ...base, retryable: true });
    }
    case 502:
      return new RoboflowError('bad-gateway', withDetail('Roboflow gateway error (502): check the API key and plan', detail), { ...base, retryable: true });
    case 503:
      return new RoboflowError('unavailable', withDetail('Service unavailable (503): retrying', detail), { ...base, retryable: true });
    case 504:
      return new RoboflowError(
        'gateway-timeout',
        operation === 'stream' ? withDetail('The worker did not answer in time (504): a cold start, or a camera URL the server cannot open', detail) : 'Gateway timeout (504): retrying',
        { ...base, retryable: true },
      );
    default:
      if (status >= 500) {
        return new RoboflowError('server-error', withDetail(`Server error (${status})`, detail), { ...base, retryable: true });
      }
      return new RoboflowError('bad-request', withDetail(`Request failed (${status})`, detail), base);
  }
}

/** Node's system error codes that mean "could not reach the server". */
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

function codeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Wraps a transport failure (refused, reset, timeout, abort) as a typed error. */
export function errorFromTransport(error: unknown, url: string): RoboflowError {
  if (isRoboflowError(error)) return error;
  const code = codeOf(error);
  const host = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  if (code === 'ABORT_ERR' || (error instanceof Error && error.name === 'AbortError')) {
    return new RoboflowError('aborted', 'Request cancelled', { cause: error });
  }
  if (code?.includes('TIMEOUT')) {
    return new RoboflowError('timeout', `No answer from ${host} in time: check the server URL and network`, {
      retryable: true,
      cause: error,
    });
  }
  if (code && networkCodes.has(code)) {
    return new RoboflowError('network', `Cannot reach ${host} (${code}): check the server URL and that the server is running`, {
      retryable: true,
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new RoboflowError('network', `Request to ${host} failed: ${message}`, { retryable: true, cause: error });
}

/** Any thrown value as a RoboflowError (unknown failures keep their message, redacted). */
export function toRoboflowError(error: unknown, fallback: ErrorCode = 'protocol'): RoboflowError {
  if (isRoboflowError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RoboflowError(fallback, message, { cause: error });
}
