/**
 * How the local server behaves, including the faults it injects on demand. Set at
 * start (command line, or the ROBOFLOW_LOCAL_FAULTS environment variable as JSON) and
 * changed at run time with `POST /local/faults` (same JSON; `DELETE` resets).
 */
export interface Behaviour {
  /**
   * Gzip results that carry data outputs, as the hosted service does (results without data
   * outputs and the completion message are plain JSON). On by default; off for clients
   * that cannot read gzip, such as the official JS SDK when it asks for data outputs.
   */
  gzip: boolean;
  /** Answer with a pipeline id (the older self-hosted route does); the hosted service answers null. */
  pipelineIds: boolean;
  /**
   * Behave as a self-hosted Inference server instead of the hosted service: no idle
   * watchdog, and output names checked only per frame (a bad name gives per-frame
   * errors `Output '<name>' not found` instead of a 400).
   */
  selfHosted: boolean;
  /** End every session after at most this many seconds (`timeout_reached`), whatever processing_timeout the client sent (0: off). */
  sessionTimeoutSec: number;
  /** A camera the server pulls (RTSP/MJPEG) ends this many ms after it opened, as a camera that goes away (0: never). */
  cameraEndAfterMs: number;
  /** Pull no cameras: refuse rtsp_url and mjpeg_url with 400, as a server that cannot reach them. */
  noPull: boolean;
  /** Throw an uncaught error this many ms after being set (0: never): proves children and temp files die with the server. */
  crashAfterMs: number;
  /** Concurrent streams allowed; the next one gets 429. */
  streamLimit: number;
  /** Reject every API key with 401. */
  rejectKey: boolean;
  /** Answer 404 for every saved workflow id. */
  unknownWorkflow: boolean;
  /** Share (0..1) of API calls answered 503, at random. */
  errorRate: number;
  /** Fail the next `count` calls of a route with `status`, e.g. {"initialise_webrtc_worker": {"status": 503, "count": 2}}. */
  failNext: Record<string, { status: number; count: number; message?: string }>;
  /** Answer the next `count` calls of a route with 200 and an HTML page instead of JSON, e.g. {"vision_events": 1}. */
  garbleNext: Record<string, number>;
  /** Extra processing time per frame, in ms. */
  slowFrameMs: number;
  /** Drop the peer connection abruptly after this many processed frames (0: never). */
  dropAfterFrames: number;
  /** End a session with no activity for this long (the hosted watchdog: 60 s; a session waiting for an ack is active). */
  idleTimeoutMs: number;
  /** With realtime off, frames started ahead of the last ack (hosted: 1). */
  ackWindow: number;
  /** How long a video job takes at least, in ms. */
  jobDelayMs: number;
  /** Polls of one job closer together than this get 429 with Retry-After (0: no limit). */
  jobPollIntervalMs: number;
  /** Workflow jobs: put results inline in the status answer instead of behind output_url. */
  jobResultsInline: boolean;
  /**
   * The workspace has Batch Processing (docs/protocol.md §4). Off: every Batch Processing
   * call answers 402 "Batch processing is not enabled for this workspace", as for a plan
   * without it.
   */
  batchProcessing: boolean;
  /** Files per page of a staging batch listing (0: the default, 100). */
  stagingPageSize: number;
  /**
   * Serve the InferencePipeline API (docs/protocol.md §7), as a self-hosted server started
   * with ENABLE_STREAM_API=True. Off (the hosted service): those routes answer 404.
   */
  streamApi: boolean;
  /** How long to try opening an RTSP/MJPEG URL before answering 504. */
  sourceOpenTimeoutMs: number;
  /** Send the next `count` results malformed on the data channel, in the given way (count 0: off). */
  corruptResults: { kind: CorruptionKind; count: number };
}

/**
 * Ways a result message can arrive broken: `truncated` (shorter than its 12-byte header),
 * `forged-index` (chunk index past the chunk count), `huge-count` (4,294,967,295 chunks
 * announced), `bad-json` and `bad-gzip` (complete payloads that do not decode), `text`
 * (a text message that is not JSON).
 */
export const CORRUPTION_KINDS = ['truncated', 'forged-index', 'huge-count', 'bad-json', 'bad-gzip', 'text'] as const;
export type CorruptionKind = (typeof CORRUPTION_KINDS)[number];

