import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { resolveConnection, type RoboflowConnection } from '../../lib';
import { tapOutput } from '../../scripts/lib/output-tap';
import { secret } from './secrets';

export const ROOT = join(__dirname, '..', '..');
/**
 * The local server's command line, from the source (TypeScript through tsx): suites run
 * the code as it is now, never a stale build. `[...CLI, ...args]` after process.execPath.
 */
export const CLI = ['--require', require.resolve('tsx/cjs'), join(ROOT, 'server', 'cli.ts')];
export const API_KEY = secret('test-key-0123456789');

export interface SessionSummary {
  id: string;
  state: string;
  source: string;
  /** Frames that reached the server (a realtime session may drop some before processing). */
  framesReceived: number;
  framesProcessed: number;
  framesAcknowledged: number;
  startedAt: string;
  endedAt?: string;
  endedReason?: string;
  /** `termination_reason` of the session's completion, once one was sent (null: a natural end). */
  completion?: string | null;
  /** What the start request asked for: a pinned workflow version, a dry run (disable_sinks). */
  workflowVersionId: string | null;
  sinksDisabled: boolean;
}

export interface Sessions {
  active: SessionSummary[];
  ended: SessionSummary[];
  started: number;
  endedTotal: number;
}

/** The most sessions that were ever running at the same moment, from their start and end times. */
export function peakConcurrency(sessions: Sessions): number {
  const edges = [...sessions.active, ...sessions.ended].flatMap((session) => [
    { at: Date.parse(session.startedAt), step: 1 },
    ...(session.endedAt ? [{ at: Date.parse(session.endedAt), step: -1 }] : []),
  ]);
  // At the same millisecond an end comes before a start: a handover is not an overlap.
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let running = 0;
  let peak = 0;
  for (const edge of edges) peak = Math.max(peak, (running += edge.step));
  return peak;
}

export interface RunningServer {
  url: string;
  process: ChildProcess;
  /** Everything the server printed (stdout + stderr), for assertions and secret scans. */
  output: string[];
  connection(overrides?: Partial<RoboflowConnection>): RoboflowConnection;
  faults(update: Record<string, unknown>): Promise<void>;
  resetFaults(): Promise<void>;
  sessions(): Promise<Sessions>;
  cameras(): Promise<Array<{ name: string; mjpeg_url: string; rtsp_url: string | null }>>;
  json<T = unknown>(path: string, init?: RequestInit): Promise<T>;
  /** How many requests the server has answered on a route (by its name, e.g. initialise_webrtc_worker). */
  requestCount(route: string): Promise<number>;
  stop(): Promise<number | null>;
  /** Stops the server and starts it again on the same port (state is lost, as in a real restart). */
  restart(downMs?: number): Promise<void>;
}

/**
 * Starts the local server (server/cli.ts, the `roboflow-local-server` bin, from source)
 * as a child process on a free port, and waits for its "listening on" line.
 */
export async function startLocalServer(args: string[] = [], env: Record<string, string> = {}): Promise<RunningServer> {
  const output: string[] = [];
  let { child, url } = await spawnServer(['--port', '0', ...args], env, output);
  const json = async <T>(path: string, init?: RequestInit): Promise<T> => {
    const response = await fetch(url + path, init);
    const text = await response.text();
    if (!response.ok) throw new Error(`${init?.method ?? 'GET'} ${path}: ${response.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const stop = (): Promise<number | null> =>
    new Promise((resolve) => {
      // A process killed by a signal has no exit code but is gone all the same.
      if (child.exitCode !== null || child.signalCode !== null) {
        resolve(child.exitCode);
        return;
      }
      child.once('exit', (code) => resolve(code));
      child.kill('SIGTERM');
    });
  const server: RunningServer = {
    url,
    process: child,
    output,
    connection: (overrides = {}) => resolveConnection({ apiKey: API_KEY, serverUrl: url, apiUrl: url, ...overrides }),
    faults: async (update) => {
      await json('/local/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(update) });
    },
    resetFaults: async () => {
      await json('/local/faults', { method: 'DELETE' });
    },
    sessions: () => json('/local/sessions'),
    cameras: () => json('/local/cameras'),
    json,
    requestCount: async (route) => (await json<Record<string, number>>('/local/requests'))[route] ?? 0,
    stop,
    restart: async (downMs = 0) => {
      await stop();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      ({ child, url } = await spawnServer([...args, '--port', new URL(url).port], env, output));
      server.process = child;
    },
  };
  return server;
}

async function spawnServer(args: string[], env: Record<string, string>, output: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [...CLI, '--api-key', API_KEY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    output.push(text);
    tapOutput('local server', text);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local server did not start: ${output.join('')}`)), 30_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (text: string) => {
      output.push(text);
      tapOutput('local server', text);
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Said in the output too: a test that loses the server mid-way shows why.
      output.push(`[local server exited: code ${code}, signal ${signal}]\n`);
      reject(new Error(`local server exited (${code}): ${output.join('')}`));
    });
  });
  return { child, url };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