export const DEFAULT_BEHAVIOUR: Behaviour = {
  gzip: true,
  pipelineIds: false,
  selfHosted: false,
  sessionTimeoutSec: 0,
  cameraEndAfterMs: 0,
  noPull: false,
  crashAfterMs: 0,
  streamLimit: 10,
  rejectKey: false,
  unknownWorkflow: false,
  errorRate: 0,
  failNext: {},
  garbleNext: {},
  slowFrameMs: 0,
  dropAfterFrames: 0,
  idleTimeoutMs: 60_000,
  ackWindow: 1,
  jobDelayMs: 0,
  jobPollIntervalMs: 0,
  jobResultsInline: false,
  batchProcessing: true,
  stagingPageSize: 0,
  streamApi: false,
  sourceOpenTimeoutMs: 15_000,
  corruptResults: { kind: 'bad-json', count: 0 },
};

const NUMBER_KEYS = [
  'streamLimit',
  'errorRate',
  'slowFrameMs',
  'dropAfterFrames',
  'idleTimeoutMs',
  'ackWindow',
  'jobDelayMs',
  'jobPollIntervalMs',
  'sourceOpenTimeoutMs',
  'sessionTimeoutSec',
  'cameraEndAfterMs',
  'crashAfterMs',
  'stagingPageSize',
] as const;
const BOOLEAN_KEYS = ['gzip', 'pipelineIds', 'selfHosted', 'noPull', 'rejectKey', 'unknownWorkflow', 'jobResultsInline', 'batchProcessing', 'streamApi'] as const;

/** A copy that shares no nested object with `behaviour` (faults count down in place). */
export function copyBehaviour(behaviour: Behaviour): Behaviour {
  return { ...behaviour, failNext: { ...behaviour.failNext }, garbleNext: { ...behaviour.garbleNext }, corruptResults: { ...behaviour.corruptResults } };
}

/** Checks a partial behaviour from outside (JSON); throws with the offending key. */
export function parseBehaviour(value: unknown): Partial<Behaviour> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('faults must be a JSON object');
  const input = value as Record<string, unknown>;
  const out: Partial<Behaviour> = {};
  for (const [key, raw] of Object.entries(input)) {
    if ((NUMBER_KEYS as readonly string[]).includes(key)) {
      if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) throw new Error(`${key} must be a number >= 0`);
      (out as Record<string, unknown>)[key] = raw;
    } else if ((BOOLEAN_KEYS as readonly string[]).includes(key)) {
      if (typeof raw !== 'boolean') throw new Error(`${key} must be true or false`);
      (out as Record<string, unknown>)[key] = raw;
    } else if (key === 'failNext') {
      if (typeof raw !== 'object' || raw === null) throw new Error('failNext must map route names to {status, count}');
      const failNext: Behaviour['failNext'] = {};
      for (const [route, rule] of Object.entries(raw as Record<string, unknown>)) {
        const { status, count, message } = (rule ?? {}) as { status?: unknown; count?: unknown; message?: unknown };
        if (typeof status !== 'number' || status < 400 || status > 599) throw new Error(`failNext.${route}.status must be an HTTP error status`);
        failNext[route] = { status, count: typeof count === 'number' ? count : 1, ...(typeof message === 'string' ? { message } : {}) };
      }
      out.failNext = failNext;
    } else if (key === 'garbleNext') {
      if (typeof raw !== 'object' || raw === null) throw new Error('garbleNext must map route names to a count');
      const garbleNext: Behaviour['garbleNext'] = {};
      for (const [route, count] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) throw new Error(`garbleNext.${route} must be a whole number >= 1`);
        garbleNext[route] = count;
      }
      out.garbleNext = garbleNext;
    } else if (key === 'corruptResults') {
      const { kind, count } = (raw ?? {}) as { kind?: unknown; count?: unknown };
      if (!(CORRUPTION_KINDS as readonly unknown[]).includes(kind)) throw new Error(`corruptResults.kind must be one of ${CORRUPTION_KINDS.join(', ')}`);
      if (count !== undefined && (typeof count !== 'number' || !Number.isInteger(count) || count < 0)) throw new Error('corruptResults.count must be a whole number >= 0');
      out.corruptResults = { kind: kind as CorruptionKind, count: typeof count === 'number' ? count : 1 };
    } else {
      throw new Error(`Unknown fault or setting "${key}"`);
    }
  }
  if (out.errorRate !== undefined && out.errorRate > 1) throw new Error('errorRate must be between 0 and 1');
  return out;
}
